"""Publish, revert, history and the draft-vs-version diff from the browser."""

from __future__ import annotations

import re

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
    revert_button = page.get_by_role("button", name="Revert…")
    expect(revert_button).to_be_disabled()
    expect(revert_button).to_have_attribute("title", re.compile("Nothing is published"))
    _publish(page, "1.0.0", "First release")
    # One version only: still nothing earlier to go back to, and the page says so.
    expect(revert_button).to_be_disabled()
    expect(revert_button).to_have_attribute("title", re.compile("first version"))
    page.locator("#tree").get_by_role("button", name="Versions and commits").click()
    expect(page.locator("#revert-explain")).to_contain_text(
        "Revert is not available: v1.0.0 is the first version"
    )

    open_file(page, "run.py")
    type_at_end(page, "# second release\n")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    # The publish dialog shows the diff against the live version and the plan.
    page.get_by_role("button", name="Publish…").click()
    dialog = page.locator("#publish-dialog")
    expect(dialog.locator("#publish-diff")).to_have_text(
        "Changes since v1.0.0 (live): 1 file changed, +1 −0"
    )
    expect(dialog.locator(".publish-files")).to_contain_text("modified run.py +1 −0")
    expect(dialog.locator("#publish-warnings")).to_have_text(
        "The plan has no warnings."
    )
    dialog.get_by_role("button", name="Cancel").click()
    _publish(page, "1.0.1", "Second release")

    # A publish that is not greater than the last one shows the API's reason.
    page.get_by_role("button", name="Publish…").click()
    dialog.get_by_label("Version").fill("1.0.0")
    dialog.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#publish-error")).not_to_be_empty()
    dialog.get_by_role("button", name="Cancel").click()

    page.locator("#tree").get_by_role("button", name="Versions and commits").click()
    first_published = page.locator(
        '#versions-table tr[data-version="1.0.0"] .published-at'
    ).inner_text()
    page.get_by_role("button", name="Revert…").click()
    revert = page.locator("#revert-dialog")
    expect(revert.locator("#revert-plan")).to_have_text(
        "v1.0.0 becomes live again; v1.0.1 becomes deprecated."
    )
    expect(revert).to_contain_text("highest version below the live one: v1.0.0")
    expect(revert).to_contain_text("The draft is not changed.")
    revert.get_by_role("button", name="Revert").click()
    expect(revert).to_be_hidden()
    expect(page.locator("#published-badge")).to_have_text("live: v1.0.0")
    cfg = api.get(
        f"/api/v1/workspaces/acme/configs/{config['id']}", headers=bearer(token)
    )
    assert cfg.json["published"]["semver"] == "1.0.0"

    rows = page.locator("#versions-table tbody")
    expect(rows.locator('tr[data-version="1.0.0"]')).to_contain_text("published")
    expect(rows.locator('tr[data-version="1.0.1"]')).to_contain_text("deprecated")
    expect(rows.locator('tr[data-version="draft"]')).to_be_visible()
    # History keeps the original publish time of the version made live again.
    expect(rows.locator('tr[data-version="1.0.0"] .published-at')).to_have_text(
        first_published
    )
    expect(page.locator("#commit-list")).to_contain_text("run.py")
    expect(revert_button).to_be_disabled()  # 1.0.0 is live and first again

    rows.locator('tr[data-version="1.0.0"]').get_by_role("button").click()
    expect(page).to_have_url(f"{config['editor']}/history/v1.0.0")
    expect(page.locator("#view-version")).to_be_visible()
    expect(page.locator(".diff-file h3")).to_have_text("modified run.py +1 −0")
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
