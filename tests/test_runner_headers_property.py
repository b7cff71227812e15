"""Property: for any sheet, every non-empty row is accounted for exactly once.

Random sheets (titles, notes, form lines, typed and text values, side-by-side
blocks, merged cells, forced header rows) go through the extractor and the whole
engine with a small config that may re-rank header candidates. In the report,
every non-empty cell lies in exactly one table's column span on exactly one of
that table's header lines or data rows (``header_rows`` / ``data_rows``), so each
non-empty row is named once per column strip, never twice, never lost.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.engine import process
from runner.extract import Extraction, sheet_layout
from runner.package import load_package
from runner.readers import SheetData
from tests.test_runner_pipeline_kit import header_detector, write_package

WORDS = ["Name", "E-mail", "Member ID", "Amount", "City", "Total", "Notes", "Region"]
VALUES = [
    "2024-05-01", "08/18/1985", "ada@example.org", "M000123", "1,234.50", "$99.00",
    "(555) 123-4567", "02134", "Ann", "Rome", 1990, 2005, 3, 17.5, -4,
    dt.date(2020, 1, 2), True,
]  # fmt: skip
OTHER = [
    "(NA)", "-", "x", "Date:", "(USD)", "Riverside Rowing Club",
    "A long sentence that reads like a note written below the table",
]  # fmt: skip
CELL = st.one_of(
    st.none(), st.none(), st.none(), st.sampled_from(WORDS + VALUES + OTHER)
)


@st.composite
def sheets(draw):
    height = draw(st.integers(1, 24))
    width = draw(st.integers(1, 8))
    rows = [[draw(CELL) for _ in range(width)] for _ in range(height)]
    for _ in range(draw(st.integers(0, 2))):  # realistic blocks: a header and data
        top = draw(st.integers(0, height - 1))
        left = draw(st.integers(0, width - 1))
        right = draw(st.integers(left, width - 1))
        bottom = min(height, top + draw(st.integers(2, 9)))
        for i in range(top, bottom):
            for j in range(left, right + 1):
                pool = WORDS if i == top else VALUES
                rows[i][j] = draw(st.sampled_from(pool))
        if bottom < height and right > left and draw(st.booleans()):  # totals
            rows[bottom][left : right + 1] = [None] * (right - left + 1)
            rows[bottom][left], rows[bottom][right] = "Total", 1234.5
        if draw(st.booleans()) and right + 2 < width:  # an empty column beside
            for row in rows[top : top + 9]:
                row[right + 1] = None
    merged = ()
    if draw(st.booleans()) and width >= 2:
        r, c = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 2))
        merged = ((r, c, r, draw(st.integers(c + 1, width - 1))),)
    return rows, merged


HINTS = st.one_of(
    st.none(),
    st.integers(1, 26).map(lambda r: (r, r, "hints.header_row")),
    st.tuples(st.integers(1, 20), st.integers(0, 3)).map(
        lambda t: (t[0], t[0] + t[1], "hints.header_rows['S']")
    ),
)


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    amount = (
        "def detect(*, values, **_):\n"
        "    nums = [v for v in values if isinstance(v, (int, float))]\n"
        "    return 1.0 if values and len(nums) * 2 > len(values) else None\n"
    )
    root = write_package(
        tmp_path_factory.mktemp("cfg"),
        {
            "name": header_detector("name", "name"),
            "email": header_detector("email", "mail"),
            "amount": amount,
        },
    )
    package = load_package(root)
    yield package
    package.unload()


def report_of(pkg, rows, merged, offset, forced):
    row0, col0 = offset
    merged = tuple((a + row0, b + col0, c + row0, d + col0) for a, b, c, d in merged)
    sheet = SheetData("S", row0, col0, [list(r) for r in rows], merged)
    layout = sheet_layout(sheet, forced)
    extraction = Extraction(
        1, layout.tables, tuple(layout.choices), tuple(layout.findings)
    )
    return process(pkg, extraction, None)


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    sheet=sheets(),
    offset=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    forced=HINTS,
)
def test_every_non_empty_row_is_accounted_for_exactly_once(pkg, sheet, offset, forced):
    rows, merged = sheet
    report = report_of(pkg, rows, merged, offset, forced)
    places: dict[tuple[int, int], int] = {}
    for t in report["tables"]:
        cols = [column_index(c["column"]) for c in t["columns"]]
        lines = set()
        if t["header_rows"]:
            first, last = t["header_rows"]
            assert t["header_row"] == last
            lines = set(range(first, last + 1))
        data = {r for a, b in t["data_rows"] for r in range(a, b + 1)}
        assert t["rows"] == len(data) and not lines & data
        assert t["rows"] or t["header_rows"]  # a block without data names its lines
        for r in lines | data:
            for c in range(min(cols), max(cols) + 1):
                places[r, c] = places.get((r, c), 0) + 1
    row0, col0 = offset
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                where = (i + row0 + 1, j + col0)
                assert places.get(where) == 1, (where, rows, forced, report["tables"])
    # Findings about the layout carry what the dry-run view needs.
    for f in report["findings"]:
        if f["code"] == "header_uncertain":
            assert f["severity"] == "warning" and "alternative" in f
        if f["code"] == "header_hint_unused":
            assert forced is not None and f["row"] == forced[1]
