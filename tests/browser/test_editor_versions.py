"""Publish, revert, history and the draft-vs-version diff from the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import open_editor, open_file, type_at_end
from tests.conftest import bearer


def _publish(page, expected_suggestion: str, message: str) -> None:
    page.get_by_role("button", name="Publish…").click()
    dialog = page.locator("#publish-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Version")).to_have_value(expected_suggestion)
    dialog.get_by_label("Message").fill(message)
    dialog.get_by_role("button", name="Publish", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#published-badge")).to_have_text(
        f"live: v{expected_suggestion}"
    )


def test_publish_revert_history_and_diff(new_page, ws, config, api):
    token = ws["tokens"]["publisher"]
    page = new_page(token=token)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_editor(page, config)
    page.get_by_role("button", name="Copy").click()
    clone_url = page.evaluate("navigator.clipboard.readText()")
    assert clone_url.endswith(f"/git/acme/{config['slug']}.git")
    expect(page.locator("#published-badge")).to_have_text("not published")
    expect(page.get_by_role("button", name="Revert…")).to_be_disabled()
    _publish(page, "1.0.0", "First release")

    open_file(page, "run.py")
    type_at_end(page, "# second release\n")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    _publish(page, "1.0.1", "Second release")

    # A publish that is not greater than the last one shows the API's reason.
    page.get_by_role("button", name="Publish…").click()
    page.locator("#publish-dialog").get_by_label("Version").fill("1.0.0")
    page.locator("#publish-dialog").get_by_role(
        "button", name="Publish", exact=True
    ).click()
    expect(page.locator("#publish-error")).not_to_be_empty()
    page.locator("#publish-dialog").get_by_role("button", name="Cancel").click()

    page.get_by_role("button", name="Revert…").click()
    revert = page.locator("#revert-dialog")
    expect(revert).to_contain_text(
        "v1.0.1 becomes deprecated; v1.0.0 is published again"
    )
    revert.get_by_role("button", name="Revert").click()
    expect(revert).to_be_hidden()
    expect(page.locator("#published-badge")).to_have_text("live: v1.0.0")
    cfg = api.get(
        f"/api/v1/workspaces/acme/configs/{config['id']}", headers=bearer(token)
    )
    assert cfg.json["published"]["semver"] == "1.0.0"

    page.locator("#tree").get_by_role("button", name="Versions and commits").click()
    rows = page.locator("#versions-table tbody")
    expect(rows.locator('tr[data-version="1.0.0"]')).to_contain_text("published")
    expect(rows.locator('tr[data-version="1.0.1"]')).to_contain_text("deprecated")
    expect(rows.locator('tr[data-version="draft"]')).to_be_visible()
    expect(page.locator("#commit-list")).to_contain_text("run.py")

    rows.locator('tr[data-version="1.0.0"]').get_by_role("button").click()
    expect(page.locator("#view-diff")).to_be_visible()
    expect(page.locator(".diff-file h2")).to_have_text("modified run.py")
    expect(page.locator(".patch .add")).to_contain_text(["+# second release"])
    assert page.errors == [] and page.blocked == []


def test_history_shows_a_commit_subject_with_the_body_on_hover(
    new_page, ws, config, api, live_app
):
    """A commit pushed with git has a subject, a blank line and a body: the list
    shows the subject, the whole message is its tooltip."""
    from app.web import get_store
    from repos.types import Author

    token = ws["tokens"]["author"]
    ws_id = api.get("/api/v1/workspaces/acme", headers=bearer(token)).json["id"]
    with live_app.app_context():
        get_store().open(ws_id, config["id"]).write_file(
            "run.py",
            b"# pushed\n",
            author=Author("Ada", "ada@example.com"),
            message='Revert "socket"\n\nThis reverts commit b2645b48.\n',
        )
    page = new_page(token=token)
    open_editor(page, config)
    page.locator("#tree").get_by_role("button", name="Versions and commits").click()
    subject = page.locator("#commit-list li").first.locator("strong")
    expect(subject).to_have_text('Revert "socket"')
    expect(subject).to_have_attribute(
        "title", 'Revert "socket"\n\nThis reverts commit b2645b48.'
    )
    assert page.errors == [] and page.blocked == []
