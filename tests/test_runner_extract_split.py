"""Table split invariants on random grids, and header rules seen in real tables.

These call ``sheet_tables`` on in-memory sheets (no XLSX round trip) so thousands of
grids fit in a second; the XLSX path is covered by test_runner_extract.py.
"""

from __future__ import annotations

import random

import pytest

from runner.extract import column_letter, sheet_tables
from runner.readers import SheetData

CHOICES = [None] * 6 + [
    "Total",
    "(NA)",
    "-",
    "Name",
    "x",
    "Region",
    1990,
    2005,
    3,
    17.5,
]


def random_grid(rng: random.Random) -> list[list]:
    height, width = rng.randint(1, 25), rng.randint(1, 7)
    rows = [[rng.choice(CHOICES) for _ in range(width)] for _ in range(height)]
    if rng.random() < 0.5:  # a realistic block somewhere
        top, left = rng.randint(0, height - 1), rng.randint(0, width - 1)
        for i in range(top, min(height, top + rng.randint(2, 8))):
            for j in range(left, width):
                rows[i][j] = f"h{j}" if i == top else rng.randint(0, 999)
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_every_cell_lands_in_exactly_one_table(seed):
    rng = random.Random(seed)
    for _ in range(500):
        rows = random_grid(rng)
        row0, col0 = rng.randint(0, 3), rng.randint(0, 3)
        hint = rng.choice([None, None, rng.randint(1, 30)])
        sheet = SheetData("S", row0, col0, [list(r) for r in rows], ())
        seen: dict[tuple[int, int], int] = {}
        for t in sheet_tables(sheet, header_row=hint):
            assert len(t.headers) == len(t.columns)
            assert t.columns == tuple(range(t.columns[0], t.columns[-1] + 1))
            assert all(len(r) == len(t.columns) for r in t.rows)
            lines = (
                range(t.header_rows[0], t.header_rows[1] + 1) if t.header_rows else ()
            )
            assert t.rows or t.header_rows  # a block without data reports its lines
            for r in [*lines, *t.row_numbers]:
                for c in t.columns:
                    seen[r, c] = seen.get((r, c), 0) + 1
            first = t.header_rows[0] if t.header_rows else t.row_numbers[0]
            last = t.row_numbers[-1] if t.rows else t.header_rows[1]
            assert t.range == (
                f"{column_letter(t.columns[0])}{first}:"
                f"{column_letter(t.columns[-1])}{last}"
            )
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    assert seen.get((i + row0 + 1, j + col0)) == 1, (rows, hint, i, j)


def tables_of(rows: list[list]):
    width = max(map(len, rows))  # readers give rectangular grids
    return sheet_tables(
        SheetData("S", 0, 0, [r + [None] * (width - len(r)) for r in rows], ())
    )


def test_stub_label_under_the_header_is_its_last_line():
    rows = [
        [None, "Farms", "Acreage"],
        ["Size and usage", None, None],
        [None, None, None],
        ["Total acres", 20437, 2577.4],
        ["1 to 9", 9251, 29.2],
    ]
    (table,) = tables_of(rows)
    assert table.header_rows == (1, 2)
    assert table.headers == ("Size and usage", "Farms", "Acreage")


def test_group_line_after_a_spacer_belongs_to_the_data():
    rows = [
        ["Country", "Code", 2000, 2007],
        [None, None, None, None],
        ["United States", "US", None, None],
        ["Albania", "AL", 3.6, 10.5],
        ["Algeria", "AG", 48.9, 122.4],
    ]
    (table,) = tables_of(rows)
    assert table.header_rows == (1, 1)
    assert table.row_numbers == [3, 4, 5]


def test_missing_marks_row_is_data_not_header():
    rows = [
        [None, None, 2000, 2007],
        [None, None, None, None],
        ["Afghanistan", "AF", "(NA)", "(NA)"],
        ["Albania", "AL", 3.6, 10.5],
        ["Algeria", "AG", 48.9, 122.4],
    ]
    (table,) = tables_of(rows)
    assert table.header_rows == (1, 1)
    assert table.row_numbers == [3, 4, 5]


def test_numbers_inside_header_cells_do_not_start_the_data():
    rows = [
        [3, "Number of pupils by county"],
        ["County", "Total", "Public", "Private"],
        ["All", 6169, 174, 475],
        ["Oslo", 362, 3, 9],
    ]
    (table,) = [t for t in tables_of(rows) if t.rows]
    assert table.header_rows[1] == 2
    rows = [
        ["Bankruptcies"],
        [None, "Total", 50000, "51 000-100 000", ">100 000"],
        ["Total", 943, 1, 491, 164],
        ["Oslo", 131, 0, 78, 9],
    ]
    (table,) = [t for t in tables_of(rows) if t.rows]
    assert table.header_rows == (2, 2) and table.row_numbers == [3, 4]
    rows = [
        ["Health expenditure"],
        [None, 1997, 1998, 20071],
        ["Total", 94008, 105500, 115711],
        ["Capital", 5635, 7480, 8945],
    ]
    (table,) = [t for t in tables_of(rows) if t.rows]
    assert table.header_rows == (2, 2)
    assert table.headers == (None, "1997", "1998", "20071")


def test_footnotes_below_the_data_are_not_data():
    rows = [
        ["Waste", 2008, 2009, 2010],
        ["Hazardous 1", 233, 78, 98],
        ["Total", 391, 166, 222],
        [1, "Hazardous waste delivered to approved facilities", None, None],
        [None, None, None, None],
        ["Source: Statistics Norway, waste accounts", None, None, None],
    ]
    table, notes, source = tables_of(rows)
    assert table.row_numbers == [2, 3] and table.rows[-1][0] == "Total"
    assert notes.rows == [] and notes.header_rows == (4, 4)
    assert source.rows == [] and source.header_rows == (6, 6)


def test_roster_rows_missing_a_number_stay_data():
    rows = [
        ["ID", "First", "Last"],
        [1, "Ann", "Lee"],
        [None, "Bob", "Ray"],
        [3, "Cy", "Dee"],
    ]
    (table,) = tables_of(rows)
    assert table.header_rows == (1, 1)
    assert table.row_numbers == [2, 3, 4]
