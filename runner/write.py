"""The write phase: the normalized workbook (`Normalized` + `Issues`), streamed.

openpyxl write-only mode (lxml makes it ~30 % faster, NOTES.md). Cells are plain
values without styles, except that openpyxl styles dates itself so Excel shows them
as dates. Values a config returned that a cell cannot hold are written as text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

PROGRESS_EVERY = 5000
MAX_CELL_CHARS = 32767
ISSUE_HEADERS = ("sheet", "row", "field", "code", "severity", "message")
SAFE = frozenset({int, bool, dt.date, type(None)})  # types written as they are


class OutputTable:
    """One table's normalized rows, column-wise, ready to write."""

    def __init__(self, sheet: str, columns: Sequence[list[Any]], rows: Sequence[int]):
        self.sheet = sheet
        self.columns = columns  # one list per field, ordinal order
        self.row_numbers = rows


def write_workbook(
    path: Path,
    labels: Sequence[str],
    tables: Iterable[OutputTable],
    findings: Iterable[dict[str, Any]],
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Write the normalized workbook to `path`; return the number of data rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Normalized")
    ws.append([_clean(ws, v) for v in (*labels, "source_sheet", "source_row")])
    written = 0
    for table in tables:
        columns = [_clean_column(ws, c) for c in table.columns]
        sheet = [_clean(ws, table.sheet)] * len(table.row_numbers)
        for row in zip(*columns, sheet, table.row_numbers, strict=True):
            ws.append(row)
            written += 1
            if progress and written % PROGRESS_EVERY == 0:
                progress("write", written)
    issues = wb.create_sheet("Issues")
    issues.append(ISSUE_HEADERS)
    for finding in findings:
        issues.append([_clean(issues, finding[k]) for k in ISSUE_HEADERS])
    wb.save(path)
    return written


def _clean_column(ws: Any, values: list[Any]) -> list[Any]:
    """The column, with values openpyxl would mangle or reject made safe."""
    out = values
    for i, value in enumerate(values):
        kind = type(value)
        if kind in SAFE:
            continue
        if kind is str:
            if not (
                value.startswith("=")
                or len(value) > MAX_CELL_CHARS
                or ILLEGAL_CHARACTERS_RE.search(value)
            ):
                continue
        elif kind is float:
            if math.isfinite(value):
                continue
        elif kind is dt.datetime and value.tzinfo is None:
            continue
        if out is values:
            out = list(values)
        out[i] = _clean(ws, value)
    return out


def _clean(ws: Any, value: Any) -> Any:
    """One value as something a cell holds as data (never a formula)."""
    kind = type(value)
    if kind in SAFE or (kind is float and math.isfinite(value)):
        return value
    if isinstance(value, dt.datetime | dt.time):
        return value.replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, dt.date):
        return value
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return float(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    text = value if isinstance(value, str) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]
    if text.startswith("="):  # data, never a formula
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        return cell
    return text
