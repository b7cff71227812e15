"""Every view has its own address: deep links, Back and Forward, a reload that
returns to the view with unsaved text still there and guarded; the layout at
1000 px; a network failure inside a dialog is shown to the user."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import editor_value, open_editor, type_at_end
from tests.conftest import bearer


def _ready(page):
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def test_deep_links_back_forward_and_reload(new_page, ws, config, api):
    token = ws["tokens"]["publisher"]
    base = f"/api/v1/workspaces/acme/configs/{config['id']}"
    v1 = api.post(f"{base}/publish", json={"semver": "1.0.2"}, headers=bearer(token))
    assert v1.status_code == 201
    editor = config["editor"]
    page = new_page(token=token)

    page.goto(f"{editor}/files/columns/email.py")
    _ready(page)
    expect(
        page.locator('#tabs .tab.active[data-path="columns/email.py"]')
    ).to_be_visible()
    assert "def detect_header" in editor_value(page)

    page.locator("#tree").get_by_role("button", name="Dry run").click()
    expect(page).to_have_url(f"{editor}/dry-run")
    page.locator("#tree").get_by_role("button", name="Versions and commits").click()
    expect(page).to_have_url(f"{editor}/history")
    page.locator('#versions-table tr[data-version="1.0.2"] a').click()
    expect(page).to_have_url(f"{editor}/history/v1.0.2")
    expect(page.locator("#version-heading")).to_have_text("Version v1.0.2")
    expect(page.locator("#diff-body")).to_contain_text("No differences")

    page.go_back()
    expect(page).to_have_url(f"{editor}/history")
    expect(page.locator("#view-history")).to_be_visible()
    page.go_back()
    expect(page.locator("#view-dryrun")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{editor}/files/columns/email.py")
    expect(page.locator("#view-editor")).to_be_visible()
    page.go_forward()
    expect(page.locator("#view-dryrun")).to_be_visible()

    # Deep links straight into a version and a job.
    page.goto(f"{editor}/history/v1.0.2")
    _ready(page)
    expect(page.locator("#view-version")).to_be_visible()
    doc = api.post(
        "/api/v1/workspaces/acme/documents",
        data={"file": (open(_workbook(page), "rb"), "r.xlsx")},
        headers=bearer(token),
        content_type="multipart/form-data",
    ).json
    job = api.post(
        "/api/v1/workspaces/acme/jobs",
        json={"config_version_id": v1.json["id"], "input_document_id": doc["id"]},
        headers=bearer(token),
    ).json
    page.goto(f"{editor}/jobs/{job['id']}")
    _ready(page)
    expect(page.locator("#job-heading")).to_have_text(f"Job {job['id'][:8]}")
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=60_000)

    # A reload asks first, then comes back to the same file with the text kept.
    page.goto(f"{editor}/files/run.py")
    _ready(page)
    type_at_end(page, "# typed before the reload\n")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.accept()))
    page.reload()
    _ready(page)
    assert asked == ["beforeunload"]
    expect(page).to_have_url(f"{editor}/files/run.py")
    expect(page.locator('#tabs .tab.active[data-path="run.py"]')).to_have_class(
        "tab active dirty"
    )
    assert "# typed before the reload" in editor_value(page)
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    saved = api.get(f"{base}/draft/files/run.py", headers=bearer(token)).json["code"]
    assert "# typed before the reload" in saved
    assert page.errors == [] and page.blocked == []


def _workbook(page) -> str:
    import tempfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["E-mail"])
    wb.active.append(["a@example.org"])
    path = tempfile.mkstemp(suffix=".xlsx")[1]
    wb.save(path)
    return path


def test_layout_holds_at_1000_px(new_page, ws, config):
    page = new_page(
        token=ws["tokens"]["publisher"], viewport={"width": 1000, "height": 700}
    )
    for url in ("/workspaces", "/workspaces/acme/configs", config["editor"]):
        page.goto(url)
        _ready(page)
        bar = page.locator("header.topbar").bounding_box()
        assert bar["height"] <= 47, (url, bar)  # one line: nothing wrapped
        signout = page.get_by_role("button", name="Sign out").bounding_box()
        assert (
            signout["y"] >= bar["y"]
            and signout["y"] + signout["height"] <= bar["y"] + bar["height"]
        )
        assert signout["x"] + signout["width"] <= 1000
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1000, (url, width)
    for name in ("Publish…", "Revert…", "Copy"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["x"] + box["width"] <= 1000 and box["y"] < 46, name
    tree = page.locator("nav.sidebar").bounding_box()
    code = page.locator("#view-editor").bounding_box()
    assert tree["x"] + tree["width"] <= code["x"] + 1 and code["width"] > 600


def test_a_network_error_inside_a_dialog_is_shown(new_page, ws, config):
    page = new_page(token=ws["tokens"]["publisher"])
    open_editor(page, config)
    page.route("**/draft/columns", lambda route: route.abort())
    page.get_by_role("button", name="+ Add column").click()
    dialog = page.locator("#add-column-dialog")
    dialog.get_by_label("Label").fill("Phone")
    dialog.get_by_role("button", name="Add column").click()
    expect(page.locator("#add-column-error")).to_contain_text("could not be reached")
    dialog.get_by_role("button", name="Cancel").click()

    page.route("**/publish", lambda route: route.abort())
    page.get_by_role("button", name="Publish…").click()
    publish = page.locator("#publish-dialog")
    expect(publish.locator("#publish-diff")).to_be_visible()
    publish.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#publish-error")).to_contain_text("could not be reached")
    assert page.blocked == []
