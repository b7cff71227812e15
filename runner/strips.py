"""Side-by-side tables: split a sheet at empty columns into vertical strips.

Two tables placed next to each other with one or more empty columns between them
are two tables. An empty column inside one table (a spacer between "Code" and
"Qty") is not a split. The rule: a run of empty columns splits the sheet when the
parts on both sides use at least two columns each, the right part has a line with
two or more texts of its own (a header), and either below the top of the
lower-starting part at least ``MIN_ODD_ROWS`` rows have cells on one side only (the
two tables differ in length or position), or one part's header line sits on a row
where the other part holds values (the tables start at different rows). The
sheet-wide test is cheap: one integer mask per distinct row type tuple, then one
pass of integer operations over the rows only when an empty column exists.
"""

from __future__ import annotations

from runner.cellshape import VALUES, WORDS, YEAR, cell_class
from runner.rowkinds import Shape

MIN_ODD_ROWS = 2  # rows with cells on one side only that prove two tables


def strips(rows: list[list], shapes: list[Shape]) -> list[tuple[int, int]]:
    """Inclusive local column ranges, left to right; one range for most sheets."""
    used = 0
    for s in set(shapes):
        used |= s.mask
    if not used:
        return [(0, max(len(rows[0]) - 1, 0) if rows else 0)]
    cols = [j for j in range(used.bit_length()) if used >> j & 1]
    parts = [[cols[0], cols[0]]]
    for j in cols[1:]:
        if j == parts[-1][1] + 1:
            parts[-1][1] = j
        else:
            parts.append([j, j])
    if len(parts) == 1:
        return [(cols[0], cols[-1])]
    merged = [parts[0]]
    for part in parts[1:]:
        left = merged[-1]
        if _two_tables(rows, shapes, (left[0], left[1]), (part[0], part[1]), used):
            merged.append(part)
        else:
            left[1] = part[1]
    return [(a, b) for a, b in merged]


def _bits(c0: int, c1: int) -> int:
    return ((1 << (c1 + 1)) - 1) ^ ((1 << c0) - 1)


def _two_tables(
    rows: list[list],
    shapes: list[Shape],
    left: tuple[int, int],
    right: tuple[int, int],
    used: int,
) -> bool:
    lmask, rmask = _bits(*left) & used, _bits(*right) & used
    if lmask.bit_count() < 2 or rmask.bit_count() < 2:
        return False
    on_left = [i for i, s in enumerate(shapes) if s.mask & lmask]
    on_right = [i for i, s in enumerate(shapes) if s.mask & rmask]
    if not on_left or not on_right:
        return False
    if not any(_texts(rows[i], right) >= 2 for i in on_right[:5]):
        return False  # no header of its own: columns of the same table
    top = max(on_left[0], on_right[0])
    odd = len(set(on_left).symmetric_difference(on_right) - set(range(top)))
    if odd >= MIN_ODD_ROWS:
        return True
    return _header_beside_values(rows, on_right, right, left) or (
        _header_beside_values(rows, on_left, left, right)
    )


def _texts(row: list, span: tuple[int, int]) -> int:
    return sum(1 for v in row[span[0] : span[1] + 1] if v.__class__ is str)


def _header_beside_values(
    rows: list[list], on: list[int], span: tuple[int, int], other: tuple[int, int]
) -> bool:
    """The first line of ``span`` with two labels and no values sits on a row where
    ``other`` holds values (a number, a date, an e-mail, ...)."""
    for i in on[:5]:
        cls = [cell_class(v) for v in rows[i][span[0] : span[1] + 1]]
        labels = sum(1 for c in cls if c == WORDS)
        if labels >= 2 and not any(c in VALUES for c in cls):
            beside = [cell_class(v) for v in rows[i][other[0] : other[1] + 1]]
            return any(c in VALUES and c != YEAR for c in beside)
    return False


__all__ = ["MIN_ODD_ROWS", "strips"]
