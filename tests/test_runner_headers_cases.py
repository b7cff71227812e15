"""The cases of issue 11: rosters whose values are (partly) text.

Each gives the right header and every data row. Before text cells were typed by
shape, the first row with a real number or date became "the data" and the text
rows above it were taken as header lines (rows 3-5 as a three-line header, two of
four members gone, their bad e-mail and ID never flagged).
"""

from __future__ import annotations

import datetime as dt

from runner.engine import run
from runner.extract import extract
from tests.test_runner_extract import make_book
from tests.test_runner_pipeline_kit import header_detector, write_package

HEADER = ["Member ID", "Name", "E-mail", "Date of Birth", "Phone", "ZIP", "Amount"]
TEXT_ROWS = [  # everything typed as text, as exported by many membership systems
    ["M000123", "Ada Lovelace", "ada@example.org", "1985-08-18", "(555) 123-4567",
     "02134", "1,234.50"],
    ["X-124", "Alan Turing", "alan@example", "08/18/1985", "555-123-4568", "02135",
     "$99.00"],
]  # fmt: skip
TYPED_ROWS = [  # ... and rows where the spreadsheet typed some cells
    ["M000125", "Grace Hopper", "grace@example.org", dt.date(1985, 8, 18),
     "+1 555 123 4569", 10001, 12.5],
    ["M000126", "Linus Torvalds", "linus@example.org", dt.date(1969, 12, 28),
     "555.123.4570", "94105-1234", 7],
]  # fmt: skip


def only_table(path):
    tables = [t for t in extract(path).tables if t.rows]
    assert len(tables) == 1, [(t.range, t.header_rows) for t in tables]
    return tables[0]


def test_all_text_roster(tmp_path):
    rows = [HEADER, *TEXT_ROWS, *TEXT_ROWS]
    table = only_table(make_book(tmp_path / "a.xlsx", {"S": rows}))
    assert table.header_rows == (1, 1)
    assert table.headers == tuple(HEADER)
    assert table.row_numbers == [2, 3, 4, 5]


def test_title_blank_header_and_four_rows(tmp_path):
    rows = [["Riverside Rowing Club"], [], HEADER, *TEXT_ROWS, *TYPED_ROWS]
    ex = extract(make_book(tmp_path / "b.xlsx", {"S": rows}))
    title, table = ex.tables
    assert title.rows == [] and title.header_rows == (1, 1)
    assert table.header_rows == (3, 3)
    assert table.headers == tuple(HEADER)
    assert table.row_numbers == [4, 5, 6, 7]


def test_the_bad_email_and_id_of_those_rows_are_flagged(tmp_path):
    rows = [["Riverside Rowing Club"], [], HEADER, *TEXT_ROWS, *TYPED_ROWS]
    member = header_detector("member_id", "member") + (
        "\nimport re\n"
        "def validate(*, values, **_):\n"
        "    return [{'row_index': i, 'message': 'bad ID', 'code': 'id'}\n"
        "            for i, v in enumerate(values) if not re.match(r'M\\d{6}$', v)]\n"
    )
    email = header_detector("email", "mail") + (
        "\ndef validate(*, values, **_):\n"
        "    return [{'row_index': i, 'message': 'bad e-mail', 'code': 'email'}\n"
        "            for i, v in enumerate(values) if '.' not in v.split('@')[-1]]\n"
    )
    cfg = write_package(tmp_path / "cfg", {"member_id": member, "email": email})
    report = run(cfg, make_book(tmp_path / "c.xlsx", {"S": rows}), None)
    (table,) = [t for t in report["tables"] if t["rows"]]
    assert (table["header_row"], table["data_rows"]) == (3, [[4, 7]])
    flagged = {(f["row"], f["code"]) for f in report["findings"]}
    assert flagged == {(5, "id"), (5, "email")}


def test_header_in_row_one_over_text_data(tmp_path):
    rows = [HEADER, *TEXT_ROWS, *TEXT_ROWS, *TYPED_ROWS]
    table = only_table(make_book(tmp_path / "d.xlsx", {"S": rows}))
    assert table.header_rows == (1, 1)
    assert table.row_numbers == [2, 3, 4, 5, 6, 7]


def test_group_line_over_the_header(tmp_path):
    group = ["Member details", None, None, "Contact", None, None, "Remittance"]
    rows = [group, HEADER, *TEXT_ROWS, *TYPED_ROWS]
    table = only_table(make_book(tmp_path / "e.xlsx", {"S": rows}))
    assert table.header_rows == (1, 2)
    assert table.headers[0] == "Member details Member ID"
    assert table.headers[6] == "Remittance Amount"
    assert table.row_numbers == [3, 4, 5, 6]
    merged = make_book(
        tmp_path / "f.xlsx",
        {"S": rows},
        merges=[("S", "A1:C1"), ("S", "D1:F1")],
    )
    table = only_table(merged)
    assert table.header_rows == (1, 2) and table.row_numbers == [3, 4, 5, 6]
    assert table.headers[1] == "Member details Name"


def test_line_break_inside_a_header_cell(tmp_path):
    header = [h.replace("Date of Birth", "Date of\nBirth") for h in HEADER]
    rows = [header, *TEXT_ROWS, *TYPED_ROWS]
    table = only_table(make_book(tmp_path / "g.xlsx", {"S": rows}))
    assert table.header_rows == (1, 1)
    assert table.headers[3] == "Date of Birth"
    assert table.row_numbers == [2, 3, 4, 5]


def test_side_by_side_tables_are_two_tables(tmp_path):
    rows = [
        [*HEADER[:3], None, "Fee code", "Amount"],
        [*TEXT_ROWS[0][:3], None, "F1", 12.5],
        [*TEXT_ROWS[1][:3], None, "F2", 1200],
        [*TYPED_ROWS[0][:3], None, None, None],
        [*TYPED_ROWS[1][:3], None, None, None],
    ]
    left, right = extract(make_book(tmp_path / "h.xlsx", {"S": rows})).tables
    assert (left.range, left.header_rows) == ("A1:C5", (1, 1))
    assert left.headers == tuple(HEADER[:3]) and left.row_numbers == [2, 3, 4, 5]
    assert (right.range, right.header_rows) == ("E1:F3", (1, 1))
    assert right.headers == ("Fee code", "Amount") and right.row_numbers == [2, 3]
    assert right.rows == [["F1", 12.5], ["F2", 1200]]


def test_side_by_side_tables_starting_on_different_rows(tmp_path):
    rows = [
        ["Name", "Joined", None, None, None],
        ["Ann", dt.date(2020, 1, 2), None, "Code", "Fee"],
        ["Bob", dt.date(2021, 3, 4), None, "F1", 12.5],
        ["Cy", dt.date(2022, 5, 6), None, "F2", 20],
    ]
    left, right = extract(make_book(tmp_path / "i.xlsx", {"S": rows})).tables
    assert left.header_rows == (1, 1) and left.row_numbers == [2, 3, 4]
    assert right.header_rows == (2, 2) and right.row_numbers == [3, 4]
    assert right.columns == (3, 4)


def test_a_blank_column_inside_one_table_does_not_split_it(tmp_path):
    rows = [["Code", None, "Qty", "Price"]]
    rows += [[f"C{i}", None, i, i * 1.5] for i in range(1, 5)]
    (table,) = extract(make_book(tmp_path / "j.xlsx", {"S": rows})).tables
    assert table.columns == (0, 1, 2, 3) and table.row_numbers == [2, 3, 4, 5]


def test_a_first_row_of_amounts_and_dates_is_data_not_a_crash(tmp_path):
    # A roster row missing its name, with an amount, a date and a number: the
    # "rising column years" check compared a float with a date (TypeError).
    rows = [[None, 12.5, dt.date(2020, 1, 2), 7.0]]
    rows += [[n, 13.5 + i, dt.date(2020, 2 + i, 3), 8.0 + i] for i, n in
             enumerate(["Ann", "Bob", "Cy"])]  # fmt: skip
    (table,) = extract(make_book(tmp_path / "k.xlsx", {"S": rows})).tables
    assert table.header_rows is None and table.row_numbers == [1, 2, 3, 4]
