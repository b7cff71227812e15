"""Dry-run from the browser: upload a workbook, run the draft, read the matrix, the
output rows and the lines above the header; download the run's workbook."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import downloaded_workbook, open_editor, save_screenshot
from tests.conftest import bearer


@pytest.fixture
def roster_xlsx(tmp_path):
    """A small roster; the scaffold's email column detects column B."""
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Roster"
    sheet.append(["Club roster, spring"])
    sheet.append([])
    sheet.append(["Name", "E-mail", "City"])
    for i in range(6):
        sheet.append([f"Person {i}", f"person{i}@example.com", "Oslo"])
    sheet.append(["Person 6", "not an address", "Bergen"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    return path


def test_dry_run_shows_matrix_then_script_error(new_page, ws, config, api, roster_xlsx):
    token = ws["tokens"]["author"]
    base = f"/api/v1/workspaces/acme/configs/{config['id']}"
    resp = api.post(
        f"{base}/draft/columns",
        json={"key": "city", "label": "City"},
        headers=bearer(token),
    )
    assert resp.status_code == 201, resp.json
    page = new_page(token=token)
    open_editor(page, config)
    page.locator("#tree").get_by_role("button", name="Dry run").click()
    expect(page.locator("#view-dryrun")).to_be_visible()
    expect(page).to_have_url(f"{config['editor']}/dry-run")
    page.set_input_files("#dryrun-upload", str(roster_xlsx))
    expect(page.locator("#dryrun-status")).to_have_text("Uploaded roster.xlsx")
    expect(page.locator("#dryrun-document")).to_contain_text("roster.xlsx")
    page.get_by_role("button", name="Run dry run").click()
    expect(page.locator("#dryrun-outcome")).to_have_text("Succeeded", timeout=60_000)

    matrix = page.locator("#matrix-1")  # table 0 is the title above the header
    expect(matrix.locator("tbody tr")).to_have_count(3)
    winner = matrix.locator("td.winner")
    expect(winner).to_have_count(2)
    expect(
        matrix.locator('tr[data-column="B"] td.winner[data-field="email"]')
    ).to_have_text("2.71 (winner)")
    # Columns that score below min_score are greyed; the unmapped ones say so.
    expect(matrix.locator('tr[data-column="A"] td[data-field="email"]')).to_have_class(
        "score below"
    )
    expect(
        matrix.locator('tr[data-column="C"] td.winner[data-field="city"]')
    ).to_have_text("1 (winner)")
    expect(matrix.locator('tr[data-column="A"] td.unmapped')).to_have_text("—")
    # The legend's swatches carry no made-up scores (a "0.5 below min_score (0.5)"
    # contradicted itself): only the config's min_score is a number there.
    expect(page.locator(".legend").first).to_have_text(
        "mapped (winner) below min_score (1)", use_inner_text=True
    )
    expect(page.locator("#view-dryrun")).to_contain_text("Findings (1)")
    expect(page.locator(".findings")).to_contain_text("not an email address")
    expect(page.locator(".metrics")).to_contain_text("rows processed")
    expect(page.locator(".logs")).to_contain_text("run_start")

    # Beside the matrix: the first output rows, labels as headers, the issue cell
    # marked with its message; the title the extractor skipped above the header.
    output = page.locator("#output-1")
    expect(output.locator("thead th")).to_have_text(["Row", "Email", "City"])
    expect(output.locator("tbody tr")).to_have_count(7)
    expect(output.locator("tbody tr").first.locator("td")).to_have_text(
        ["person0@example.com", "Oslo"]
    )
    bad = output.locator("td.issue")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("not an address")
    expect(bad).to_contain_text("not an email address")
    expect(page.locator("#skipped-1")).to_contain_text("row 1: Club roster, spring")
    save_screenshot(page, "dry-run.png")

    # The run's workbook downloads (through the API, with the token).
    with page.expect_download() as info:
        page.get_by_role("button", name="Output workbook (.xlsx)").click()
    book = downloaded_workbook(info.value)
    assert [c.value for c in book["Normalized"][1]][:2] == ["Email", "City"]
    with page.expect_download() as info:
        page.get_by_role("button", name="Report (.json)").click()
    assert info.value.suggested_filename.endswith(".json")

    # A script that raises: a failed run, its one-line error and a way to the line.
    url = f"{base}/draft/files/columns/email.py"
    current = api.get(url, headers=bearer(token)).json
    broken = (
        current["code"] + "\n\ndef detect_boom(**_):\n    raise ValueError('boom')\n"
    )
    resp = api.put(
        url,
        json={"code": broken},
        headers={**bearer(token), "If-Match": current["sha"]},
    )
    assert resp.status_code == 200, resp.json
    page.get_by_role("button", name="Run dry run").click()
    expect(page.locator("#dryrun-outcome")).to_have_text("Failed", timeout=60_000)
    error = page.locator("#dryrun-error")
    expect(error).to_contain_text("columns/email.py")
    expect(error).to_contain_text("ValueError: boom")
    expect(page.locator(".logs")).to_contain_text("Traceback")
    error.get_by_role("button", name="Open columns/email.py").click()
    expect(
        page.locator('#tabs .tab.active[data-path="columns/email.py"]')
    ).to_be_visible()
    line = int(error.inner_text().split("columns/email.py:")[1].split()[0])
    assert (
        page.evaluate("window.adeEditor.files.editor.getPosition().lineNumber") == line
    )
    assert page.errors == [] and page.blocked == []
