"""Forced header rows (``hints.header_row``, ``hints.header_rows``): which applies to
a sheet, and whether the forced line can be a header at all.

A hint written for one workbook (or left in a draft from the README's example)
must not silently map a title or a data row as the header of another: a forced
line that is empty, a lone cell over a wider table, a line of values shaped like
the data below it, or a line with nothing below is ignored with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.evidence import FEATURES, block_features, body_sample
from runner.rowkinds import EMPTY
from runner.typed import TypedRows

_AGREE = FEATURES.index("agree")


Forced = tuple[int, int, str]
"""A forced header block: first and last 1-based sheet rows, and the hint's name."""


def sheet_hint(
    name: str,
    header_row: int | None,
    header_rows: Mapping[str, int | Sequence[int]] | None,
) -> Forced | None:
    """The header block forced on sheet ``name``; the per-sheet hint wins.

    ``header_rows`` maps sheet names (case-insensitive) to a row (a one-line
    header) or ``[first, last]`` (a header block, as the report's candidates give
    it); ``header_row`` forces a one-line header on every sheet.
    """
    for sheet, rows in (header_rows or {}).items():
        if sheet.casefold() == name.casefold():
            first, last = (rows, rows) if isinstance(rows, int) else rows
            return first, last, f"hints.header_rows[{sheet!r}]"
    if header_row is not None:
        return header_row, header_row, "hints.header_row"
    return None


def hint_problem(typed: TypedRows, first: int, last: int) -> str | None:
    """Why local rows ``first..last`` cannot be a header block here, or None."""
    ks, rows = typed.ks, typed.rows
    if ks[last] == EMPTY:
        return "the row is empty"
    below = next((i for i in range(last + 1, len(rows)) if ks[i] != EMPTY), None)
    if below is None:
        return "no rows below it"
    sample = body_sample(ks, below, len(rows) - 1)
    # Each column is labelled by the block's lowest cell (a units line counts).
    labels = sum(
        any(rows[i][j] is not None for i in range(first, last + 1))
        for j in range(len(rows[last]))
    )
    width = max(sum(v is not None for v in rows[i]) for i in sample)
    if labels == 1 and width >= 3:
        return f"it holds one cell over a table {width} columns wide (a title?)"
    feats = block_features(
        typed, (first, last), sample, prior=False, offset=0, gap=False
    )
    if feats[_AGREE] >= 0.5 and labels >= 2:
        return "its cells have the shapes of the data below it (a data row?)"
    return None


__all__ = ["Forced", "hint_problem", "sheet_hint"]
