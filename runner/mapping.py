"""The map phase: assign physical columns to fields with the Hungarian algorithm.

Scores are scaled to integers (×100, rounded). Pairs scoring below `min_score` (or
not above zero) are zeroed before solving and never mapped. The objective is
lexicographic: the highest total score, then the highest total feature count (both
folded into one integer weight), then "earlier fields take earlier (left-most)
columns". scipy's solver has no stable tie-breaking (NOTES.md), so the last rule is
enforced by solve-then-pin: walk the fields in order and pin each to the left-most
column that keeps the optimal total. Columns are put in sheet order before anything
else, so the presentation order of columns or fields cannot change the answer.

Most tables need no solver: when the fields' left-most best columns are all
different, giving each field that column reaches the sum of the fields' maxima (no
assignment does better) and is exactly what solving and pinning returns
(``_best_rows``). A contested problem small enough (header candidates: a few
columns, a few fields) is enumerated in the same order (``_enumerated``). scipy and
numpy (~0.35 s of a cold worker's imports) are imported only for larger contested
problems; ``solver_calls`` counts those runs (the sandbox pool preloads scipy while
they happen).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SCALE = 100
MAX_SCALED = 10**9  # scores beyond ±10,000,000 are clamped to keep weights exact
FLOAT_EXACT = 2**53
ENUMERATE_UP_TO = 200  # partial assignments: fewer are enumerated, not solved
solver_calls = 0  # runs of scipy's solver in this process (the sandbox pool reads it)


def scale(score: float) -> int:
    """A score as the integer the solver sees (×100, rounded, clamped)."""
    return max(-MAX_SCALED, min(MAX_SCALED, round(score * SCALE)))


def assign(
    scores: Sequence[Sequence[float]],
    features: Sequence[Sequence[int]],
    positions: Sequence[int],
    min_score: float,
) -> list[int | None]:
    """Map each physical column to a field index (or None).

    `scores[c][f]` and `features[c][f]` are indexed by physical column and field
    (fields in ordinal order); `positions[c]` is the column's sheet index, which
    decides "left-most" and the canonical order.
    """
    n_cols = len(scores)
    n_fields = len(scores[0]) if n_cols else 0
    result: list[int | None] = [None] * n_cols
    if not n_cols or not n_fields:
        return result
    order = sorted(range(n_cols), key=lambda c: positions[c])
    weights = _weights(
        [scores[c] for c in order], [features[c] for c in order], min_score
    )
    rows = [r for r in range(n_cols) if any(weights[r])]
    cols = [f for f in range(n_fields) if any(w[f] for w in weights)]
    if not rows:
        return result
    for r, f in _pin(weights, rows, cols).items():
        result[order[r]] = f
    return result


def _weights(
    scores: list[Sequence[float]], features: list[Sequence[int]], min_score: float
) -> list[list[int]]:
    """Integer weights `scaled score * M + features`, 0 for ineligible pairs."""
    scaled = [
        [scale(s) if s >= min_score and scale(s) > 0 else 0 for s in row]
        for row in scores
    ]
    feats = [
        [f if w else 0 for f, w in zip(frow, srow, strict=True)]
        for frow, srow in zip(features, scaled, strict=True)
    ]
    k = min(len(scaled), len(scaled[0]))
    max_feat = max(max(row) for row in feats)
    multiplier = k * max_feat + 1  # more than any assignment's total features
    max_scaled = max(max(row) for row in scaled)
    if k * (max_scaled * multiplier + max_feat) >= FLOAT_EXACT:
        # Cannot fold features in exactly; fall back to scores alone.
        return scaled
    return [
        [s * multiplier + f for s, f in zip(srow, frow, strict=True)]
        for srow, frow in zip(scaled, feats, strict=True)
    ]


def _best_rows(
    weights: list[list[int]], rows: list[int], cols: list[int]
) -> dict[int, int] | None:
    """{row: col} giving each column (field) its left-most best row, when those rows
    are all distinct; None when two fields' best rows collide.

    Such an assignment reaches the sum of the fields' maxima, which no assignment
    exceeds, so it is optimal; and it is the one solve-then-pin picks: walking the
    fields in order, a row left of a field's left-most best one scores less for it
    (the total would drop), and its left-most best row keeps the optimum (every
    later field still has its own best row).
    """
    pairs: dict[int, int] = {}
    for c in cols:
        best_row, best = -1, 0
        for r in rows:
            if weights[r][c] > best:
                best_row, best = r, weights[r][c]
        if best_row in pairs:
            return None
        pairs[best_row] = c
    return pairs


def _assignments(n_rows: int, n_cols: int) -> int:
    """How many partial assignments (matchings) of n_cols fields to n_rows rows."""
    return sum(
        math.comb(n_cols, k) * math.perm(n_rows, k)
        for k in range(min(n_rows, n_cols) + 1)
    )


def _enumerated(
    weights: list[list[int]], rows: list[int], cols: list[int]
) -> dict[int, int]:
    """The best of every partial assignment by the order `_pin` implements: the
    highest total, then field by field (in order) the left-most row, a mapped field
    before an unmapped one. Only pairs of positive weight are used."""
    best: tuple[tuple, dict[int, int]] | None = None
    pairs: dict[int, int] = {}

    def walk(i: int, total: int) -> None:
        nonlocal best
        if i == len(cols):
            where = {c: r for r, c in pairs.items()}
            key = (total, tuple(-where.get(c, len(weights)) for c in cols))
            if best is None or key > best[0]:
                best = (key, dict(pairs))
            return
        c = cols[i]
        for r in rows:
            if r not in pairs and weights[r][c] > 0:
                pairs[r] = c
                walk(i + 1, total + weights[r][c])
                del pairs[r]
        walk(i + 1, total)  # c unmapped

    walk(0, 0)
    return best[1] if best else {}


def _solve(
    weights: list[list[int]], rows: list[int], cols: list[int]
) -> tuple[int, dict[int, int]]:
    """Best total and its pairs {row: col} over the given rows and columns."""
    if not rows or not cols:
        return 0, {}
    global solver_calls
    solver_calls += 1
    import numpy as np  # only larger contested problems need them
    from scipy.optimize import linear_sum_assignment

    matrix = np.array([[weights[r][c] for c in cols] for r in rows], dtype=np.float64)
    ri, ci = linear_sum_assignment(matrix, maximize=True)
    pairs = {rows[i]: cols[j] for i, j in zip(ri, ci, strict=True)}
    pairs = {r: c for r, c in pairs.items() if weights[r][c] > 0}
    return sum(weights[r][c] for r, c in pairs.items()), pairs


def _pin(weights: list[list[int]], rows: list[int], cols: list[int]) -> dict[int, int]:
    """Among optimal assignments, the one where earlier fields get earlier rows."""
    easy = _best_rows(weights, rows, cols)
    if easy is not None:
        return easy
    if _assignments(len(rows), len(cols)) <= ENUMERATE_UP_TO:
        return _enumerated(weights, rows, cols)
    best, current = _solve(weights, rows, cols)
    free_rows = list(rows)  # canonical (left-to-right) order
    free_cols = list(cols)
    pinned: dict[int, int] = {}
    for f in cols:
        free_cols.remove(f)
        chosen = next((r for r, c in current.items() if c == f), None)
        for r in free_rows:
            if r == chosen:
                break  # the current optimum already gives f this row
            if weights[r][f] <= 0:
                continue
            rest = [x for x in free_rows if x != r]
            total, pairs = _solve(weights, rest, free_cols)
            if total + weights[r][f] == best:
                chosen, current = r, {**pairs, r: f}
                break
        if chosen is None:
            continue  # f is unmapped in some optimal assignment: leave it so
        pinned[chosen] = f
        best -= weights[chosen][f]
        free_rows.remove(chosen)
        current = {r: c for r, c in current.items() if r != chosen}
    return pinned
