"""Let the config choose between candidate headers (SPEC §11).

The extractor offers, for tables whose header is in doubt, a few alternatives
ranked by layout evidence (``Extraction.choices``). The config knows its fields:
for the best ``MAX_SCORED`` alternatives (and always "no header"), run its own
``detect*`` functions, solve the assignment, and keep the alternative whose mapped
total is highest; totals within ``TIE`` of the best are a tie, which the layout's
order breaks. The cost is bounded: at most ``MAX_SCORED`` detect passes over the
same sampled values per doubtful table, whatever the table's size.

A choice made on a thin margin is reported as a ``header_uncertain`` finding with
the runner-up, so the dry-run view can offer "use row N as header".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner import detect, mapping
from runner.context import Context, ScriptError
from runner.evidence import FEATURES
from runner.package import Package

MAX_SCORED = 4  # alternatives scored with the config's detectors per table
TIE = 50  # scaled points (0.5 of a score): closer totals are a tie
LAYOUT_WEIGHT = 20.0  # scaled points of fields total per point of layout score
WEAK = 1.0  # layout margin under which a tie broken by the layout is uncertain
LOOKS_LIKE_DATA = 0.5  # share of header cells shaped like the data below
_AGREE = FEATURES.index("agree")
_NEXT = FEATURES.index("next_differ")


@dataclass
class Decision:
    """How one table's header was chosen (the report's ``header_choice``)."""

    by: str  # "layout" or "fields"
    candidates: list[dict[str, Any]]
    matrices: tuple[list[list[float]], list[list[int]]] | None = None
    logs: tuple[list[str], int] = ([], 0)  # what the chosen trial's detectors logged
    finding: dict[str, Any] | None = None


@dataclass
class Resolved:
    tables: list[Any]
    decisions: dict[int, Decision] = field(default_factory=dict)  # by id(table)


def resolve(
    extraction: Any,
    pkg: Package,
    states: Mapping[str, Any],
    ctx: Context,
    sample_rows: int,
) -> Resolved:
    """The extraction's tables with every doubtful header decided."""
    tables = list(extraction.tables)
    out = Resolved([])
    pos = 0
    for choice in getattr(extraction, "choices", ()):
        out.tables += tables[pos : choice.start]
        chosen, decision = _decide(choice, pkg, states, ctx, sample_rows)
        out.tables += chosen
        alt = choice.alternatives
        main = chosen[_main_of(choice, decision, alt)]
        out.decisions[id(main)] = decision
        pos = choice.start + choice.count
    out.tables += tables[pos:]
    return out


def _main_of(choice, decision: Decision, alts) -> int:
    return alts[decision.candidates[0]["_index"]].main


def _decide(choice, pkg, states, ctx, sample_rows) -> tuple[list[Any], Decision]:
    alts = choice.alternatives
    order = list(range(min(MAX_SCORED, len(alts))))
    none = next((n for n, a in enumerate(alts) if a.header_rows is None), None)
    if none is not None and none not in order:
        order.append(none)
    trials = []
    for n in order:
        built = alts[n].tables()
        main = built[alts[n].main]
        since, dropped = len(ctx.logs), ctx.dropped
        try:
            total, matrices, logs = _fields_total(main, pkg, states, ctx, sample_rows)
        except ScriptError:
            if n == 0:
                raise  # the layout's own choice: the run would fail on it anyway
            ctx.take_logs(since, dropped)
            continue  # a detector that cannot read this candidate rules it out
        trials.append((n, built, total, matrices, logs))
    # The layout's best (equal layout scores: the higher fields total) stands
    # unless another candidate's fields total beats it by more than a tie, where a
    # tie widens with how much less the layout believes in that candidate.
    trials.sort(key=lambda t: (-alts[t[0]].score, -t[2], t[0]))
    top = trials[0]
    beats = [t for t in trials[1:] if t[2] - top[2] > _tie(alts, top, t)]
    n, built, total, matrices, logs = max(
        beats, key=lambda t: (t[2], alts[t[0]].score, -t[0]), default=top
    )
    contenders = [t for t in trials if abs(t[2] - total) <= _tie(alts, top, t)]
    by = "layout" if n == top[0] else "fields"
    ranked = [t for t in trials if t[0] != n]
    ranked.sort(key=lambda t: (-t[2], t[0]))
    candidates = [_candidate(alts, n, total, True)] + [
        _candidate(alts, t[0], t[2], False) for t in ranked
    ]
    decision = Decision(by, candidates, matrices, logs)
    decision.finding = _uncertain(
        built[alts[n].main], alts, n, total, contenders, ranked
    )
    return built, decision


def _tie(alts, top, other) -> float:
    """Fields totals closer than this (scaled points) are a tie between the layout's
    best ``top`` and ``other``."""
    return TIE + LAYOUT_WEIGHT * max(0.0, alts[top[0]].score - alts[other[0]].score)


def _fields_total(table, pkg, states, ctx, sample_rows):
    """The config's mapped total (scaled integer points) for one candidate table,
    its matrices, and the logs its detectors wrote (kept aside)."""
    since, dropped = len(ctx.logs), ctx.dropped
    if not table.rows or not pkg.fields:
        return 0, None, ctx.take_logs(since, dropped)
    ctx.sheet, ctx.table = table.sheet, table
    scores, features = detect.score_table(
        table, pkg.fields, states, ctx, known_keys=pkg.known_keys,
        sample_rows=sample_rows,
    )  # fmt: skip
    assigned = mapping.assign(scores, features, table.columns, pkg.min_score)
    total = sum(
        mapping.scale(scores[c][f]) for c, f in enumerate(assigned) if f is not None
    )
    return total, (scores, features), ctx.take_logs(since, dropped)


def _candidate(alts, n: int, total: int, chosen: bool) -> dict[str, Any]:
    rows = alts[n].header_rows
    return {
        "header_row": rows[1] if rows else None,
        "header_rows": list(rows) if rows else None,
        "layout": round(alts[n].score, 3),
        "fields": total / mapping.SCALE,
        "_index": n,
    }


def _uncertain(table, alts, n, total, contenders, ranked) -> dict[str, Any] | None:
    """A ``header_uncertain`` finding when the choice rests on a thin margin, the
    header looks like data, or the first data row looks like a header."""
    if not ranked:
        return None
    feats = alts[n].features
    others = [t for t in contenders if t[0] != n]
    reason = None
    if others and min(abs(alts[n].score - alts[t[0]].score) for t in others) < WEAK:
        reason = "another header line fits the layout and the fields about as well"
    elif feats and feats[_AGREE] >= LOOKS_LIKE_DATA:
        reason = "the header line has the shapes of the data below it"
    elif feats and feats[_NEXT] >= LOOKS_LIKE_DATA:
        reason = "the first data row looks like a header line"
    elif n != 0 and total - ranked[0][2] < 2 * TIE:
        reason = "the fields chose it over the layout by a small margin"
    if reason is None:
        return None
    runner_up = alts[(others or ranked)[0][0]].header_rows
    row = table.header_rows[1] if table.header_rows else None
    alternative = runner_up[1] if runner_up else None
    # What "use row N as header" writes to hints.header_rows[sheet]: the block.
    alternative_rows = list(runner_up) if runner_up else None
    where = f"row {row}" if row else "no header"
    other = f"row {alternative}" if alternative else "no header"
    return {
        "sheet": table.sheet,
        "row": row,
        "field": None,
        "code": "header_uncertain",
        "severity": "warning",
        "message": f"header of the table at {table.range}: chose {where}, "
        f"{other} is close ({reason})",
        "alternative": alternative,
        "alternative_rows": alternative_rows,
    }


def public_candidates(candidates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates as the report shows them (internal keys removed)."""
    return [{k: v for k, v in c.items() if not k.startswith("_")} for c in candidates]


__all__ = ["MAX_SCORED", "TIE", "Decision", "Resolved", "public_candidates", "resolve"]
