"""A small preview of a run's output, for the report (``report["preview"]``).

The editor's dry run shows the first normalized rows beside the mapping matrix. They
are taken here, inside the sandboxed worker, from the values the engine is about to
write: the service never parses a workbook that config code wrote. The preview is
capped (rows per table, cells in all, characters per cell) so it cannot swell the
report, and its values are plain JSON (dates as ISO text, anything else as text).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from runner.hints import sheet_hint

MAX_ROWS = 20  # rows per table
MAX_CELLS = 2000  # cells over every table
MAX_TABLES = 10
MAX_TEXT = 200  # characters per cell or line of skipped text
MAX_SKIPPED = 10  # data-less lines shown above a table


def build_preview(
    tables: Sequence[Any],
    data: Mapping[int, Mapping[str, list[Any]]],
    findings: Sequence[Mapping[str, Any]],
    fields: Sequence[tuple[str, str]],
    hints: Mapping[str, Any],
) -> dict[str, Any]:
    """The preview of the tables that have data (``data``: table index → the
    output columns by field key, in ordinal order). ``fields`` are ``(key, label)``
    in ordinal order; ``hints`` the manifest's hints (a forced header row is
    flagged). Each preview table names its index in ``report["tables"]``."""
    issues = _issues_by_cell(findings)
    budget = MAX_CELLS
    out = []
    for i, table in enumerate(tables):
        if i not in data or len(out) >= MAX_TABLES:
            continue
        width = len(fields) + 2  # plus source sheet and row
        n = max(0, min(MAX_ROWS, len(table.row_numbers), budget // max(width, 1)))
        budget -= n * width
        rows = [_row(table, data[i], fields, r, issues) for r in range(n)]
        out.append(
            {
                "table": i,
                "sheet": table.sheet,
                "header_rows": list(table.header_rows) if table.header_rows else None,
                "forced_header": _forced(table, hints, findings),
                "total_rows": len(table.row_numbers),
                "rows": rows,
                "skipped_above": _skipped_above(tables, i),
            }
        )
    return {
        "columns": [{"key": k, "label": label} for k, label in fields],
        "tables": out,
        "max_rows": MAX_ROWS,
    }


def _issues_by_cell(findings: Sequence[Mapping[str, Any]]) -> dict:
    """``{(sheet, row): {field or "": [message, ...]}}`` of row-level findings."""
    out: dict[tuple[Any, Any], dict[str, list[str]]] = {}
    for f in findings:
        if f.get("row") is None:
            continue
        cell = out.setdefault((f.get("sheet"), f["row"]), {})
        cell.setdefault(f.get("field") or "", []).append(_text(f.get("message")))
    return out


def _row(table, columns, fields, r: int, issues: dict) -> dict[str, Any]:
    row = table.row_numbers[r]
    return {
        "row": row,
        "values": [_value(columns[key][r]) for key, _label in fields],
        "issues": issues.get((table.sheet, row), {}),
    }


def _forced(
    table, hints: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]
) -> bool:
    """Did a hint (``hints.header_rows`` for the table's sheet, else
    ``hints.header_row``) put this table's header where it is? A hint the extractor
    ignored (a ``header_hint_unused`` warning) did not."""
    if not isinstance(hints, Mapping) or not table.header_rows:
        return False
    row = hints.get("header_row")
    rows = hints.get("header_rows")
    forced = sheet_hint(
        table.sheet,
        row if isinstance(row, int) else None,
        rows if isinstance(rows, Mapping) else None,
    )
    if forced is None or table.header_rows[1] != forced[1]:
        return False
    return not any(
        f.get("code") == "header_hint_unused"
        and f.get("sheet") == table.sheet
        and f.get("row") == forced[1]
        for f in findings
    )


def _skipped_above(tables: Sequence[Any], i: int) -> list[dict[str, Any]]:
    """The data-less blocks (titles, notes) between the previous table with data on
    the same sheet and table ``i``: the lines the extractor did not take as data."""
    sheet = tables[i].sheet
    found = []
    for table in reversed(tables[:i]):
        if table.sheet != sheet or table.rows:
            break
        if table.header_rows is None:
            continue
        text = " · ".join(_text(h) for h in table.headers if h not in (None, ""))
        found.append({"rows": list(table.header_rows), "text": text})
    return list(reversed(found))[-MAX_SKIPPED:]


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return _text(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return _text(value)


def _text(value: Any) -> str:
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - a config's object whose __str__ raises
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
