"""Build ``Table`` values from blocks of local rows, and cut a sheet into strips."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress

from runner.blocks import Block
from runner.headers import header_texts
from runner.readers import SheetData
from runner.rowkinds import EMPTY, Shape


@dataclass(frozen=True)
class Table:
    """One table of a sheet; row numbers are 1-based, column indexes 0-based."""

    sheet: str
    header_rows: tuple[int, int] | None  # [first, last] of the header block
    columns: tuple[int, ...]  # sheet column index of each physical column
    headers: tuple[str | None, ...]  # joined header text per physical column
    rows: list[list]  # data rows, one value per physical column (None for empty)
    row_numbers: list[int]  # sheet row number of each data row
    range: str  # A1 range of header + data, e.g. "B4:H120"


def sub_sheet(sheet: SheetData, c0: int, c1: int) -> SheetData:
    """Local columns ``c0..c1`` of ``sheet`` as a sheet of their own."""
    rows = [row[c0 : c1 + 1] for row in sheet.rows]
    merged = tuple(
        (r0, max(mc0, c0 + sheet.col0), r1, min(mc1, c1 + sheet.col0))
        for r0, mc0, r1, mc1 in sheet.merged
        if mc0 <= c1 + sheet.col0 and mc1 >= c0 + sheet.col0
    )
    return SheetData(sheet.name, sheet.row0, sheet.col0 + c0, rows, merged)


def build_tables(
    sheet: SheetData, blocks: tuple[Block, ...], ks: list[str], shapes: list[Shape]
) -> list[Table]:
    """One ``Table`` per block, in order."""
    merged = tuple(
        (r0 - sheet.row0, c0 - sheet.col0, r1 - sheet.row0, c1 - sheet.col0)
        for r0, c0, r1, c1 in sheet.merged
    )
    return [_table(sheet, b, merged, ks, shapes) for b in blocks]


def _table(
    sheet: SheetData, block: Block, merged, ks: list[str], shapes: list[Shape]
) -> Table:
    rows = sheet.rows
    lines = range(block.header[0], block.header[1] + 1) if block.header else range(0)
    body = range(block.body[0], block.body[1] + 1) if block.body else range(0)
    c0, c1 = _span(shapes, lines, body)
    # Merged header cells may reach beyond the written cells.
    for r0, mc0, _r1, mc1 in merged:
        if r0 in lines and mc0 <= c1 and mc1 >= c0:
            c0, c1 = min(c0, mc0), max(c1, mc1)
    width = len(rows[0])
    c0, c1 = max(c0, 0), min(c1, width - 1)  # merges may reach past the used area
    headers = (
        header_texts(rows, lines.start, lines.stop - 1, c0, c1, merged)
        if block.header
        else (None,) * (c1 - c0 + 1)
    )
    data, numbers = _data_rows(rows, ks, body, c0, c1, width, sheet.row0)
    first = lines.start if block.header else body.start
    last = body.stop - 1 if block.body else lines.stop - 1
    cols = tuple(range(c0 + sheet.col0, c1 + sheet.col0 + 1))
    return Table(
        sheet=sheet.name,
        header_rows=(lines.start + sheet.row0 + 1, lines.stop + sheet.row0)
        if block.header
        else None,
        columns=cols,
        headers=headers,
        rows=data,
        row_numbers=numbers,
        range=f"{column_letter(cols[0])}{first + sheet.row0 + 1}:"
        f"{column_letter(cols[-1])}{last + sheet.row0 + 1}",
    )


def _span(shapes: list[Shape], lines: range, body: range) -> tuple[int, int]:
    # Distinct shapes only (a C-level set of a slice): a 100,000-row table has a
    # handful of them.
    distinct = set(shapes[lines.start : lines.stop]) | set(
        shapes[body.start : body.stop]
    )
    used = [s for s in distinct if s.count]
    if not used:
        return 0, 0
    return min(s.first for s in used), max(s.last for s in used)


def _data_rows(
    rows: list[list],
    ks: list[str],
    body: range,
    c0: int,
    c1: int,
    width: int,
    row0: int,
) -> tuple[list[list], list[int]]:
    whole = c0 == 0 and c1 == width - 1
    if whole and EMPTY not in ks[body.start : body.stop]:
        # The common large case: no copying, no per-row Python work.
        return rows[body.start : body.stop], list(
            range(body.start + row0 + 1, body.stop + row0 + 1)
        )
    # Spacer rows inside the data carry nothing; the rest are picked at C speed.
    start, stop = body.start, body.stop
    keep = list(map(EMPTY.__ne__, ks[start:stop]))
    data = list(compress(rows[start:stop], keep))
    if not whole:
        data = [row[c0 : c1 + 1] for row in data]
    return data, list(compress(range(start + row0 + 1, stop + row0 + 1), keep))


def column_letter(index: int) -> str:
    """0-based column index to its A1 letters (0 -> "A", 27 -> "AB")."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


__all__ = ["Table", "build_tables", "column_letter", "sub_sheet"]
