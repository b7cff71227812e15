"""Features of a candidate header line, for ranking a table's header candidates.

The strongest sign that a line is a header (Pytheas, Christodoulakis et al., VLDB
2020, column rules): in a column whose values below the line share one shape (all
numbers, all dates, all e-mails), the line's cell has another shape. The reverse —
the line's cells have the shape of the values below, or repeat them — says the
line is data. Line features after Strudel (Jiang et al., EDBT 2021: share of value
cells, empty-cell pattern, words, blank lines around) and messytables'
``headers_guess`` (a header covers about as many columns as the data) complete it.

Every feature is a number; ``runner.candidates`` scores a candidate as the dot
product with tuned weights.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from runner.cellshape import EMPTY, MISSING, VALUES, WORDS, YEAR
from runner.typed import TypedRows

SAMPLE = 25  # body rows looked at per candidate
DOMINANT = 0.6  # share of one class that makes it the column's shape
LONG_TEXT = 40

FEATURES = (
    "prior",  # the structural heuristic chose this line
    "none",  # the "no header" candidate
    "offset",  # non-empty rows between this line and the heuristic's choice
    "differ",  # share of value columns whose shape the line's cell does not share
    "agree",  # share of the line's cells that have their column's value shape
    "repeat",  # share of the line's word cells repeated in the column below
    "coverage",  # share of the body's columns the line labels
    "values",  # share of the line's cells that are values (numbers, dates, ...)
    "long",  # a cell with a sentence (a title or a note)
    "single",  # one cell over a table of several columns
    "next_differ",  # the first data row itself looks like a header line
    "gap",  # an empty row between the line and the data
    "case",  # word cells whose letter case differs from their column's
    "lines",  # non-empty lines in the header block beyond the first (max 3)
)


def body_sample(ks: list[str], start: int, end: int) -> list[int]:
    """Up to ``SAMPLE`` non-empty row indices from ``start`` to ``end``."""
    out: list[int] = []
    for i in range(start, end + 1):
        if ks[i] != "E":
            out.append(i)
            if len(out) >= SAMPLE:
                break
    return out


def column_shapes(typed: TypedRows, sample: Sequence[int]) -> dict[int, str]:
    """The dominant class of each column over ``sample`` (placeholders ignored)."""
    counts: dict[int, Counter] = {}
    for i in sample:
        for j, c in enumerate(typed.classes(i)):
            if c is not EMPTY and c != MISSING:
                counts.setdefault(j, Counter())[c] += 1
    out = {}
    for j, counter in counts.items():
        total = sum(counter.values())
        cls, n = min(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        if total >= 2 and n >= DOMINANT * total:
            out[j] = cls
    return out


def block_features(
    typed: TypedRows,
    block: tuple[int, int] | None,
    sample: Sequence[int],
    *,
    prior: bool,
    offset: int,
    gap: bool,
) -> tuple[float, ...]:
    """The ``FEATURES`` of header lines ``block`` (first, last) over ``sample``.

    Each column is labeled by the lowest non-empty cell of the block, so a units
    line or a second header line that fills only some columns is judged with the
    lines above it.
    """
    if not sample:
        return _vector(prior=float(prior), none=float(block is None), offset=offset)
    shapes = column_shapes(typed, sample)
    nxt = _differ_share(typed, sample[0], column_shapes(typed, sample[1:]))
    if block is None:
        return _vector(prior=float(prior), none=1.0, offset=offset, next_differ=nxt)
    cls, row, lines = _lowest_cells(typed, block)
    labeled = [j for j, c in enumerate(cls) if c is not EMPTY]
    if not labeled:
        return _vector(prior=float(prior), offset=offset, next_differ=nxt)
    value_cols = [j for j, c in shapes.items() if c in VALUES]
    differ = sum(1 for j in value_cols if cls[j] is not EMPTY and cls[j] != shapes[j])
    agree = sum(1 for j in labeled if shapes.get(j) in VALUES and cls[j] == shapes[j])
    words = [j for j in labeled if cls[j] == WORDS and shapes.get(j) == WORDS]
    below = _column_texts(typed, sample, words)
    repeat = sum(1 for j in words if _norm(row[j]) in below[j])
    case = sum(1 for j in words if _case_differs(row[j], typed, sample, j))
    body_cols = {
        j for i in sample for j, c in enumerate(typed.classes(i)) if c is not EMPTY
    }
    n = len(labeled)
    return _vector(
        prior=float(prior),
        offset=offset,
        differ=differ / max(1, len(value_cols)),
        agree=agree / n,
        repeat=repeat / n,
        coverage=len(body_cols & set(labeled)) / max(1, len(body_cols)),
        values=sum(1 for j in labeled if cls[j] in VALUES and cls[j] != YEAR) / n,
        long=float(any(_long(row[j]) for j in labeled)),
        single=float(n == 1 and len(body_cols) >= 2),
        next_differ=nxt,
        gap=float(gap),
        case=case / n,
        lines=float(min(3, lines - 1)),
    )


def _lowest_cells(
    typed: TypedRows, block: tuple[int, int]
) -> tuple[list[str], list[object], int]:
    """Per column, the class and value of the block's lowest non-empty cell, and the
    number of non-empty lines."""
    first, last = block
    width = len(typed.rows[last])
    cls = [EMPTY] * width
    row: list[object] = [None] * width
    lines = 0
    for i in range(last, first - 1, -1):
        line = typed.classes(i)
        if any(c is not EMPTY for c in line):
            lines += 1
        for j, c in enumerate(line):
            if cls[j] is EMPTY and c is not EMPTY:
                cls[j], row[j] = c, typed.rows[i][j]
    return cls, row, max(lines, 1)


def _vector(**named: float) -> tuple[float, ...]:
    return tuple(float(named.get(name, 0.0)) for name in FEATURES)


def _differ_share(typed: TypedRows, line: int, shapes: dict[int, str]) -> float:
    """Share of the cells row ``line`` has in value columns that do not have the
    column's shape (a units line ``(USD)`` under a header: 1.0; a data row with
    gaps: 0.0)."""
    cls = typed.classes(line)
    filled = [j for j, c in shapes.items() if c in VALUES and cls[j] is not EMPTY]
    if not filled:
        return 0.0
    return sum(1 for j in filled if cls[j] != shapes[j]) / len(filled)


def _column_texts(
    typed: TypedRows, sample: Sequence[int], cols: list[int]
) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {j: set() for j in cols}
    for i in sample:
        row = typed.rows[i]
        for j in cols:
            v = row[j]
            if v.__class__ is str:
                out[j].add(_norm(v))
    return out


def _norm(v: object) -> str:
    return " ".join(str(v).split()).lower()


def _case_of(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return ""
    if all(c.isupper() for c in letters):
        return "upper"
    if all(c.islower() for c in letters):
        return "lower"
    return "mixed"


def _case_differs(v: object, typed: TypedRows, sample: Sequence[int], j: int) -> bool:
    """Pytheas' case rule: the column below agrees on a letter case, the cell not."""
    cases = {_case_of(str(typed.rows[i][j])) for i in sample if typed.rows[i][j]}
    cases.discard("")
    return len(cases) == 1 and _case_of(str(v)) not in cases


def _long(v: object) -> bool:
    return v.__class__ is str and (len(v) > LONG_TEXT or len(v.split()) >= 7)


__all__ = ["FEATURES", "SAMPLE", "block_features", "body_sample", "column_shapes"]
