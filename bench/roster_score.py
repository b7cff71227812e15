"""Score the runner on generated rosters (``bench/rosters.py``) against their truth.

A detected table *holds* a true table when its column span overlaps the true
table's columns and its data rows include the true first data row. Figures:

* header: the holding table's last header line is the true one;
* columns (engine only): every true field column is mapped to its field; a
  distractor column mapped to any field is a false mapping;
* rows: a true data row is *lost* when no overlapping detected table lists it as
  data; a detected data row is *invented* when no overlapping true table has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Found:
    """One detected table, from an extraction or from a report."""

    sheet: str
    c0: int
    c1: int
    header_last: int | None
    data: set[int]
    fields: dict[int, str | None] = field(default_factory=dict)


@dataclass
class Score:
    tables: int = 0
    header_ok: int = 0
    field_columns: int = 0
    columns_ok: int = 0
    false_mappings: int = 0
    rows: int = 0
    lost: int = 0
    invented: int = 0
    uncertain: int = 0
    uncertain_wrong: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name, value in vars(other).items():
            if name == "misses":
                self.misses += value
            else:
                setattr(self, name, getattr(self, name) + value)

    def lines(self, engine: bool) -> list[str]:
        headers = _pct(self.header_ok, self.tables)
        out = [
            f"tables with the right last header line: {headers}",
            f"data rows lost: {_pct(self.lost, self.rows)}, invented: "
            f"{_pct(self.invented, self.rows)}",
        ]
        if engine:
            columns = _pct(self.columns_ok, self.field_columns)
            out.insert(
                1,
                f"field columns mapped right: {columns}; distractor columns mapped "
                f"to a field: {self.false_mappings}",
            )
            out.append(
                f"header_uncertain findings: {self.uncertain} tables "
                f"({self.uncertain_wrong} of them on a wrong header)"
            )
        return out


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f} %" if d else "n/a"


def found_in_extraction(extraction) -> list[Found]:
    return [
        Found(
            t.sheet,
            t.columns[0],
            t.columns[-1],
            t.header_rows[1] if t.header_rows else None,
            set(t.row_numbers),
        )
        for t in extraction.tables
    ]


def found_in_report(report: dict) -> list[Found]:
    out = []
    for t in report["tables"]:
        cols = [_index(c["column"]) for c in t["columns"]]
        data = {r for a, b in t.get("data_rows", []) for r in range(a, b + 1)}
        fields = {_index(c["column"]): c["field"] for c in t["columns"]}
        out.append(
            Found(t["sheet"], min(cols), max(cols), t["header_row"], data, fields)
        )
    return out


def _index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def score_book(
    name: str, sheets: list, found: list[Found], uncertain: set[tuple[str, int]]
) -> Score:
    """Compare one workbook's detected tables with its truth."""
    s = Score()
    for spec in sheets:
        mine = [f for f in found if f.sheet == spec.name]
        for truth in spec.tables:
            _score_table(s, name, spec.name, truth, mine, uncertain)
        for f in mine:
            overlapping = [t for t in spec.tables if _overlap(f, t)]
            true_rows = {r for t in overlapping for r in t.data_rows}
            extra = f.data - true_rows
            s.invented += len(extra)
            if extra:
                s.misses.append(f"{name} [{spec.name}] invented rows {sorted(extra)}")
    return s


def _overlap(f: Found, truth) -> bool:
    cols = truth.columns
    return f.c0 <= max(cols) and f.c1 >= min(cols)


def _score_table(s, name, sheet, truth, mine, uncertain) -> None:
    s.tables += 1
    s.rows += len(truth.data_rows)
    near = [f for f in mine if _overlap(f, truth)]
    seen = set().union(*(f.data for f in near)) if near else set()
    lost = [r for r in truth.data_rows if r not in seen]
    s.lost += len(lost)
    first = truth.data_rows[0]
    holder = next((f for f in near if first in f.data), None)
    got = holder.header_last if holder else "lost"
    flagged = holder is not None and (sheet, holder.header_last) in uncertain
    s.uncertain += flagged
    if got == truth.header_last:
        s.header_ok += 1
    else:
        s.uncertain_wrong += flagged
        s.misses.append(
            f"{name} [{sheet}] header: truth {truth.header_last} found {got}"
            + (" (flagged uncertain)" if flagged else "")
        )
    if lost:
        s.misses.append(f"{name} [{sheet}] lost rows {lost}")
    for col, key in truth.columns.items():
        mapped = holder.fields.get(col) if holder else None
        if key is None:
            s.false_mappings += mapped is not None
            continue
        s.field_columns += 1
        if mapped == key:
            s.columns_ok += 1
        elif holder is not None and holder.fields:
            s.misses.append(f"{name} [{sheet}] column {col}: {key} mapped as {mapped}")


def book_name(path: Path) -> str:
    return re.sub(r"\.xlsx$", "", path.name)
