"""Tables of the messy-roster generator (``bench/rosters.py``): their layout
(group line, one- or two-line header, units line, gaps, totals) and their truth."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from roster_values import (
    DISTRACTORS,
    FIELDS,
    FIRST,
    HEADERS,
    LAST,
    SPLITS,
    UNITS,
    Style,
    make_style,
    value,
)


@dataclass
class TableTruth:
    """1-based sheet rows; 0-based sheet columns."""

    header_first: int
    header_last: int
    data_rows: list[int]
    columns: dict[int, str | None]  # sheet column -> field key, None for distractors


@dataclass
class SheetSpec:
    name: str
    cells: dict[tuple[int, int], object] = field(default_factory=dict)  # 0-based
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    tables: list[TableTruth] = field(default_factory=list)

    def put(self, r: int, c: int, v: object) -> None:
        if v is not None and v != "":
            self.cells[r, c] = v

    def bottom(self, c0: int = 0, c1: int = 10**6) -> int:
        rows = [r for (r, c) in self.cells if c0 <= c <= c1]
        return max(rows, default=-1)


@dataclass
class Layout:
    keys: list[str]
    style: Style
    rows: int
    two_line: bool = False
    units: bool = False
    group: bool = False
    merged_group: bool = False
    gap_after_header: bool = False
    spacer_inside: bool = False
    totals: bool = False


def roster_keys(rnd: random.Random, small: bool = False) -> list[str]:
    n = rnd.randint(3, 5) if small else rnd.randint(4, 9)
    keys = rnd.sample(FIELDS, n)
    if "first_name" in keys and "last_name" not in keys and rnd.random() < 0.7:
        keys.append("last_name")
    keys += rnd.sample(DISTRACTORS, rnd.choice([0, 0, 1, 1, 2]))
    rnd.shuffle(keys)
    if "member_id" in keys and rnd.random() < 0.7:  # IDs usually come first
        keys.remove("member_id")
        keys.insert(0, "member_id")
    return keys


def make_layout(rnd: random.Random, keys: list[str], simple: bool = False) -> Layout:
    size = rnd.random()
    rows = rnd.randint(2, 5) if size < 0.3 else rnd.randint(6, 25)
    if size > 0.85:
        rows = rnd.randint(26, 60)
    if simple:
        return Layout(keys, make_style(rnd), rows)
    group = rnd.random() < 0.2
    return Layout(
        keys,
        make_style(rnd),
        rows,
        two_line=rnd.random() < 0.2,
        units=rnd.random() < 0.1,
        group=group,
        merged_group=group and rnd.random() < 0.6,
        gap_after_header=rnd.random() < 0.08,
        spacer_inside=rows > 8 and rnd.random() < 0.08,
        totals=rnd.random() < 0.2,
    )


def header_lines(rnd: random.Random, lay: Layout) -> list[list[str | None]]:
    names = [rnd.choice(HEADERS[k]) for k in lay.keys]
    if not lay.two_line:
        lines = [names]
    else:  # split what can be split, bottom-align the rest
        top, low = [], []
        for n in names:
            a, b = SPLITS.get(n, (None, n))
            if n not in SPLITS and rnd.random() < 0.3:
                a, b = n, None  # some single words sit on the first line
            top.append(a)
            low.append(b)
        lines = [top, low] if any(top) and any(low) else [names]
    if lay.units:
        lines.append([UNITS.get(k) for k in lay.keys])
        if not any(lines[-1]):
            lines.pop()
    return lines


def place_table(
    sheet: SheetSpec, rnd: random.Random, top: int, left: int, lay: Layout
) -> int:
    """Write the table at (top, left); return the row after its last line."""
    r = _group_line(sheet, rnd, top, left, lay)
    first = r
    for line in header_lines(rnd, lay):
        for j, text in enumerate(line):
            sheet.put(r, left + j, text)
        r += 1
    last = r - 1
    if lay.gap_after_header:
        r += 1
    data_rows = []
    for i in range(lay.rows):
        if lay.spacer_inside and i == lay.rows // 2:
            r += 1
        _data_row(sheet, rnd, r, left, lay, i)
        data_rows.append(r + 1)
        r += 1
    if lay.totals:
        _totals(sheet, r, left, lay, data_rows)
        r += 1
    columns = {left + j: (k if k in FIELDS else None) for j, k in enumerate(lay.keys)}
    sheet.tables.append(TableTruth(first + 1, last + 1, data_rows, columns))
    return r


def _group_line(
    sheet: SheetSpec, rnd: random.Random, r: int, left: int, lay: Layout
) -> int:
    width = len(lay.keys)
    if not lay.group or width < 4:
        return r
    cut = rnd.randint(2, width - 2)
    for c, (text, span) in enumerate(
        [("Member details", cut), ("Contact and dues", width - cut)]
    ):
        c_start = left if c == 0 else left + cut
        sheet.put(r, c_start, text)
        if lay.merged_group:
            sheet.merges.append((r, c_start, r, c_start + span - 1))
    return r + 1


def _data_row(
    sheet: SheetSpec, rnd: random.Random, r: int, left: int, lay: Layout, i: int
) -> None:
    person = (rnd.choice(FIRST), rnd.choice(LAST))
    filled = 0
    for j, key in enumerate(lay.keys):
        optional = key not in ("member_id", "first_name", "last_name", "email")
        if optional and rnd.random() < 0.08:
            continue
        if key in ("notes", "alt_email") and rnd.random() < 0.6:
            continue  # sparse columns
        sheet.put(r, left + j, value(key, rnd, i, person, lay.style))
        filled += 1
    if not filled:  # a data row has at least one value
        j = next(j for j, k in enumerate(lay.keys) if k not in ("notes", "alt_email"))
        sheet.put(r, left + j, value(lay.keys[j], rnd, i, person, lay.style))


def _totals(
    sheet: SheetSpec, r: int, left: int, lay: Layout, data_rows: list[int]
) -> None:
    """A totals row: a formula (openpyxl stores no cached value, so it reads as
    empty) or, for every other table, the sum as Excel's cached value reads."""
    sheet.put(r, left, "Total")
    first, last = data_rows[0], data_rows[-1]
    if "amount" in lay.keys:
        col = left + lay.keys.index("amount")
        if len(data_rows) % 2:
            cells = [sheet.cells.get((n - 1, col)) for n in data_rows]
            total = sum(v for v in cells if isinstance(v, int | float))
            sheet.put(r, col, round(total, 2) or None)
            return
        sheet.put(r, col, f"=SUM({_letter(col)}{first}:{_letter(col)}{last})")
    else:
        sheet.put(r, left + 1, f"=COUNTA({_letter(left)}{first}:{_letter(left)}{last})")


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
