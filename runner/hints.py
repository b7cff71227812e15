"""Forced header rows (``hints.header_row``, ``hints.header_rows``): which applies to
a sheet, and whether the forced line can be a header at all.

A hint written for one workbook (or left in a draft from the README's example)
must not silently map a title or a data row as the header of another: a forced
line that is empty, a lone cell over a wider table, a line of values shaped like
the data below it, or a line with nothing below is ignored with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.evidence import FEATURES, block_features, body_sample
from runner.rowkinds import EMPTY
from runner.typed import TypedRows

_AGREE = FEATURES.index("agree")


def sheet_hint(
    name: str, header_row: int | None, header_rows: Mapping[str, int] | None
) -> tuple[int, str] | None:
    """``(row, hint name)`` forced on sheet ``name``; the per-sheet hint wins."""
    for sheet, row in (header_rows or {}).items():
        if sheet.casefold() == name.casefold():
            return row, f"hints.header_rows[{sheet!r}]"
    if header_row is not None:
        return header_row, "hints.header_row"
    return None


def hint_problem(typed: TypedRows, line: int) -> str | None:
    """Why local row ``line`` cannot be a header here, or None when it can."""
    ks, rows = typed.ks, typed.rows
    if ks[line] == EMPTY:
        return "the row is empty"
    below = next((i for i in range(line + 1, len(rows)) if ks[i] != EMPTY), None)
    if below is None:
        return "no rows below it"
    sample = body_sample(ks, below, len(rows) - 1)
    cells = sum(v is not None for v in rows[line])
    width = max(sum(v is not None for v in rows[i]) for i in sample)
    if cells == 1 and width >= 3:
        return f"it holds one cell over a table {width} columns wide (a title?)"
    feats = block_features(
        typed, (line, line), sample, prior=False, offset=0, gap=False
    )
    if feats[_AGREE] >= 0.5 and cells >= 2:
        return "its cells have the shapes of the data below it (a data row?)"
    return None


__all__ = ["hint_problem", "sheet_hint"]
