"""Extract: tables, headers, hints and values on workbooks built in tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from runner.extract import Table, column_letter, extract
from runner.readers import _read_openpyxl, read_sheets


def make_book(path: Path, sheets: dict[str, list[list]], merges=()) -> Path:
    """Write ``{sheet: rows}`` (rows from A1; None is an empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for sheet, rng in merges:
            if sheet == name:
                ws.merge_cells(rng)
    wb.save(path)
    return path


def data_tables(tables: list[Table]) -> list[Table]:
    return [t for t in tables if t.rows]


def test_title_notes_header_data_totals(tmp_path):
    rows = [
        ["Member roster"],
        ["Exported 2024-05-01, see notes"],
        [],
        ["ID", "Name", "Joined", "Fee"],
        [1, "Ann", dt.date(2024, 1, 2), 10.5],
        [2, "Bob", dt.date(2024, 2, 3), 20],
        ["Total", None, None, 30.5],
        [],
        ["Source: the club office"],
    ]
    ex = extract(make_book(tmp_path / "a.xlsx", {"Roster": rows}))
    assert ex.sheets_scanned == 1
    title, table, totals, notes = ex.tables
    assert title.rows == [] and title.header_rows == (1, 2)
    assert notes.rows == [] and notes.headers == ("Source: the club office",)
    assert table.header_rows == (4, 4)
    assert table.headers == ("ID", "Name", "Joined", "Fee")
    assert table.columns == (0, 1, 2, 3)
    assert table.rows[0] == [1, "Ann", dt.datetime(2024, 1, 2), 10.5] or table.rows[
        0
    ] == [1, "Ann", dt.date(2024, 1, 2), 10.5]
    assert table.rows[1][3] == 20 and type(table.rows[1][3]) is int
    # A totals row is not a member: a data-less block of its own, not data.
    assert table.row_numbers == [5, 6]
    assert table.range == "A4:D6"
    assert totals.rows == [] and totals.header_rows == (7, 7)


def test_offset_start_and_blank_column_inside(tmp_path):
    rows = [[], [], [None, None, None, "Code", None, "Qty", "Price"]]
    rows += [[None, None, None, f"C{i}", None, i, i * 1.5] for i in range(1, 4)]
    (table,) = extract(make_book(tmp_path / "b.xlsx", {"S": rows})).tables
    assert table.columns == (3, 4, 5, 6)
    assert table.headers == ("Code", None, "Qty", "Price")
    assert table.rows[0] == ["C1", None, 1, 1.5]
    assert table.range == "D3:G6"
    assert table.header_rows == (3, 3)


def test_stacked_tables_each_with_own_header(tmp_path):
    rows = [
        ["Sales 2023"],
        ["Region", "Units", "Revenue"],
        ["North", 10, 100.5],
        ["South", 12, 130.25],
        [],
        [],
        ["Sales 2024"],
        [None, "Store", "Units", "Revenue"],
        [None, "East", 7, 70.5],
        [None, "West", 9, 90.5],
    ]
    tables = data_tables(extract(make_book(tmp_path / "c.xlsx", {"S": rows})).tables)
    assert [t.header_rows for t in tables] == [(2, 2), (8, 8)]
    assert tables[0].headers == ("Region", "Units", "Revenue")
    assert tables[0].row_numbers == [3, 4]
    assert tables[1].columns == (1, 2, 3)
    assert tables[1].headers == ("Store", "Units", "Revenue")
    assert tables[1].rows == [["East", 7, 70.5], ["West", 9, 90.5]]


def test_multiline_header_with_spacers_and_group_rows(tmp_path):
    rows = [
        ["Table 7. Resident Population by Age and Sex"],
        [],
        ["[In thousands]"],
        [],
        ["Age group", "Unit", 1990, None, None, 2000],
        [],
        [None, None, "Total", "Male", "Female", "Total"],
        [],
        ["ALL AGES"],
        ["Under 5", 1000, 16348, 8362, 7986, 18765],
        ["5 to 9", 1000, 16700, 8539, 8161, 18042],
    ]
    tables = data_tables(extract(make_book(tmp_path / "d.xlsx", {"S": rows})).tables)
    (table,) = tables
    assert table.header_rows == (5, 7)
    assert table.headers == (
        "Age group",
        "Unit",
        "1990 Total",
        "Male",
        "Female",
        "2000 Total",
    )
    assert table.row_numbers == [9, 10, 11]  # the group row belongs to the data
    assert table.rows[0] == ["ALL AGES", None, None, None, None, None]


def test_merged_header_cell_spreads_over_its_columns(tmp_path):
    rows = [
        ["Name", "Address", None, None, "Age"],
        [None, "Street", "City", "Zip", None],
        ["Ann", "1 Main St", "Springfield", "12345", 31],
        ["Bob", "2 Oak Ave", "Shelbyville", "23456", 42],
    ]
    path = make_book(tmp_path / "e.xlsx", {"S": rows}, merges=[("S", "B1:D1")])
    (table,) = extract(path).tables
    assert table.header_rows == (1, 2)
    assert table.headers == (
        "Name",
        "Address Street",
        "Address City",
        "Address Zip",
        "Age",
    )


def test_text_only_table_and_key_value_block(tmp_path):
    rows = [
        ["Prepared by:", "HR"],
        ["Date:", "2024-05-01"],
        [],
        ["First name", "Last name", "Email"],
        ["Ann", "Lee", "ann@example.com"],
        ["Bob", "Ray", "bob@example.com"],
    ]
    kv, table = extract(make_book(tmp_path / "f.xlsx", {"S": rows})).tables
    assert kv.rows == [] and kv.header_rows == (1, 2)
    assert table.header_rows == (4, 4)
    assert table.rows == [
        ["Ann", "Lee", "ann@example.com"],
        ["Bob", "Ray", "bob@example.com"],
    ]


def test_text_rows_above_numbers_are_data_not_header(tmp_path):
    rows = [["Name", "City", "Age"], ["Ann", "Rome", None], ["Bob", "Oslo", None]]
    rows += [["Cy", "Nice", 40], ["Di", "Bonn", 41]]
    (table,) = extract(make_book(tmp_path / "g.xlsx", {"S": rows})).tables
    assert table.header_rows == (1, 1)
    assert table.row_numbers == [2, 3, 4, 5]


def test_header_row_hint_and_contains_hint(tmp_path):
    rows = [
        ["Report"],
        ["a", "b", "c"],
        ["Key", "Label", "Amount"],
        ["k1", "one", 1],
        ["k2", "two", 2],
    ]
    path = make_book(tmp_path / "h.xlsx", {"S": rows})
    (table,) = data_tables(extract(path, header_row=3).tables)
    assert table.header_rows == (3, 3) and table.headers == ("Key", "Label", "Amount")
    assert table.row_numbers == [4, 5]
    (table,) = data_tables(extract(path, header_row=2).tables)
    assert table.header_rows == (2, 2) and table.row_numbers == [3, 4, 5]
    (table,) = data_tables(extract(path, header_row_contains=["LABEL", "amo"]).tables)
    assert table.header_rows == (3, 3)
    # A needle found nowhere: the heuristic decides.
    (table,) = data_tables(extract(path, header_row_contains=["nope"]).tables)
    assert table.header_rows[1] == 3


def test_sheet_include_exclude_and_progress(tmp_path):
    sheets = {n: [["A", "B"], [1, 2]] for n in ("Data", "Data 2", "Notes")}
    path = make_book(tmp_path / "i.xlsx", sheets)
    calls = []
    ex = extract(path, progress=lambda phase, pct: calls.append((phase, pct)))
    assert ex.sheets_scanned == 3 and calls == [("extract", n) for n in (2, 4, 6)]
    assert [t.sheet for t in extract(path, include=["data*"]).tables] == [
        "Data",
        "Data 2",
    ]
    assert [t.sheet for t in extract(path, exclude=["NOTES"]).tables] == [
        "Data",
        "Data 2",
    ]
    ex = extract(path, include=["data*"], exclude=["data 2"])
    assert ex.sheets_scanned == 1 and ex.tables[0].sheet == "Data"


def test_values_formulas_dates_as_text_and_empty_strings(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["When", "Sum", "Flag", "Note", "Amount"])
    ws.append(["2024-01-05", "=1+1", True, "", 3.0])
    ws.append(["05/02/2024", "=A1", False, "x", 2.5])
    path = tmp_path / "j.xlsx"
    wb.save(path)
    (table,) = extract(path).tables
    assert table.rows[0] == ["2024-01-05", None, True, None, 3]
    assert type(table.rows[0][4]) is int
    assert table.rows[1] == ["05/02/2024", None, False, "x", 2.5]


def test_openpyxl_fallback_reads_the_same_values(tmp_path):
    rows = [[None, "ID", "Name"], [None, 1, "Ann"], [None, 2.0, None], [None, 3, "Cy"]]
    path = make_book(tmp_path / "k.xlsx", {"S": rows})
    _, fast = read_sheets(path)
    _, slow = _read_openpyxl(path, (), ())
    fast_sheet, slow_sheet = next(fast), next(slow)
    fast_grid = [[None] * fast_sheet.col0 + r for r in fast_sheet.rows]
    assert fast_grid == slow_sheet.rows
    assert slow_sheet.rows[2] == [None, 2, None] and type(slow_sheet.rows[2][1]) is int


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letter(index, letters):
    assert column_letter(index) == letters


def test_chartsheets_skipped_hidden_sheets_read_times_as_text(tmp_path):
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Qty", "At"])
    ws.append([1, dt.time(10, 30)])
    ws.append([2, dt.datetime(2020, 1, 1, 12, 0)])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=3))
    wb.create_chartsheet("Chart").add_chart(chart)
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden.append(["k", "v"])
    hidden.append(["a", 1])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    ex = extract(path)
    assert ex.sheets_scanned == 2
    assert [t.sheet for t in ex.tables] == ["Data", "Hidden"]
    assert ex.tables[0].rows == [[1, "10:30:00"], [2, dt.datetime(2020, 1, 1, 12, 0)]]


def test_merge_starting_left_of_the_used_area(tmp_path):
    # A1:C1 is merged but empty, so the used area starts at column B.
    rows = [[None, None, None, "Age"], [None, "Street", "City", "years"]]
    rows += [[None, "1 Main St", "Rome", 31], [None, "2 Oak Ave", "Oslo", 42]]
    path = make_book(tmp_path / "n.xlsx", {"S": rows}, merges=[("S", "A1:C1")])
    (table,) = extract(path).tables
    assert table.columns == (1, 2, 3)
    assert table.headers == ("Street", "City", "Age years")
    assert table.rows[0] == ["1 Main St", "Rome", 31]
