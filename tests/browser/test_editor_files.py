"""Open, edit and save files; the stale-save conflict; the Add Column wizard."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import (
    editor_value,
    open_editor,
    open_file,
    save_screenshot,
    type_at_end,
)
from tests.conftest import bearer

EMAIL = "columns/email.py"


def _file(api, token, config, path):
    url = f"/api/v1/workspaces/acme/configs/{config['id']}/draft/files/{path}"
    resp = api.get(url, headers=bearer(token))
    assert resp.status_code == 200, resp.json
    return resp.json


def test_open_edit_and_save(new_page, ws, config, api):
    token = ws["tokens"]["author"]
    page = new_page(token=token)
    open_editor(page, config)
    open_file(page, EMAIL)
    assert "def detect_header" in editor_value(page)
    # Python highlighting: Monaco tokenized the file with its Python grammar.
    assert (
        page.evaluate("window.adeEditor.files.editor.getModel().getLanguageId()")
        == "python"
    )
    expect(page.locator("#monaco .view-line .mtk1").first).to_be_visible()

    type_at_end(page, "# saved from the browser\n")
    tab = page.locator(f'#tabs .tab[data-path="{EMAIL}"]')
    expect(tab).to_have_class("tab active dirty")
    expect(page.locator("#save")).to_be_enabled()
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    expect(tab).not_to_have_class("tab active dirty")
    assert "# saved from the browser" in _file(api, token, config, EMAIL)["code"]

    # The Save button works too, and a guardrail finding comes back inline.
    type_at_end(page, "import os\n")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved")
    expect(page.locator("#warning-list")).to_contain_text("os")
    open_file(page, "run.py")
    open_file(page, EMAIL)
    type_at_end(page, "# not saved yet")
    save_screenshot(page, "editor-file.png")

    # Leaving with unsaved changes asks first: in-app links, then the tab itself.
    asked = []

    def answer(dialog):
        asked.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.on("dialog", answer)
    page.locator("header").get_by_role("link", name="acme").click()
    assert asked and asked[0][0] == "confirm" and "unsaved changes" in asked[0][1]
    assert page.url.endswith(f"{config['editor']}/files/{EMAIL}")
    with page.expect_event("dialog"):  # the tab's own beforeunload prompt
        page.close(run_before_unload=True)
    assert [kind for kind, _ in asked] == ["confirm", "beforeunload"]
    assert page.errors == [] and page.blocked == []


def test_stale_save_conflict_compare_overwrite(new_page, ws, config, api):
    token = ws["tokens"]["author"]
    mine = new_page(token=token)
    theirs = new_page(token=token)
    for page in (mine, theirs):
        open_editor(page, config)
        open_file(page, EMAIL)

    type_at_end(mine, "# mine\n")
    type_at_end(theirs, "# theirs\n")
    theirs.keyboard.press("Control+s")
    expect(theirs.locator("#save-state")).to_have_text("Saved")

    mine.keyboard.press("Control+s")
    notice = mine.locator("#conflict")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"Someone else saved {EMAIL}")
    expect(mine.locator(f'#tabs .tab[data-path="{EMAIL}"]')).to_have_class(
        "tab active dirty"
    )

    mine.get_by_role("button", name="Compare…").click()
    expect(mine.locator("#compare-dialog")).to_be_visible()
    expect(mine.locator("#compare-host .monaco-diff-editor")).to_be_visible()
    sides = mine.evaluate(
        "(() => { const m = window.adeEditor.files.diff.getModel();"
        " return [m.original.getValue(), m.modified.getValue()]; })()"
    )
    assert "# theirs" in sides[0] and "# mine" not in sides[0]
    assert "# mine" in sides[1] and "# theirs" not in sides[1]

    mine.get_by_role("button", name="Overwrite with mine").click()
    expect(mine.locator("#compare-dialog")).to_be_hidden()
    expect(notice).to_be_hidden()
    expect(mine.locator("#save-state")).to_have_text("Saved")
    saved = _file(api, token, config, EMAIL)["code"]
    assert "# mine" in saved and "# theirs" not in saved
    assert mine.errors == [] and theirs.errors == []


def test_reload_theirs_after_conflict(new_page, ws, config, api):
    token = ws["tokens"]["author"]
    page = new_page(token=token)
    open_editor(page, config)
    open_file(page, "run.py")
    type_at_end(page, "# lost\n")
    path = f"/api/v1/workspaces/acme/configs/{config['id']}/draft/files/run.py"
    current = _file(api, token, config, "run.py")
    resp = api.put(
        path,
        json={"code": current["code"] + "# from a script\n"},
        headers={**bearer(token), "If-Match": current["sha"]},
    )
    assert resp.status_code == 200, resp.json
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#conflict")).to_be_visible()
    page.get_by_role("button", name="Reload theirs").click()
    expect(page.locator("#conflict")).to_be_hidden()
    assert "# from a script" in editor_value(page)
    assert "# lost" not in editor_value(page)
    expect(page.locator("#save")).to_be_disabled()


def test_add_column_wizard_is_one_commit(new_page, ws, config, api):
    token = ws["tokens"]["author"]
    history = f"/api/v1/workspaces/acme/configs/{config['id']}/history"
    before = api.get(history, headers=bearer(token)).json
    page = new_page(token=token)
    open_editor(page, config)
    page.get_by_role("button", name="+ Add column").click()
    dialog = page.locator("#add-column-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Label").fill("Postal Code")
    expect(dialog.get_by_label("Key")).to_have_value("postal_code")
    dialog.get_by_label("Required").check()
    dialog.get_by_role("button", name="Add column").click()
    expect(dialog).to_be_hidden()
    expect(
        page.locator('#tree button[data-path="columns/postal_code.py"]')
    ).to_contain_text("Postal Code *")
    expect(
        page.locator('#tabs .tab.active[data-path="columns/postal_code.py"]')
    ).to_be_visible()
    assert "def detect_header" in editor_value(page)

    after = api.get(history, headers=bearer(token)).json
    assert len(after) == len(before) + 1
    manifest = api.get(
        f"/api/v1/workspaces/acme/configs/{config['id']}/draft/manifest",
        headers=bearer(token),
    ).json
    column = next(c for c in manifest["columns"] if c["key"] == "postal_code")
    assert column["label"] == "Postal Code" and column["required"] is True

    # A second column with the same key is refused and the dialog says why.
    page.get_by_role("button", name="+ Add column").click()
    dialog.get_by_label("Label").fill("Postal code")
    dialog.get_by_role("button", name="Add column").click()
    expect(page.locator("#add-column-error")).not_to_be_empty()
    assert page.errors == []
