"""The dry run follows the edits: a save re-runs it (a toggle, remembered), the
matrix marks what changed against the previous run, runs never overlap; and a
doubtful header offers "Use row N as header", which writes the hint into the draft
manifest and re-runs with it. Plus the pure comparison (matrixdiff.js) on its own.
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    editor_value,
    open_editor,
    open_file,
    save_screenshot,
    type_at_end,
)
from tests.conftest import bearer

RUN_TIMEOUT = 60_000  # a dry run on a loaded machine
BONUS = 'def detect_bonus(*, header, **_): return 1.0 if header == "Name" else 0'


@pytest.fixture
def roster_xlsx(tmp_path):
    """The scaffold's email column maps column B; A ("Name") scores 0 for it."""
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Roster"
    sheet.append(["Club roster, spring"])
    sheet.append([])
    sheet.append(["Name", "E-mail", "City"])
    for i in range(5):
        sheet.append([f"Person {i}", f"person{i}@example.com", "Oslo"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    return path


@pytest.fixture
def units_xlsx(tmp_path):
    """Is the one-cell "(USD)" line the header's last line or data? The scaffold's
    run chooses rows 1-3 and reports rows 1-2 as close (header_uncertain)."""
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Sheet 1"
    for row in [
        ["Member details", None, "Contact"],
        ["Fee paid", "First name", "Phone"],
        ["(USD)", None, None],
        [555.19, "Farah", "+1 647 771 0001"],
        [1071.75, "Bob", "+1 595 300 0002"],
        [None, "Yusuf", "+1 504 771 0003"],
        [1093.49, "Uma", None],
    ]:
        sheet.append(row)
    path = tmp_path / "units.xlsx"
    wb.save(path)
    return path


def run_dry_run_on(page, workbook, name):
    page.locator("#tree").get_by_role("button", name="Dry run").click()
    page.set_input_files("#dryrun-upload", str(workbook))
    expect(page.locator("#dryrun-status")).to_have_text(f"Uploaded {name}")
    page.get_by_role("button", name="Run dry run").click()
    expect(page.locator("#dryrun-outcome")).to_have_text(
        "Succeeded", timeout=RUN_TIMEOUT
    )
    expect(page.locator("#dryrun-result")).to_have_attribute("data-state", "idle")


def runs(page) -> int:
    return int(page.locator("#dryrun-result").get_attribute("data-runs"))


def test_a_save_re_runs_the_dry_run_and_marks_what_changed(
    new_page, ws, config, roster_xlsx
):
    page = new_page(token=ws["tokens"]["author"])
    open_editor(page, config)
    expect(page.get_by_label("Re-run after save")).to_be_checked()  # on by default
    run_dry_run_on(page, roster_xlsx, "roster.xlsx")
    assert runs(page) == 1
    expect(page.locator("#dryrun-changes")).to_have_count(0)  # nothing to compare
    cell = page.locator('#matrix-1 tr[data-column="A"] td[data-field="email"]')
    expect(cell).to_have_text("0")

    # Edit the detector and save: the dry run runs again by itself.
    open_file(page, "columns/email.py")
    type_at_end(page, "\n\n" + BONUS + "\n")
    assert BONUS in editor_value(page)
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    indicator = page.locator("#rerun-state")
    expect(indicator).to_have_text(
        "Dry run: 1 change in the mapping", timeout=RUN_TIMEOUT
    )
    indicator.click()
    expect(page.locator("#view-dryrun")).to_be_visible()
    assert runs(page) == 2
    expect(page.locator("#dryrun-status")).to_have_text(
        "Done (re-run after saving columns/email.py)."
    )
    expect(page.locator("#dryrun-changes")).to_have_text(
        "Since the previous run: 1 cell changed."
    )
    expect(cell).to_have_class("score changed")
    expect(cell).to_have_attribute("title", "email: 1; was 0")
    expect(cell).to_contain_text("(changed: was 0)")
    expect(page.locator("#matrix-1 td.changed")).to_have_count(1)
    winner = page.locator('#matrix-1 tr[data-column="B"] td[data-field="email"]')
    expect(winner).to_have_class("score winner")  # unchanged: not marked
    save_screenshot(page, "dry-run-changes.png")

    # Requests during a run wait; several of them make one more run, never two at once.
    page.evaluate(
        """() => {
            const d = window.adeEditor.dryrun;
            const run = d.run.bind(d);
            let active = 0;
            d.maxActive = 0;
            d.run = async () => {
                active += 1;
                d.maxActive = Math.max(d.maxActive, active);
                try { await run(); } finally { active -= 1; }
            };
            for (const why of ["a", "b", "c"]) d.request(d.lastDocument, why);
        }"""
    )
    expect(page.locator("#dryrun-result")).to_have_attribute(
        "data-runs", "4", timeout=RUN_TIMEOUT
    )
    expect(page.locator("#dryrun-result")).to_have_attribute("data-state", "idle")
    assert page.evaluate("window.adeEditor.dryrun.maxActive") == 1
    expect(page.locator("#dryrun-changes")).to_have_text(
        "Since the previous run: no change in the mapping."
    )
    expect(cell).to_have_class("score")

    # Off (and remembered): a save does not run it again.
    page.get_by_label("Re-run after save").uncheck()
    assert page.evaluate("localStorage.getItem('ade.dryrun.rerun')") == "0"
    open_file(page, "columns/email.py")
    type_at_end(page, "# no re-run\n")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    # The "saved" handler runs before the page says Saved: nothing was scheduled.
    assert page.evaluate(
        "(() => { const d = window.adeEditor.dryrun;"
        " return d.timer === null && d.running === null && d.queued === null; })()"
    )
    expect(page.locator("#dryrun-result")).to_have_attribute("data-state", "idle")
    assert runs(page) == 4
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_label("Re-run after save")).not_to_be_checked()
    assert page.errors == [] and page.blocked == []


def rerun_done(page, runs: int, why: str) -> None:
    """The view's ``runs``-th dry run has ended, re-run for ``why``."""
    result = page.locator("#dryrun-result")
    expect(result).to_have_attribute("data-runs", str(runs), timeout=RUN_TIMEOUT)
    expect(result).to_have_attribute("data-state", "idle")
    expect(page.locator("#dryrun-status")).to_have_text(f"Done (re-run {why}).")


def draft_manifest(api, config, token) -> dict:
    return api.get(
        f"/api/v1/workspaces/acme/configs/{config['id']}/draft/manifest",
        headers=bearer(token),
    ).json


def test_use_row_n_as_header_writes_the_hint_the_next_run_uses_it_and_it_can_go(
    new_page, ws, config, api, units_xlsx
):
    token = ws["tokens"]["author"]
    page = new_page(token=token)
    open_editor(page, config)
    open_file(page, "manifest.json")  # open, unchanged: it follows the hint below
    run_dry_run_on(page, units_xlsx, "units.xlsx")
    section = page.locator(".matrix-section", has=page.locator(".uncertain"))
    expect(section.locator("h2")).to_contain_text("header row 3")
    uncertain = section.locator(".uncertain")
    expect(uncertain).to_contain_text("chose row 3, row 2 is close")
    expect(uncertain).to_contain_text('hints.header_rows["Sheet 1"] = [1,2]')
    expect(section.locator(".forced")).to_have_count(0)
    save_screenshot(page, "dry-run-header.png")

    uncertain.get_by_role("button", name="Use row 2 as header").click()
    rerun_done(page, 2, "with the new header hint")
    manifest = draft_manifest(api, config, token)
    assert manifest["hints"]["header_rows"] == {"Sheet 1": [1, 2]}
    # The new run used it: the header is rows 1-2, forced, and no longer in doubt.
    table = page.locator(".matrix-section").filter(has_text="Sheet 1")
    expect(table.locator("h2")).to_contain_text("header row 2")
    expect(table.locator(".forced p")).to_have_text(
        "The header is rows 1–2 because the manifest says so "
        '(hints.header_rows["Sheet 1"]); the heuristic was not asked.'
    )
    expect(page.locator(".uncertain")).to_have_count(0)
    with page.expect_download() as info:
        page.get_by_role("button", name="Report (.json)").click()
    report = json.loads(open(info.value.path(), encoding="utf-8").read())
    (data,) = [t for t in report["tables"] if t["rows"]]
    assert data["header_rows"] == [1, 2] and data["header_choice"] is None
    assert report["preview"]["tables"][0]["forced_header"] is True
    assert not [f for f in report["findings"] if f["code"].startswith("header_")]
    open_file(page, "manifest.json")
    assert json.loads(editor_value(page))["hints"]["header_rows"] == {"Sheet 1": [1, 2]}
    expect(page.locator("#save-state")).to_have_text("Saved")  # not unsaved

    # And back: the forced header offers to let the runner choose again.
    page.locator("#tree").get_by_role("button", name="Dry run").click()
    table.locator(".forced").get_by_role(
        "button", name="Let the runner choose the header"
    ).click()
    rerun_done(page, 3, "without the header hint")
    manifest = draft_manifest(api, config, token)
    assert manifest["hints"].get("header_rows", {}) == {}
    section = page.locator(".matrix-section", has=page.locator(".uncertain"))
    expect(section.locator("h2")).to_contain_text("header row 3")
    expect(page.locator(".forced")).to_have_count(0)
    open_file(page, "manifest.json")
    assert json.loads(editor_value(page))["hints"].get("header_rows", {}) == {}
    expect(page.locator("#save-state")).to_have_text("Saved")
    assert page.errors == [] and page.blocked == []


DIFF_CASES = """async (url) => {
    const { diffReports } = await import(url);
    const col = (column, field, scores) => ({ column, header: column, field, scores });
    const table = (sheet, rows, columns) => ({ sheet, range: "A1:C9", rows, columns });
    const title = { sheet: "S", range: "A1", rows: 0, columns: [] };
    const before = { tables: [title,
        table("S", 5, [
            col("A", null, { email: 0, name: 0.42 }),
            col("B", "email", { email: 2.71, name: 0 }),
            col("C", null, { email: 0, name: 0 })]),
        table("Gone", 3, [col("A", "email", { email: 2 })])] };
    const after = { tables: [  // no title: the indices shift, the match holds
        table("S", 5, [
            col("A", "name", { email: 0, name: 1.2, phone: 0 }),
            col("B", "email", { email: 2.714, name: 0, phone: 0 }),
            col("D", null, { email: 0, name: 0, phone: 0 })]),
        table("New", 2, [col("A", null, { email: 0 })])] };
    return {
        none: diffReports(null, after),
        same: diffReports(before, before),
        diff: diffReports(before, after),
    };
}"""


def test_the_matrix_comparison_is_a_pure_function(new_page, ws, config):
    page = new_page(token=ws["tokens"]["author"])
    open_editor(page, config)
    url = page.evaluate(
        "document.querySelector('script[type=module]').src"
        ".replace(/editor\\.js$/, 'matrixdiff.js')"
    )
    out = page.evaluate(DIFF_CASES, url)
    assert out["none"] is None
    assert out["same"]["count"] == 0 and out["same"]["removedTables"] == []
    diff = out["diff"]
    assert diff["removedTables"] == [{"sheet": "Gone", "range": "A1:C9"}]
    assert diff["tables"]["1"]["isNew"] is True  # sheet "New"
    s = diff["tables"]["0"]
    assert s["isNew"] is False
    # A: name 0.42 -> 1.2 and now its winner; B's 2.71 -> 2.714 shows as 2.71: no mark.
    assert s["cells"] == [
        {
            "column": "A",
            "field": "name",
            "was": 0.42,
            "now": 1.2,
            "wasWinner": False,
            "isWinner": True,
        }
    ]
    assert s["mapped"] == [{"column": "A", "was": None, "now": "name"}]
    assert s["newColumns"] == ["D"]
    assert s["removedColumns"] == [{"column": "C", "header": "C"}]
    assert s["newFields"] == ["phone"] and s["removedFields"] == []
    # 1 cell, 1 new column, 1 gone, 1 new field; a new table; a table gone.
    assert diff["count"] == 6
    assert page.errors == []
