"""Forced headers (hints.header_row, hints.header_rows) and header_uncertain.

A forced line that cannot be a header is a warning, never a silent mapping; a
doubtful choice is a ``header_uncertain`` finding whose runner-up, written back as
``hints.header_rows`` for that sheet, is what the next run uses.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from runner.engine import run
from runner.extract import extract
from runner.manifest import validate_manifest
from tests.test_runner_extract import make_book
from tests.test_runner_pipeline_kit import header_detector, write_package

ROSTER = [
    ["Club roster"],
    [],
    ["Name", "Joined", "Fee"],
    ["Ann", dt.date(2020, 1, 2), 10.5],
    ["Bob", dt.date(2021, 3, 4), 20],
    ["Cy", dt.date(2022, 5, 6), 30.25],
    ["Di", dt.date(2023, 7, 8), 40],
]


def package(tmp_path, **hints):
    cfg = write_package(
        tmp_path / "cfg",
        {
            "name": header_detector("name", "name"),
            "amount": header_detector("amount", "fee", "amount"),
            "phone": header_detector("phone", "phone"),
        },
    )
    manifest = json.loads((cfg / "manifest.json").read_text())
    manifest["hints"].update(hints)
    (cfg / "manifest.json").write_text(json.dumps(manifest))
    return cfg


def data_table(report, sheet):
    (table,) = [t for t in report["tables"] if t["sheet"] == sheet and t["rows"]]
    return table


def warnings(report, code):
    return [f for f in report["findings"] if f["code"] == code]


# --- the manifest ------------------------------------------------------------------


def validate_hints(hints):
    return validate_manifest({"columns": [], "hints": hints}, [])


def test_header_rows_maps_sheets_to_a_row_or_a_block():
    assert validate_hints({"header_rows": {"Roster": 4, "Fees": [2, 3]}}) == []
    assert validate_hints({"header_rows": None}) == []
    assert validate_hints({"header_rows": [4]}) == [
        "hints.header_rows: must be an object {sheet name: row number}"
    ]


@pytest.mark.parametrize("row", [0, -1, 1.5, True, "4", [3], [3, 2], [0, 2], None])
def test_header_rows_values_are_positive_rows_or_ordered_pairs(row):
    assert validate_hints({"header_rows": {"S": row}}) == [
        "hints.header_rows['S']: must be a positive integer or [first, last] "
        "with 1 <= first <= last"
    ]


def test_header_rows_names_each_sheet_once():
    assert validate_hints({"header_rows": {"Roster": 1, "ROSTER": 2, " ": 3}}) == [
        "hints.header_rows['ROSTER']: the same sheet as 'Roster'",
        "hints.header_rows: sheet names must not be empty",
    ]


# --- the extractor -----------------------------------------------------------------


def test_a_sheet_hint_applies_to_its_sheet_only(tmp_path):
    rows = [["Name", "Joined", "Fee"], ["Full name", "Member since", "Amount"]]
    rows += ROSTER[3:]
    book = make_book(tmp_path / "a.xlsx", {"Roster": rows, "Other": rows})
    ex = extract(book, header_rows={"roster": 2})  # sheet names are case-insensitive
    roster = [t for t in ex.tables if t.sheet == "Roster"]
    other = [t for t in ex.tables if t.sheet == "Other"]
    assert [(t.header_rows, t.row_numbers) for t in roster] == [
        ((1, 1), []),  # the line above the forced header: a data-less block
        ((2, 2), [3, 4, 5, 6]),
    ]
    assert [(t.header_rows, t.row_numbers) for t in other] == [((1, 2), [3, 4, 5, 6])]
    assert ex.findings == ()


def test_the_sheet_hint_wins_over_header_row_and_takes_a_block(tmp_path):
    rows = [["Member", "Date", None], ["name", "joined", "Fee"], *ROSTER[3:]]
    book = make_book(tmp_path / "b.xlsx", {"S": rows})
    (table,) = extract(book, header_row=1, header_rows={"S": [1, 2]}).tables
    assert table.header_rows == (1, 2)
    assert table.headers == ("Member name", "Date joined", "Fee")
    assert table.row_numbers == [3, 4, 5, 6]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (1, "it holds one cell over a table 3 columns wide (a title?)"),
        (2, "the row is empty"),
        (4, "its cells have the shapes of the data below it (a data row?)"),
        (7, "no rows below it"),
    ],
)
def test_a_forced_row_that_is_no_header_is_a_warning(tmp_path, row, reason):
    book = make_book(tmp_path / "c.xlsx", {"Roster": ROSTER})
    ex = extract(book, header_row=row)
    (table,) = [t for t in ex.tables if t.rows]
    assert table.header_rows == (3, 3)  # the layout's header instead
    (warning,) = ex.findings
    assert warning == {
        "sheet": "Roster",
        "row": row,
        "field": None,
        "code": "header_hint_unused",
        "severity": "warning",
        "message": f"hints.header_row {row} ignored on sheet 'Roster' (columns A-C): "
        f"{reason}; the header was detected from the layout instead",
    }


def test_a_row_beyond_the_sheet_is_no_warning(tmp_path):
    book = make_book(tmp_path / "d.xlsx", {"Roster": ROSTER})
    ex = extract(book, header_row=40)
    assert ex.findings == () and [t.header_rows for t in ex.tables if t.rows] == [
        (3, 3)
    ]


def test_the_readme_draft_hint_on_another_workbook_is_a_report_warning(tmp_path):
    # The README's example leaves header_row 1 in the draft; a workbook with a
    # title there must not map "Club roster" as the header without a word.
    report = run(package(tmp_path, header_row=1), make_book(tmp_path / "e.xlsx",
                 {"Roster": ROSTER}), None)  # fmt: skip
    assert data_table(report, "Roster")["header_row"] == 3
    assert report["preview"]["tables"][0]["forced_header"] is False  # not applied
    (warning,) = warnings(report, "header_hint_unused")
    assert (warning["row"], warning["severity"]) == (1, "warning")
    assert "hints.header_row 1 ignored on sheet 'Roster'" in warning["message"]


# --- header_uncertain and "use row N as header" ------------------------------------

UNITS = [  # is the one-cell "(USD)" line the header's last line or data?
    ["Member details", None, "Contact"],
    ["Fee paid", "First name", "Phone"],
    ["(USD)", None, None],
    [555.19, "Farah", "+1 647 771 0001"],
    [1071.75, "Bob", "+1 595 300 0002"],
    [None, "Yusuf", "+1 504 771 0003"],
    [1093.49, "Uma", None],
]


def test_a_doubtful_header_is_reported_and_the_runner_up_can_be_forced(tmp_path):
    book = make_book(tmp_path / "f.xlsx", {"Sheet 1": UNITS})
    report = run(package(tmp_path / "a"), book, None)
    table = data_table(report, "Sheet 1")
    (finding,) = warnings(report, "header_uncertain")
    assert finding["sheet"] == "Sheet 1" and finding["severity"] == "warning"
    assert finding["row"] == table["header_row"]
    assert finding["field"] is None and finding["message"]
    candidates = table["header_choice"]["candidates"]
    runner_up = next(c for c in candidates if c["header_row"] == finding["alternative"])
    assert finding["alternative_rows"] == runner_up["header_rows"]
    assert {table["header_row"], finding["alternative"]} == {2, 3}
    # The dry-run view's "use row N as header" writes the runner-up's block.
    hints = {"header_rows": {"Sheet 1": finding["alternative_rows"]}}
    again = run(package(tmp_path / "b", **hints), book, None)
    forced = data_table(again, "Sheet 1")
    assert forced["header_rows"] == finding["alternative_rows"]
    assert again["preview"]["tables"][0]["forced_header"] is True
    assert report["preview"]["tables"][0]["forced_header"] is False
    assert forced["header_choice"] is None  # forced: nothing left to choose
    assert warnings(again, "header_uncertain") == []
    assert warnings(again, "header_hint_unused") == []
