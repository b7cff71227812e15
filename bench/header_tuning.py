"""Tune the layout weights of header candidates (``runner.candidates.WEIGHTS``).

For each table of a training corpus we keep what the extractor offered: every
alternative's last header line and feature vector (``Extraction.choices``), and
the true last header line. A weight vector picks, per table, the alternative with
the highest score; its accuracy is the share of tables where that pick is the
truth. ``tune`` is coordinate ascent over a grid of values per weight (each kept to
the sign its meaning gives it), from hand-set ``START`` weights, keeping a change only
when accuracy rises (ties: larger mean margin of the right alternative), so the
result is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runner.candidates import score, weight_vector
from runner.evidence import FEATURES

# Where the search starts: hand-set before any tuning, from what each feature means.
START = {"prior": 1.0, "none": -1.0, "offset": -0.3, "differ": 3.0, "agree": -3.0,
         "repeat": -1.5, "coverage": 1.0, "values": -1.0, "long": -1.0,
         "single": -0.5, "next_differ": -2.0, "gap": 0.0, "case": 0.5,
         "lines": 0.0}  # fmt: skip
# The direction each feature may push (what it means says so); unsigned ones are
# free. Keeping the signs stops the search from fitting one corpus's accidents.
SIGNS = {"prior": 1, "offset": -1, "differ": 1, "agree": -1, "repeat": -1,
         "coverage": 1, "values": -1, "long": -1, "single": -1, "next_differ": -1,
         "case": 1}  # fmt: skip
GRID = (-8.0, -6.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0,
        1.5, 2.0, 3.0, 4.0, 6.0, 8.0)  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One table: the truth and what the layout offered (or its fixed answer)."""

    truth: int | None
    options: tuple[tuple[int | None, tuple[float, ...]], ...]  # (last line, features)
    fixed: int | None = None  # the answer when there was no choice


Where = tuple[str, int, int] | None  # (sheet, first column, last column)


def items_of(extraction, truths: Iterable[tuple[Where, int | None, int]]) -> list[Item]:
    """Items for the tables holding each ``(where, true last header line, first data
    row)`` of one extracted workbook (where None: anywhere)."""
    out = []
    for where, last, first_data in truths:
        choice = _choice_holding(extraction, where, first_data)
        if choice is None:
            found = _fixed_answer(extraction.tables, where, first_data)
            out.append(Item(last, (), found))
            continue
        # In generation order, not the shipped weights' order: ties then fall the
        # same way whatever weights the extraction ran with.
        options = tuple(
            (a.header_rows[1] if a.header_rows else None, a.features)
            for a in sorted(choice.alternatives, key=lambda a: a.order)
        )
        out.append(Item(last, options))
    return out


def _at(t, where: Where) -> bool:
    if where is None:
        return True
    sheet, c0, c1 = where
    return t.sheet == sheet and t.columns[0] <= c1 and t.columns[-1] >= c0


def _choice_holding(extraction, where: Where, row: int):
    for choice in extraction.choices:
        for alt in choice.alternatives:
            for t in alt.tables():
                if not _at(t, where):
                    continue
                if row in t.row_numbers or (
                    t.header_rows and t.header_rows[0] <= row <= t.header_rows[1]
                ):
                    return choice
    return None


def _fixed_answer(tables, where: Where, row: int) -> int | None:
    tables = [t for t in tables if _at(t, where)]
    for t in tables:
        if row in t.row_numbers:
            return t.header_rows[1] if t.header_rows else None
    for t in tables:
        if t.header_rows and t.header_rows[0] <= row <= t.header_rows[1]:
            return t.header_rows[1]
    return None


def pick(item: Item, weights: tuple[float, ...]) -> int | None:
    if not item.options:
        return item.fixed
    best = max(
        range(len(item.options)),
        key=lambda n: (score(item.options[n][1], weights), -n),
    )
    return item.options[best][0]


def accuracy(items: list[Item], weights: tuple[float, ...]) -> tuple[int, float]:
    """(tables right, mean margin of the truth over the best wrong option)."""
    hits = 0
    margin = 0.0
    for item in items:
        hits += pick(item, weights) == item.truth
        right = [score(f, weights) for last, f in item.options if last == item.truth]
        wrong = [score(f, weights) for last, f in item.options if last != item.truth]
        if right and wrong:
            margin += max(-5.0, min(5.0, max(right) - max(wrong)))
    return hits, margin / max(1, len(items))


def tune(items: list[Item], rounds: int = 4) -> dict[str, float]:
    """Coordinate ascent from ``START``; returns the weights found."""
    current = dict(START)
    best = accuracy(items, weight_vector(current))
    for _ in range(rounds):
        improved = False
        for name in FEATURES:
            sign = SIGNS.get(name)
            for value in GRID:
                if sign is not None and value * sign < 0:
                    continue
                trial = {**current, name: value}
                got = accuracy(items, weight_vector(trial))
                if got > best:
                    best, current, improved = got, trial, True
        if not improved:
            break
    return current


__all__ = ["Item", "accuracy", "items_of", "pick", "tune"]
