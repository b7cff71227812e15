"""Files from the tree: new (from a template), rename/move and delete through the
context menu and the keyboard, the filter box, the marks of files changed since
the live version, guardrails as you type and completion of the script API."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import (
    editor_value,
    markers,
    open_editor,
    open_file,
    tree_item,
    type_at_end,
)
from tests.conftest import bearer


def _paths(api, token, config):
    url = f"/api/v1/workspaces/acme/configs/{config['id']}/draft/files"
    return {f["path"] for f in api.get(url, headers=bearer(token)).json}


def test_new_rename_delete_from_menu_and_keyboard(new_page, ws, config, api):
    token = ws["tokens"]["author"]
    page = new_page(token=token)
    open_editor(page, config)

    # New file (Alt+N), from the API's templates.
    page.keyboard.press("Alt+n")
    dialog = page.locator("#new-file-dialog")
    expect(dialog).to_be_visible()
    options = dialog.locator("#new-file-template option")
    expect(options).to_have_count(5)  # the default + runner.scaffold.TEMPLATES
    dialog.get_by_label("Path").fill("lib/helpers.py")
    dialog.get_by_label("Start from").select_option("blank")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(
        page.locator('#tabs .tab.active[data-path="lib/helpers.py"]')
    ).to_be_visible()
    expect(page).to_have_url(f"{config['editor']}/files/lib/helpers.py")

    # Rename it from the context menu (right click).
    tree_item(page, "lib/helpers.py").click(button="right")
    menu = page.locator("#tree-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("menuitem", name="Rename / move…").click()
    rename = page.locator("#rename-file-dialog")
    rename.get_by_label("New path").fill("lib/util.py")
    rename.get_by_role("button", name="Rename").click()
    expect(rename).to_be_hidden()
    # The moved file opens (and Monaco takes the focus) once the draft is read.
    expect(page.locator('#tabs .tab.active[data-path="lib/util.py"]')).to_be_visible()
    expect(tree_item(page, "lib/util.py")).to_be_visible()
    expect(tree_item(page, "lib/helpers.py")).to_have_count(0)
    assert {"lib/util.py"} <= _paths(api, token, config)

    # A column script the manifest names moves with its entry (F2 on the item).
    tree_item(page, "columns/email.py").focus()
    page.keyboard.press("F2")
    rename.get_by_label("New path").fill("columns/mail.py")
    rename.get_by_role("button", name="Rename").click()
    expect(rename).to_be_hidden()
    # Focus the tree only after the moved file has opened and taken the focus.
    expect(
        page.locator('#tabs .tab.active[data-path="columns/mail.py"]')
    ).to_be_visible()
    expect(tree_item(page, "columns/mail.py")).to_contain_text("Email")
    # ... but not out of columns/: the manifest check says why.
    tree_item(page, "columns/mail.py").focus()
    page.keyboard.press("F2")
    expect(rename).to_be_visible()
    rename.get_by_label("New path").fill("lib/mail.py")
    rename.get_by_role("button", name="Rename").click()
    expect(page.locator("#rename-file-error")).to_contain_text("columns/")
    rename.get_by_role("button", name="Cancel").click()

    # Delete with the Delete key; a file the manifest names is refused with a reason.
    tree_item(page, "lib/util.py").focus()
    page.keyboard.press("Delete")
    delete = page.locator("#delete-file-dialog")
    expect(delete).to_contain_text("lib/util.py")
    delete.get_by_role("button", name="Delete").click()
    expect(delete).to_be_hidden()
    expect(tree_item(page, "lib/util.py")).to_have_count(0)
    tree_item(page, "columns/mail.py").focus()
    page.keyboard.press("Shift+F10")
    menu.get_by_role("menuitem", name="Delete…").click()
    delete.get_by_role("button", name="Delete").click()
    expect(page.locator("#delete-file-error")).to_contain_text("named by the manifest")
    delete.get_by_role("button", name="Cancel").click()
    paths = _paths(api, token, config)
    assert "lib/util.py" not in paths and "columns/mail.py" in paths

    # The filter box narrows the tree to matching files.
    page.get_by_label("Filter files").fill("valid")
    expect(tree_item(page, "table/validators.py")).to_be_visible()
    expect(tree_item(page, "run.py")).to_be_hidden()
    page.get_by_label("Filter files").fill("")
    expect(tree_item(page, "run.py")).to_be_visible()
    assert page.errors == [] and page.blocked == []


def test_changed_since_live_marks(new_page, ws, config, api):
    token = ws["tokens"]["publisher"]
    base = f"/api/v1/workspaces/acme/configs/{config['id']}"
    assert (
        api.post(
            f"{base}/publish", json={"semver": "1.0.0"}, headers=bearer(token)
        ).status_code
        == 201
    )
    run = api.get(f"{base}/draft/files/run.py", headers=bearer(token)).json
    api.put(
        f"{base}/draft/files/run.py",
        json={"code": run["code"] + "# changed\n"},
        headers={**bearer(token), "If-Match": run["sha"]},
    )
    page = new_page(token=token)
    open_editor(page, config)
    expect(tree_item(page, "run.py").locator(".change")).to_have_text("M")
    expect(tree_item(page, "startup.py").locator(".change")).to_have_count(0)
    # A new file is marked as added once saved.
    page.keyboard.press("Alt+n")
    page.locator("#new-file-dialog").get_by_label("Path").fill("notes.md")
    page.locator("#new-file-dialog").get_by_role("button", name="Create").click()
    expect(tree_item(page, "notes.md").locator(".change")).to_have_text("A")
    assert page.errors == []


def test_guardrail_marker_while_typing_and_hook_completion(new_page, ws, config):
    page = new_page(token=ws["tokens"]["author"])
    open_editor(page, config)
    open_file(page, "columns/email.py")
    expect(page.locator("body")).to_have_attribute("data-script-api", "ready")
    type_at_end(page, "\nimport socket\n")
    # No save: the text is checked a moment after typing stops.
    expect(page.locator("#warning-list")).to_contain_text("socket")
    expect(page.locator("#warnings-source")).to_have_text("(as you type)")
    page.wait_for_function(
        """() => window.monaco.editor.getModelMarkers({}).some(
            (m) => m.message.includes("socket"))"""
    )
    assert any("socket" in m for m in markers(page, "columns/email.py"))
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")

    # Completion of a hook name, with its whole signature.
    type_at_end(page, "\n\ndef transform_c")
    page.keyboard.press("Control+Space")
    suggestion = page.locator(
        ".suggest-widget .monaco-list-row", has_text="transform_cell"
    )
    expect(suggestion.first).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Space")
    expect(page.locator(".suggest-widget")).to_be_visible()
    page.keyboard.type("ol")  # narrow to transform_column
    page.keyboard.press("Enter")
    assert "def transform_column(*, values, field, state, ctx, **_):" in editor_value(
        page
    )
    # ctx members complete after "ctx.".
    page.keyboard.type("ctx.")
    expect(
        page.locator(".suggest-widget .monaco-list-row", has_text="log").first
    ).to_be_visible()
    page.keyboard.press("Escape")

    # manifest.json: a problem is placed on its line.
    open_file(page, "manifest.json")
    page.evaluate(
        """() => { const m = window.adeEditor.files.editor.getModel();
            const key = '"min_score"';
            m.setValue(m.getValue().replace(key, '"colour": 1,\\n  ' + key)); }"""
    )
    expect(page.locator("#warning-list")).to_contain_text("colour")
    line = page.evaluate(
        """() => window.monaco.editor.getModelMarkers({}).find(
            (m) => m.message.includes("colour")).startLineNumber"""
    )
    text = page.evaluate("window.adeEditor.files.editor.getValue()")
    assert text.splitlines()[line - 1].strip().startswith('"colour"')
    assert page.errors == [] and page.blocked == []


def _hover(page, line: int, word: str):
    """Move the mouse onto ``word`` on ``line`` of the open file, like a user."""
    point = page.evaluate(
        """([line, word]) => {
            const ed = window.adeEditor.files.editor;
            const column = ed.getModel().getLineContent(line).indexOf(word) + 2;
            const pos = {lineNumber: line, column};
            ed.revealPosition(pos);
            const p = ed.getScrolledVisiblePosition(pos);
            const box = ed.getDomNode().getBoundingClientRect();
            return {x: box.left + p.left + 1, y: box.top + p.top + p.height / 2};
        }""",
        [line, word],
    )
    page.mouse.move(0, 0)
    # A few move events ending on the word, as a real pointer makes.
    page.mouse.move(point["x"] - 4, point["y"])
    page.mouse.move(point["x"], point["y"], steps=4)
    return page.locator(".monaco-hover:not(.hidden)")


def test_hover_explains_hooks_arguments_and_ctx(new_page, ws, config, api):
    described = api.get(
        "/api/v1/script-api", headers=bearer(ws["tokens"]["author"])
    ).json
    log = next(m for m in described["ctx"] if m["name"] == "log")
    page = new_page(token=ws["tokens"]["author"])
    open_editor(page, config)
    open_file(page, "columns/email.py")
    # Hover providers exist once the script API's description has loaded.
    expect(page.locator("body")).to_have_attribute("data-script-api", "ready")
    page.evaluate(
        """() => window.adeEditor.files.editor.setValue(
            'def transform_cell(*, value, field, ctx, **_):\\n'
            + '    ctx.log(value)\\n    return value\\n')"""
    )
    hover = _hover(page, 1, "transform_cell")
    expect(hover).to_contain_text("def transform_cell(")
    hover = _hover(page, 2, "log")
    expect(hover).to_contain_text(f"ctx.{log['name']}")
    expect(hover).to_contain_text(log["doc"][:30])
    # An argument of the enclosing hook names the hook it belongs to.
    hover = _hover(page, 1, "value")
    expect(hover).to_contain_text("transform_cell")
    assert page.errors == [] and page.blocked == []
