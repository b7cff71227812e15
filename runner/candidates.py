"""Alternative header lines for one table, ranked by layout evidence.

The structural heuristic (``runner.headers``) names one header block; it is right on
most statistical tables and wrong often enough on text-heavy ones. Around its
choice we take a few other lines — the non-empty lines just above it, the first
data lines (taken as header), and "no header" — and score each by its features
(``runner.evidence``) against ``WEIGHTS``. Each candidate splits the whole region,
so the rows it does not use as header or data become data-less blocks, never lost.
The engine may re-rank the best few with the config's own detectors.
"""

from __future__ import annotations

from collections.abc import Callable

from runner.blocks import Block, Choice, Region
from runner.evidence import FEATURES, block_features, body_sample
from runner.rowkinds import DATA, EMPTY
from runner.typed import TypedRows

MAX_ABOVE = 2  # non-empty lines above the heuristic's header tried as header
MAX_BELOW = 2  # first data lines tried as the header's last line

# Tuned by ``bench/headers.py --tune`` (coordinate ascent on the share of tables
# whose last header line is right, from hand-set weights, each weight kept to the
# sign its meaning gives it) on Strudel SAUS + Troy and generated rosters of seed 1;
# see docs/decisions.md for the held-out figures.
WEIGHTS: dict[str, float] = {
    "prior": 3.0,
    "none": -8.0,
    "offset": -0.5,
    "differ": 4.0,
    "agree": -4.0,
    "repeat": -8.0,
    "coverage": 0.0,
    "values": -2.0,
    "long": -2.0,
    "single": -0.5,
    "next_differ": -4.0,
    "gap": 2.0,
    "case": 1.5,
    "lines": -0.25,
}

Lead = Callable[[int, int], list[Block]]
"""Blocks for the rows ``[lo, hi)`` above a candidate header."""


def weight_vector(weights: dict[str, float] | None = None) -> tuple[float, ...]:
    w = WEIGHTS if weights is None else weights
    return tuple(w.get(name, 0.0) for name in FEATURES)


def score(features: tuple[float, ...], weights: tuple[float, ...]) -> float:
    """The layout score of a candidate (rounded so platforms agree on ties)."""
    return round(sum(f * w for f, w in zip(features, weights, strict=True)), 9)


def table_region(
    typed: TypedRows,
    lo: int,
    heuristic: tuple[int | None, int, int],
    end: int,
    lead: Lead,
    tail: tuple[Block, ...] = (),
) -> Region:
    """Every candidate split of rows ``lo..end`` for a table the heuristic found as
    ``(last, first, data)`` (``last`` None: no header), best first."""
    ks = typed.ks
    last, first, data = heuristic
    ref = last if last is not None else data - 1
    cands: list[tuple[int | None, int, int]] = []
    if last is not None:
        cands.append((last, first, data))
    for r in _nonempty_up(ks, ref if last is None else last - 1, lo, MAX_ABOVE):
        if last is not None and first <= r:
            cands.append((r, first, _next(ks, r, end)))
        else:
            cands.append((r, _climb(typed, r, lo), _next(ks, r, end)))
    for r in _nonempty_down(ks, data, end, MAX_BELOW):
        nxt = _next(ks, r, end)
        if nxt is None:
            break
        top = first if last is not None else _climb(typed, r, lo)
        cands.append((r, top, nxt))
    top = first if last is not None else data
    cands.append((None, top, top))
    weights = weight_vector()
    choices: list[tuple[float, int, Choice]] = []
    seen: set[int | None] = set()
    for n, (c_last, c_first, c_data) in enumerate(cands):
        if c_last in seen or c_data is None:
            continue
        seen.add(c_last)
        sample = body_sample(ks, c_data, end)
        header = (c_first, c_last) if c_last is not None else None
        feats = block_features(
            typed,
            header,
            sample,
            prior=c_last == last,
            offset=0 if c_last is None else _distance(ks, c_last, ref),
            gap=c_last is not None and c_data > c_last + 1,
        )
        above = lead(lo, c_first)
        blocks = (*above, Block(header, (c_data, end)), *tail)
        value = score(feats, weights)
        choice = Choice(blocks, c_last, value, feats, len(above), n)
        choices.append((-value, n, choice))
    choices.sort(key=lambda t: (t[0], t[1]))
    return Region(tuple(c for _, _, c in choices))


def _nonempty_up(ks: list[str], start: int, lo: int, limit: int) -> list[int]:
    out = []
    for r in range(start, lo - 1, -1):
        if ks[r] != EMPTY:
            out.append(r)
            if len(out) >= limit:
                break
    return out


def _nonempty_down(ks: list[str], start: int, end: int, limit: int) -> list[int]:
    out = []
    for r in range(start, end + 1):
        if ks[r] != EMPTY:
            out.append(r)
            if len(out) >= limit:
                break
    return out


def _next(ks: list[str], r: int, end: int) -> int | None:
    return next((i for i in range(r + 1, end + 1) if ks[i] != EMPTY), None)


def _climb(typed: TypedRows, r: int, lo: int) -> int:
    """First line of a header block ending at ``r``: contiguous lines above it with
    two or more cells that are not data (a group line, a first header line)."""
    top = r
    while top - 1 >= lo and typed.ks[top - 1] not in (EMPTY, DATA):
        if sum(v is not None for v in typed.rows[top - 1]) < 2:
            break
        top -= 1
    return top


def _distance(ks: list[str], a: int, b: int) -> int:
    """Non-empty rows stepped over going from ``b`` to ``a``."""
    lo, hi = min(a, b), max(a, b)
    return sum(1 for i in range(lo + 1, hi + 1) if ks[i] != EMPTY)


__all__ = ["MAX_ABOVE", "MAX_BELOW", "WEIGHTS", "score", "table_region"]
