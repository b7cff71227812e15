"""Split one sheet's rows into regions of blocks: tables and data-less blocks.

Works on local row indices of a ``SheetData`` (or one strip of it). A table's data
starts at a *data* row: one with a number, date or bool, or a text row whose cells
hold values (``runner.typed``: dates, amounts, e-mails, IDs written as text). Its
header is searched above it (``runner.headers.find_header``) and alternatives are
scored around that choice (``runner.candidates``); its data runs on over data rows,
group rows and spacers until a spacer is followed by a header-like row that has
data below it (a stacked table). Trailing totals rows become a data-less block.
Whatever is left between tables, or a sheet without data rows, goes through the
text-only split (``runner.textblocks``).
"""

from __future__ import annotations

import re

from runner.blocks import Block, Region, fixed
from runner.candidates import table_region
from runner.headers import find_header
from runner.rowkinds import DATA, EMPTY, TEXT, YEARS, header_like, shape_of
from runner.textblocks import lead_blocks, text_regions
from runner.typed import TEXT_WINDOW, TypedRows

LOOKAHEAD = 15  # rows searched below a candidate header for data
_TOTAL = re.compile(r"^\s*(grand\s+|sub-?)?totals?\b|^\s*sum\b", re.IGNORECASE)


def segment(typed: TypedRows, hint: tuple[int, int] | None = None) -> list[Region]:
    """Regions of a sheet in row order; ``hint`` is a forced header block
    ``(first, last)`` of local rows."""
    n = len(typed.rows)
    if hint is None or not 0 <= hint[0] <= hint[1] < n:
        return _segment(typed, 0, n)
    first, last = hint
    regions = _segment(typed, 0, first)
    ks = typed.ks
    data = next((i for i in range(last + 1, n) if ks[i] != EMPTY), None)
    if data is None:
        return regions + [fixed([Block(hint, None)])]
    end = _body_end(typed, data, n, text_ok=True)
    end, tail = _split_totals(typed, data, end)
    regions.append(fixed([Block(hint, (data, end)), *tail]))
    return regions + _segment(typed, _after(tail, end) + 1, n)


def _after(tail: tuple[Block, ...], end: int) -> int:
    return tail[-1].header[1] if tail else end


def _segment(typed: TypedRows, lo: int, hi: int) -> list[Region]:
    rows, ks = typed.rows, typed.ks
    regions: list[Region] = []
    a = lo
    while a < hi:
        while a < hi and ks[a] == EMPTY:
            a += 1
        if a >= hi:
            break
        data = _first_data(typed, a, hi)
        if data is None:
            regions += text_regions(typed, a, hi)
            break
        last, first, data = find_header(rows, ks, a, data, hi)
        end = _body_end(typed, data, hi)
        end, tail = _split_totals(typed, data, end)

        def lead(lo_: int, hi_: int) -> list[Block]:
            return lead_blocks(typed, lo_, hi_)

        regions.append(table_region(typed, a, (last, first, data), end, lead, tail))
        a = _after(tail, end) + 1
    return regions


def _first_data(typed: TypedRows, a: int, hi: int) -> int | None:
    """The first data row from ``a``: typed, or text holding values among the first
    ``TEXT_WINDOW`` text rows (so a large all-text sheet is not classified whole)."""
    ks = typed.ks
    seen = 0
    for i in range(a, hi):
        k = ks[i]
        if k == DATA:
            return i
        if k == TEXT and seen < TEXT_WINDOW:
            seen += 1
            if typed.promote(i):
                return i
    return None


def _body_end(typed: TypedRows, start: int, hi: int, text_ok: bool = False) -> int:
    """Last row of the data that starts at ``start``.

    Text rows count as data when they hold values (checked after a spacer), when
    data rows follow them, when they sit right below the data with two or more
    cells, or always with ``text_ok`` (a hinted header).
    """
    rows, ks = typed.rows, typed.ks
    last = start
    gap = False
    for i in range(start + 1, hi):
        k = ks[i]
        if k == EMPTY:
            gap = True
            continue
        if k == TEXT and gap:
            if typed.promote(i):
                k = DATA  # a spacer inside an all-text table
            elif header_like(rows[i]) and _data_follows(typed, i, hi):
                break  # a stacked table's header
        if k != TEXT or text_ok:
            last = i
            gap = False
        elif not gap and last == i - 1 and shape_of(rows[i]).count >= 2:
            last = i
        elif not gap and typed.promote(i, min_cells=1):
            last = i  # a sparse row of an all-text table, or values after one
    return _drop_footnotes(typed, start, last)


def _split_totals(
    typed: TypedRows, start: int, end: int
) -> tuple[int, tuple[Block, ...]]:
    """Move trailing ``Total`` rows (a label and sums, sparser than the data) out of
    the data into a data-less block."""
    rows, ks = typed.rows, typed.ks
    cut = end
    while cut > start:
        row = rows[cut]
        first = next((v for v in row if v is not None), None)
        if ks[cut] == EMPTY or not (isinstance(first, str) and _TOTAL.match(first)):
            break
        if shape_of(row).count >= _typical_width(rows, ks, start, cut):
            break  # as full as the data: a "Total fat" line of the table itself
        cut -= 1
    if cut == end:
        return end, ()
    while cut > start and ks[cut] == EMPTY:
        cut -= 1
    total_from = next(i for i in range(cut + 1, end + 1) if ks[i] != EMPTY)
    return cut, (Block((total_from, end), None),)


def _typical_width(rows: list[list], ks: list[str], start: int, stop: int) -> int:
    """The median number of cells of up to 20 data rows above ``stop``."""
    counts = sorted(
        shape_of(rows[i]).count
        for i in range(max(start, stop - 20), stop)
        if ks[i] != EMPTY
    )
    return counts[len(counts) // 2] if counts else 0


NOTE_TEXT = 25  # a footnote's text is a sentence, longer than a table cell's label


def _drop_footnotes(typed: TypedRows, start: int, last: int) -> int:
    """Pull the data's end up over trailing footnotes: rows like ``1 | Includes
    inorganic waste ...`` (a marker and a sentence) below rows that fill more cells.
    Footnote rows become TEXT in ``ks`` for good (``typed.notes``).
    """
    rows, ks = typed.rows, typed.ks
    width = shape_of(rows[start]).count
    end = last
    while end > start:
        if ks[end] == EMPTY:
            end -= 1
            continue
        s = shape_of(rows[end])
        if (
            width < 3
            or s.count > 2
            or not any(v.__class__ is str and len(v) >= NOTE_TEXT for v in rows[end])
        ):
            break
        ks[end] = TEXT  # what follows the table reads it as a note, not data
        typed.notes.add(end)
        end -= 1
        last = end
    while ks[last] == EMPTY:  # spacers between the data and the footnotes
        last -= 1
    return last


def _data_follows(typed: TypedRows, i: int, hi: int) -> bool:
    for j in range(i + 1, min(hi, i + 1 + LOOKAHEAD)):
        if typed.promote(j):
            return True
    return False


__all__ = ["LOOKAHEAD", "YEARS", "segment"]
