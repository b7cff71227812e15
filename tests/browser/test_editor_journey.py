"""From a fresh ``ade init`` to a downloaded job output, in the browser only: the
instance-admin token, a workspace and a publisher token, a config edited, checked,
dry-run and published, a job run and its output opened with openpyxl."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve
from tests.browser.helpers import (
    downloaded_workbook,
    editor_value,
    open_file,
    save_screenshot,
    tree_item,
    type_at_end,
)
from tests.conftest import make_app


@pytest.fixture
def fresh_install(tmp_path, vendored_static):
    """``ade init`` on an empty data dir (its printed token), then the app served."""
    url = f"sqlite:///{tmp_path / 'ade.db'}"
    env = {
        **os.environ,
        "ADE_DATA_DIR": str(tmp_path / "data"),
        "ADE_DATABASE_URL": url,
        "ADE_LOG_FORMAT": "text",
    }
    ade = Path(sys.executable).with_name("ade")
    done = subprocess.run(
        [str(ade), "init"], env=env, capture_output=True, text=True, check=True
    )
    token = done.stdout.strip()
    assert token.startswith("ade_") and "\n" not in token, done.stdout
    base, stop = serve(make_app(tmp_path, url))
    yield base, token
    stop()


@pytest.fixture
def roster(tmp_path):
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Members"
    sheet.append(["Members, spring export"])
    sheet.append(["Name", "E-mail", "City"])
    for i in range(5):
        sheet.append([f"Person {i}", f" P{i}@Example.org ", "Oslo"])
    path = tmp_path / "members.xlsx"
    wb.save(path)
    return path


def test_fresh_install_to_a_downloaded_job_output(new_page, fresh_install, roster):
    base, admin_token = fresh_install
    page = new_page(base_url=base)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    # Sign in with the token `ade init` printed; the page says where it comes from.
    page.goto("/")
    expect(page).to_have_url("/signin?next=%2Fworkspaces")
    expect(page.locator("#token-help")).to_contain_text("make run")
    page.get_by_label("API token").fill(admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/workspaces")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#whoami")).to_have_text("admin (instance admin)")

    # A workspace, then a publisher token for it (the secret shown once, copied).
    form = page.locator("#create-ws-form")
    form.get_by_label("Name").fill("Acme Corp")
    expect(form.get_by_label("Slug")).to_have_value("acme-corp")
    page.get_by_role("button", name="Create workspace").click()
    item = page.locator('.ws-item[data-slug="acme-corp"]')
    expect(item).to_be_visible()
    item.get_by_role("link", name="Tokens").click()
    expect(page).to_have_url("/workspaces/acme-corp/tokens")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#token-form").get_by_label("Name").fill("pat")
    page.locator("#token-form").get_by_label("Role").select_option("publisher")
    page.get_by_role("button", name="Create token").click()
    secret_dialog = page.locator("#secret-dialog")
    expect(secret_dialog).to_be_visible()
    secret_dialog.get_by_role("button", name="Copy").click()
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret.startswith("ade_") and secret != admin_token
    secret_dialog.get_by_role("button", name="Done").click()
    expect(page.locator("#secret-value")).to_have_value("")  # not kept
    row = page.locator('#token-table tr[data-token="pat"]')
    expect(row).to_contain_text("publisher")
    expect(row).to_contain_text("never")

    # Sign out, sign in as the publisher: straight to the workspace's configs.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/workspaces/acme-corp/configs")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # A config; its scaffold works as is: publish it as 1.0.0 at once.
    page.get_by_label("Title").fill("Member Roster")
    page.get_by_role("button", name="Create config").click()
    expect(page).to_have_url(re.compile(r"/configs/\w+/editor$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    editor = page.url
    page.get_by_role("button", name="Publish…").click()
    publish = page.locator("#publish-dialog")
    expect(publish.locator("#publish-diff")).to_contain_text("The first version")
    publish.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#published-badge")).to_have_text("live: v1.0.0")

    # Add a column.
    page.get_by_role("button", name="+ Add column").click()
    page.locator("#add-column-dialog").get_by_label("Label").fill("City")
    page.locator("#add-column-dialog").get_by_role("button", name="Add column").click()
    expect(
        page.locator('#tabs .tab.active[data-path="columns/city.py"]')
    ).to_be_visible()

    # Create, rename and delete a file.
    page.get_by_role("button", name="+ File").click()
    page.locator("#new-file-dialog").get_by_label("Path").fill("lib/scratch.py")
    page.locator("#new-file-dialog").get_by_role("button", name="Create").click()
    expect(tree_item(page, "lib/scratch.py")).to_be_visible()
    tree_item(page, "lib/scratch.py").click(button="right")
    page.get_by_role("menuitem", name="Rename / move…").click()
    page.locator("#rename-file-dialog").get_by_label("New path").fill("lib/keep.py")
    page.locator("#rename-file-dialog").get_by_role("button", name="Rename").click()
    expect(tree_item(page, "lib/keep.py")).to_be_visible()
    tree_item(page, "lib/keep.py").click(button="right")
    page.get_by_role("menuitem", name="Delete…").click()
    page.locator("#delete-file-dialog").get_by_role("button", name="Delete").click()
    expect(tree_item(page, "lib/keep.py")).to_have_count(0)

    # A guardrail marker while typing (no save), then the line goes again.
    open_file(page, "columns/email.py")
    type_at_end(page, "\nimport socket")
    expect(page.locator("#warning-list")).to_contain_text("socket")
    page.keyboard.press("Control+Shift+K")  # Monaco: delete the line
    expect(page.locator("#warnings")).to_be_hidden()

    # Complete a hook name: its signature comes from the server's description.
    type_at_end(page, "\n\ndef transform_c")
    page.keyboard.press("Control+Space")
    expect(page.locator(".suggest-widget")).to_be_visible()
    page.keyboard.type("ol")
    page.keyboard.press("Enter")
    page.keyboard.type("return [str(v).strip().lower() for v in values]")
    code = editor_value(page)
    assert "def transform_column(*, values, field, state, ctx, **_):" in code
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")

    # Dry run on an uploaded workbook: the output rows.
    page.locator("#tree").get_by_role("button", name="Dry run").click()
    page.set_input_files("#dryrun-upload", str(roster))
    expect(page.locator("#dryrun-status")).to_have_text("Uploaded members.xlsx")
    page.get_by_role("button", name="Run dry run").click()
    expect(page.locator("#dryrun-outcome")).to_have_text("Succeeded", timeout=60_000)
    output = page.locator("table.output").first
    expect(output.locator("thead th")).to_have_text(["Row", "Email", "City"])
    expect(output.locator("tbody tr").first.locator("td")).to_have_text(
        ["p0@example.org", "Oslo"]
    )

    # Publish 1.0.1: the diff against the live version is shown before the button.
    page.get_by_role("button", name="Publish…").click()
    expect(publish.locator("#publish-diff")).to_contain_text(
        "Changes since v1.0.0 (live): 3 files changed"
    )
    expect(publish.locator(".publish-files")).to_contain_text("columns/city.py")
    expect(publish.get_by_label("Version")).to_have_value("1.0.1")
    save_screenshot(page, "publish.png")
    publish.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#published-badge")).to_have_text("live: v1.0.1")

    # A job of 1.0.1 on the workbook; the list follows it without a reload.
    page.locator("#tree").get_by_role("button", name="Jobs").click()
    expect(page).to_have_url(f"{editor}/jobs")
    page.locator("#job-form").get_by_label("Version").select_option(
        label="v1.0.1 (published)"
    )
    page.locator("#job-document").select_option(label="members.xlsx (5 KiB)")
    page.get_by_role("button", name="Run job").click()
    expect(page.locator("#job-status")).to_contain_text("Queued job")
    job_row = page.locator("#jobs-table tbody tr").first
    expect(job_row.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    expect(job_row.locator(".progress")).to_have_text("5 rows")
    save_screenshot(page, "jobs.png")
    job_row.get_by_role("link").click()
    expect(page.locator("#job-state")).to_have_text("succeeded")
    with page.expect_download() as info:
        page.locator("#job-body").get_by_role("button", name="xlsx").click()
    rows = list(downloaded_workbook(info.value)["Normalized"].values)
    assert rows[0][:2] == ("Email", "City")
    assert rows[1][:2] == ("p0@example.org", "Oslo")

    # Submitting the same again is answered with the earlier run, explained.
    page.locator("#tree").get_by_role("button", name="Jobs").click()
    page.get_by_role("button", name="Run job").click()
    expect(page.locator("#job-status")).to_contain_text("Not run again")
    assert page.errors == [] and page.blocked == []
