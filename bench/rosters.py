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
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))

from roster_tables import (  # noqa: E402
    SheetSpec,
    make_layout,
    place_table,
    roster_keys,
)

TITLES = ["Riverside Rowing Club", "Member roster", "Oakland Chess Society",
          "MEMBERSHIP REGISTER 2024", "Remittance report", "Annual dues"]  # fmt: skip
NOTES_ABOVE = ["Confidential: do not forward", "Amounts in USD",
               "Exported from the club office on 2024-05-01",
               "Please check the highlighted rows"]  # fmt: skip
NOTES_BELOW = ["Source: membership office", "* lapsed members are not included",
               "Figures as of 31 March 2024", "Prepared by J. Smith"]  # fmt: skip


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
