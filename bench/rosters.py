"""A generator of messy member rosters with their ground truth.

    .venv/bin/python bench/rosters.py --seed 1 --books 3 --show

Each workbook has one or two sheets with titles, notes, ``Label: value`` lines,
group lines (merged or not) over the header, one- and two-line headers, units lines,
all-text tables (dates, amounts, IDs, phones as text), blank and offset columns,
side-by-side and stacked tables, totals rows with formulas, footnotes and distractor
columns that look like fields. The truth of each table: its header lines, its data
rows, and the field (or None) of every column. ``bench/headers.py`` scores the
runner on it; ``bench/roster_config`` is the config package for these fields.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))

from roster_values import (  # noqa: E402
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

TITLES = ["Riverside Rowing Club", "Member roster", "Oakland Chess Society",
          "MEMBERSHIP REGISTER 2024", "Remittance report", "Annual dues"]  # fmt: skip
NOTES_ABOVE = ["Confidential: do not forward", "Amounts in USD",
               "Exported from the club office on 2024-05-01",
               "Please check the highlighted rows"]  # fmt: skip
NOTES_BELOW = ["Source: membership office", "* lapsed members are not included",
               "Figures as of 31 March 2024", "Prepared by J. Smith"]  # fmt: skip


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


SIDE_TABLES = [
    ["branch", "city", "row"],
    ["notes", "amount", "join_date"],
    ["first_name", "last_name", "email", "phone"],
]


def make_sheet(rnd: random.Random, name: str) -> SheetSpec:
    sheet = SheetSpec(name)
    r = rnd.choice([0, 0, 0, 1])
    left = rnd.choice([0, 0, 0, 1, 2])
    for _ in range(rnd.choice([0, 1, 1, 2])):
        sheet.put(r, left, rnd.choice(TITLES))
        r += 1
    r += rnd.choice([0, 1, 1, 2]) if r else 0
    if rnd.random() < 0.25:
        sheet.put(r, left, rnd.choice(NOTES_ABOVE))
        r += 1 + rnd.choice([0, 1])
    if rnd.random() < 0.15:  # a form-like block of Label: value lines
        sheet.put(r, left, "Prepared by:")
        sheet.put(r, left + 1, "J. Smith")
        sheet.put(r + 1, left, "Date:")
        sheet.put(r + 1, left + 1, "2024-05-01")
        r += 3
    keys = roster_keys(rnd)
    lay = make_layout(rnd, keys)
    top = r
    r = place_table(sheet, rnd, top, left, lay)
    if rnd.random() < 0.15:  # a side-by-side table after one or two empty columns
        side = make_layout(rnd, list(rnd.choice(SIDE_TABLES)), simple=True)
        side_left = left + len(keys) + rnd.choice([1, 1, 2])
        side_top = top + (1 if lay.group else 0) + rnd.choice([0, 0, 2])
        place_table(sheet, rnd, side_top, side_left, side)
        r = max(r, sheet.bottom() + 1)
    if rnd.random() < 0.3:
        r += rnd.choice([0, 1])
        sheet.put(r, left, rnd.choice(NOTES_BELOW))
        r += 1
    if rnd.random() < 0.2:  # a stacked second table
        r += rnd.choice([1, 2, 3])
        if rnd.random() < 0.6:
            sheet.put(r, left, rnd.choice(["Associate members", "Waiting list"]))
            r += 1 + rnd.choice([0, 1])
        place_table(sheet, rnd, r, left, make_layout(rnd, roster_keys(rnd, True)))
    return sheet


def make_book(rnd: random.Random) -> list[SheetSpec]:
    sheets = [make_sheet(rnd, "Members")]
    if rnd.random() < 0.25:
        sheets.append(make_sheet(rnd, "Remittances"))
    if rnd.random() < 0.1:
        notes = SheetSpec("Notes")
        for i, text in enumerate(rnd.sample(NOTES_ABOVE + NOTES_BELOW, 3)):
            notes.put(i * 2, 0, text)
        sheets.append(notes)
    return sheets


def write_book(sheets: list[SheetSpec], path: Path) -> None:
    """Write the sheets with openpyxl (merges and formulas as Excel has them)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.name)
        for (r, c), v in sorted(spec.cells.items()):
            ws.cell(r + 1, c + 1, v)
        for r0, c0, r1, c1 in spec.merges:
            if c1 > c0:
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1,
                               end_row=r1 + 1, end_column=c1 + 1)  # fmt: skip
    wb.save(path)


def generate(seed: int, books: int, workdir: Path) -> list[tuple[Path, list]]:
    """``books`` workbooks written under ``workdir``: (path, sheet specs) each."""
    rnd = random.Random(seed)
    out = []
    for n in range(books):
        sheets = make_book(rnd)
        path = workdir / f"roster-{seed}-{n}.xlsx"
        write_book(sheets, path)
        out.append((path, sheets))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--books", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/rosters"))
    parser.add_argument("--show", action="store_true", help="print the grids")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path, sheets in generate(args.seed, args.books, args.out):
        print(path)
        for s in sheets:
            print(f"  [{s.name}] truth: {s.tables}")
            if args.show:
                for r in range(s.bottom() + 1):
                    cells = [s.cells.get((r, c)) for c in range(12)]
                    print(
                        f"  {r + 1:3} " + " | ".join(str(v or "")[:12] for v in cells)
                    )


if __name__ == "__main__":
    main()
