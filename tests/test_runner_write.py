"""The normalized workbook: read back with openpyxl and calamine, value by value."""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import random
import threading
import zipfile

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from runner import write
from runner.write import CHUNK_ROWS, OutputTable, write_workbook

FINDINGS = [
    {"sheet": "S", "row": None, "field": "phone", "code": "required_missing",
     "severity": "error", "message": "required field 'Phone' matched no column"},
    {"sheet": "S", "row": 3, "field": "email", "code": "invalid",
     "severity": "warning", "message": "<bad> & \"odd\""},
]  # fmt: skip


class Odd:
    def __str__(self):
        return "odd object"


def read(path):
    wb = load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_sheets_header_rows_and_source_columns(tmp_path):
    out = tmp_path / "out.xlsx"
    tables = [
        OutputTable("Roster", [[1, 2], ["a", "b"]], [5, 7]),
        OutputTable("Other", [[3], [None]], [2]),
        OutputTable("Empty", [[], []], []),
    ]
    assert write_workbook(out, ["Member", "Email"], tables, FINDINGS) == 3
    sheets = read(out)
    assert list(sheets) == ["Normalized", "Issues"]
    assert sheets["Normalized"] == [
        ["Member", "Email", "source_sheet", "source_row"],
        [1, "a", "Roster", 5],
        [2, "b", "Roster", 7],
        [3, None, "Other", 2],
    ]
    assert sheets["Issues"] == [
        ["sheet", "row", "field", "code", "severity", "message"],
        ["S", None, "phone", "required_missing", "error",
         "required field 'Phone' matched no column"],
        ["S", 3, "email", "invalid", "warning", "<bad> & \"odd\""],
    ]  # fmt: skip


VALUES = [
    (0, 0),
    (-12345678901, -12345678901),
    (2.5, 2.5),
    (1e-300, 1e-300),
    (True, True),
    (False, False),
    ("plain", "plain"),
    ("=SUM(A1:A2)", "=SUM(A1:A2)"),  # data, never a formula
    ("  padded ", "  padded "),
    ("a & b < c > d", "a & b < c > d"),
    ("tab\there\nnew line", "tab\there\nnew line"),
    ("bell\x07 and nul\x00", "bell and nul"),
    ("x" * 40000, "x" * 32767),
    ("\u00a0nbsp\u2028", "\u00a0nbsp\u2028"),
    ("\tlead", "\tlead"),
    ("trail\n", "trail\n"),
    ("vt\x0b<", "vt<"),
    ("émoji 🎉 中文", "émoji 🎉 中文"),
    (dt.date(2024, 2, 29), dt.datetime(2024, 2, 29)),
    (dt.datetime(2024, 2, 29, 13, 45, 30), dt.datetime(2024, 2, 29, 13, 45, 30)),
    (
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2024, 1, 2, 3, 4, 5),
    ),
    (dt.time(6, 30), dt.time(6, 30)),
    (dt.date(1899, 1, 1), "1899-01-01"),  # Excel has no such date
    (decimal.Decimal("1.25"), 1.25),
    (decimal.Decimal("NaN"), "NaN"),
    (fractions.Fraction(1, 4), 0.25),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (Odd(), "odd object"),
    ([1, 2], "[1, 2]"),
    (None, None),
]


def test_values_round_trip_through_openpyxl(tmp_path):
    out = tmp_path / "out.xlsx"
    column = [v for v, _ in VALUES]
    write_workbook(
        out, ["v"], [OutputTable("S", [column], list(range(len(column))))], []
    )
    got = [row[0] for row in read(out)["Normalized"][1:]]
    assert got == [expected for _, expected in VALUES]


def test_calamine_reads_it_too(tmp_path):
    out = tmp_path / "out.xlsx"
    columns = [[1, 2.5, "=x", dt.date(2020, 5, 17), True, None]]
    write_workbook(out, ["v"], [OutputTable("S", columns, [1, 2, 3, 4, 5, 6])], [])
    wb = CalamineWorkbook.from_path(str(out))
    assert wb.sheet_names == ["Normalized", "Issues"]
    rows = wb.get_sheet_by_name("Normalized").to_python()
    assert [r[0] for r in rows] == ["v", 1, 2.5, "=x", dt.date(2020, 5, 17), True, ""]
    assert rows[3][1:] == ["S", 3]


def test_large_tables_are_chunked_and_report_progress(tmp_path):
    out = tmp_path / "out.xlsx"
    n = 2 * CHUNK_ROWS + 17
    seen = []
    table = OutputTable(
        "S", [list(range(n)), [f"r{i}" for i in range(n)]], list(range(n))
    )
    assert (
        write_workbook(
            out, ["a", "b"], [table], [], progress=lambda p, r: seen.append((p, r))
        )
        == n
    )  # noqa: E501
    assert seen == [("write", CHUNK_ROWS), ("write", 2 * CHUNK_ROWS), ("write", n)]
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Normalized")
    rows = rows.to_python()
    assert len(rows) == n + 1
    assert rows[-1] == [n - 1, f"r{n - 1}", "S", n - 1]


def test_output_is_byte_for_byte_deterministic(tmp_path):
    table = OutputTable("S", [[1, "a", dt.datetime(2020, 1, 1)]], [1, 2, 3])
    write_workbook(tmp_path / "a.xlsx", ["x"], [table], FINDINGS)
    write_workbook(tmp_path / "b.xlsx", ["x"], [table], FINDINGS)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert zf.testzip() is None


def test_a_failing_write_raises(tmp_path):
    with pytest.raises(OSError):
        write_workbook(tmp_path / "missing" / "out.xlsx", ["x"], [], [])


def test_more_rows_than_a_sheet_holds_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "MAX_SHEET_ROWS", 4)  # Excel's 1,048,576, made small
    tables = [OutputTable("S", [[1, 2]], [1, 2]), OutputTable("T", [[3, 4]], [1, 2])]
    with pytest.raises(write.TooManyRowsError, match="has 4 rows"):
        write_workbook(tmp_path / "out.xlsx", ["x"], tables, [])
    assert not (tmp_path / "out.xlsx").exists()
    findings = [dict(FINDINGS[1], row=i) for i in range(5)]
    write_workbook(tmp_path / "out.xlsx", ["x"], tables[:1], findings)
    issues = read(tmp_path / "out.xlsx")["Issues"]
    assert [r[1] for r in issues[1:3]] == [0, 1]
    assert issues[3] == [
        None,
        None,
        None,
        "truncated",
        "info",
        "3 more issues not listed",
    ]
    assert len(issues) == 4


def test_writes_inline_when_no_thread_can_start(tmp_path, monkeypatch):
    def refuse(self):
        raise RuntimeError("can't start new thread")  # RLIMIT_NPROC reached

    monkeypatch.setattr(threading.Thread, "start", refuse)
    out = tmp_path / "out.xlsx"
    write_workbook(out, ["a"], [OutputTable("S", [[1, "x"]], [1, 2])], [])
    monkeypatch.undo()
    assert read(out)["Normalized"] == [
        ["a", "source_sheet", "source_row"], [1, "S", 1], ["x", "S", 2],
    ]  # fmt: skip


def test_whole_column_paths_write_what_the_per_value_path_writes():
    # Columns of plain texts and of ints take one comprehension each; a single odd
    # value (markup, an edge space, a control character, a too long text, a bool,
    # a None) must send the column back to the per-value path, with the same XML.
    from runner.write import MAX_CELL_CHARS, _column_cells, _mixed_cells

    rnd = random.Random(4)
    odd = [
        "a & b", "<x>", "1 > 0", " lead", "trail ", "tab\there", "new\nline",
        "nul\0", "\x07bell", "x" * (MAX_CELL_CHARS + 1), "", " ", "é ü 中",
        True, None, 2.5, -3, 10**20, dt.date(2020, 1, 2),
    ]  # fmt: skip
    plain = ["Alice", "Smith-Jones", "a@b.org", "(555) 123-4567", "0042", "Ünïcode"]
    for _ in range(300):
        n = rnd.randint(1, 12)
        if rnd.random() < 0.5:
            values = [rnd.choice(plain) for _ in range(n)]
        else:
            values = [rnd.randint(-(10**6), 10**6) for _ in range(n)]
        if rnd.random() < 0.6:
            values[rnd.randrange(n)] = rnd.choice(odd)
        rows = [str(r) for r in range(7, 7 + n)]
        assert _column_cells(values, "C", rows) == _mixed_cells(values, "C", rows), (
            values
        )
