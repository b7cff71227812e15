"""Cheap per-row features for table and header detection.

A row is summarised by the tuple of its cell types. Data rows of one table nearly
always share that tuple, so features are computed once per distinct tuple and looked
up for the rest: the per-row cost on a large sheet is one ``tuple(map(type, row))``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

EMPTY, TEXT, YEARS, DATA = "E", "T", "Y", "N"
"""Row kinds: empty; text only; text plus year-like integers only (a header line such
as ``Item | 1990 | 2000``); data (has a number, date or bool that is not a year)."""

_NUMERIC = (int, float, bool, dt.date, dt.datetime)
_NONE = type(None)
# Statistical placeholders that fill numeric cells: (NA), (X), n/a, -, ..., *.
_MISSING = re.compile(r"^(\([A-Za-z]{1,2}\)|n/?a|n\.a\.)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"^(\(?[A-Za-z]\)?|\([A-Za-z]{1,2}\)|n/?a|n\.a\.|[-\u2013\u2014.\u2026*x]*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, eq=False)  # identity hash: one object per type tuple
class Shape:
    """Features of one type tuple."""

    count: int  # non-empty cells
    first: int  # local index of the first non-empty cell, -1 if none
    last: int
    texts: int  # str cells
    ints_only: bool  # every numeric cell is an int (so it may be a year)
    numeric: int  # numeric / date / bool cells
    mask: int  # bit j set when cell j is non-empty (finds empty columns)


_cache: dict[tuple, Shape] = {}


def shape_of(row: list) -> Shape:
    """The ``Shape`` of a row (cached by its type tuple)."""
    key = tuple(map(type, row))
    shape = _cache.get(key)
    if shape is None:
        if len(_cache) > 50_000:  # pathological sheets: keep memory bounded
            _cache.clear()
        shape = _cache[key] = _make_shape(key)
    return shape


def _make_shape(key: tuple) -> Shape:
    idx = [i for i, t in enumerate(key) if t is not _NONE]
    numeric = [t for t in key if t is not _NONE and t is not str]
    return Shape(
        count=len(idx),
        first=idx[0] if idx else -1,
        last=idx[-1] if idx else -1,
        texts=sum(1 for t in key if t is str),
        ints_only=all(t is int for t in numeric),
        numeric=len(numeric),
        mask=sum(1 << i for i in idx),
    )


def is_year(v: object) -> bool:
    """An integer that reads like a calendar year in a header."""
    return v.__class__ is int and 1800 <= v <= 2100


def kind_of(row: list, shape: Shape | None = None) -> str:
    """EMPTY, TEXT, YEARS or DATA for one row."""
    s = shape or shape_of(row)
    if s.count == 0:
        return EMPTY
    if s.numeric == 0:
        return TEXT
    if s.ints_only and all(is_year(v) for v in row if v.__class__ is int):
        return YEARS
    return DATA


def kinds(rows: list[list]) -> tuple[list[str], list[Shape]]:
    """Kind and ``Shape`` of every row; the one full pass over a sheet."""
    out = []
    shapes = []
    append, keep = out.append, shapes.append
    for row in rows:
        s = shape_of(row)
        keep(s)
        if s.count == 0:
            append(EMPTY)
        elif s.numeric == 0:
            append(TEXT)
        elif not s.ints_only:
            append(DATA)
        else:
            append(kind_of(row, s))
    return out, shapes


def is_missing(text: str) -> bool:
    """``(NA)``, ``(X)``, ``n/a`` and the like: a mark for a missing number (dashes
    are not: a row of them is a rule line, which belongs to a header)."""
    return bool(_MISSING.match(text.strip()))


def header_like(row: list) -> bool:
    """At least two distinct texts that are not placeholders like ``(NA)`` or ``-``,
    or year-like numbers: what a header line has and a data row usually has not."""
    texts = {
        v.strip()
        for v in row
        if v.__class__ is str and not _PLACEHOLDER.match(v.strip())
    }
    if len(texts) >= 2:
        return True
    return kind_of(row) == YEARS


def form_line(row: list) -> bool:
    """``Prepared by: | J. Smith``: a label ending in a colon and one value."""
    s = shape_of(row)
    if s.count != 2:
        return False
    v = row[s.first]
    return v.__class__ is str and v.rstrip().endswith(":")
