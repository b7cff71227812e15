"""The report's preview of the output rows (runner/preview.py): capped, plain
JSON, issue cells marked, data-less lines above a table, a forced header flagged."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from runner import preview


@dataclass
class T:
    sheet: str
    header_rows: tuple[int, int] | None
    headers: tuple
    rows: list
    row_numbers: list


class Weird:
    def __str__(self):
        raise RuntimeError("no")


def test_preview_rows_issues_and_skipped_lines():
    title = T("S", (1, 2), ("Club roster", None), [], [])
    table = T("S", (4, 4), ("A", "B"), [[0, 0]] * 3, [5, 6, 8])
    data = {1: {"a": [1, dt.date(2024, 5, 1), Weird()], "b": ["x" * 500, None, 1.5]}}
    findings = [
        {"sheet": "S", "row": 6, "field": "a", "message": "bad date"},
        {"sheet": "S", "row": 8, "field": None, "message": "row issue"},
        {"sheet": "S", "row": None, "field": "b", "message": "table-level"},
    ]
    out = preview.build_preview(
        [title, table], data, findings, [("a", "A"), ("b", "B")], {"header_row": 4}
    )
    json.dumps(out)  # plain JSON
    assert out["columns"] == [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]
    (t,) = out["tables"]
    assert (t["table"], t["total_rows"], t["forced_header"]) == (1, 3, True)
    assert t["skipped_above"] == [{"rows": [1, 2], "text": "Club roster"}]
    rows = t["rows"]
    assert [r["row"] for r in rows] == [5, 6, 8]
    assert rows[0]["values"][0] == 1 and len(rows[0]["values"][1]) == preview.MAX_TEXT
    assert rows[1]["values"] == ["2024-05-01", None]
    assert rows[1]["issues"] == {"a": ["bad date"]}
    assert rows[2]["values"] == ["<Weird>", 1.5] and rows[2]["issues"] == {
        "": ["row issue"]
    }


def test_preview_is_capped():
    n = 500
    tables = [
        T(f"S{i}", (1, 1), ("h",) * 30, [[0]] * n, list(range(2, n + 2)))
        for i in range(20)
    ]
    fields = [(f"f{j}", f"F{j}") for j in range(30)]
    data = {i: {k: list(range(n)) for k, _ in fields} for i in range(20)}
    out = preview.build_preview(tables, data, [], fields, {})
    assert len(out["tables"]) == preview.MAX_TABLES
    cells = sum(len(r["values"]) + 2 for t in out["tables"] for r in t["rows"])
    assert cells <= preview.MAX_CELLS
    assert all(len(t["rows"]) <= preview.MAX_ROWS for t in out["tables"])
    assert out["tables"][0]["rows"] and not out["tables"][0]["forced_header"]
