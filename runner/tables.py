"""Split one sheet's rows into blocks: header + data tables and data-less blocks.

Works on local row indices of a ``SheetData``. A table's data starts at a row with a
number, date or bool (a *data* row); its header is searched above it
(``runner.headers.find_header``); its data runs on over data rows, group rows and
spacers until a spacer is followed by a header-like row that has data below it (a
stacked table). Whatever is left between tables (titles, notes, key-value blocks) or
a sheet without any numbers goes through a simpler text-only split.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.headers import find_header
from runner.rowkinds import DATA, EMPTY, TEXT, YEARS, header_like, shape_of

LOOKAHEAD = 15  # rows searched below a candidate header for data


@dataclass(frozen=True)
class Block:
    """Local, inclusive row indices. ``body`` None: a block without data rows whose
    lines are all reported as its header."""

    header: tuple[int, int] | None
    body: tuple[int, int] | None


def segment(rows: list[list], ks: list[str], hint: int | None = None) -> list[Block]:
    """Blocks of a sheet in row order; ``hint`` is a forced header row."""
    n = len(rows)
    if hint is None or not 0 <= hint < n:
        return _segment(rows, ks, 0, n)
    blocks = _segment(rows, ks, 0, hint)
    data = next((i for i in range(hint + 1, n) if ks[i] != EMPTY), None)
    if data is None:
        blocks.append(Block((hint, hint), None))
        return blocks
    end = _body_end(rows, ks, data, n, text_ok=True)
    blocks.append(Block((hint, hint), (data, end)))
    return blocks + _segment(rows, ks, end + 1, n)


def _segment(rows: list[list], ks: list[str], lo: int, hi: int) -> list[Block]:
    blocks: list[Block] = []
    a = lo
    while a < hi:
        while a < hi and ks[a] == EMPTY:
            a += 1
        if a >= hi:
            break
        data = next((i for i in range(a, hi) if ks[i] == DATA), None)
        if data is None:
            blocks += _text_blocks(rows, ks, a, hi)
            break
        last, first, data = find_header(rows, ks, a, data, hi)
        if first > a:
            blocks += _text_blocks(rows, ks, a, first)
        end = _body_end(rows, ks, data, hi)
        blocks.append(Block((first, last) if last is not None else None, (data, end)))
        a = end + 1
    return blocks


def _body_end(
    rows: list[list], ks: list[str], start: int, hi: int, text_ok: bool = False
) -> int:
    """Last row of the data that starts at ``start``.

    Text rows count as data when data rows follow them, when they sit right below
    the data with two or more cells, or always with ``text_ok`` (a hinted header).
    """
    last = start
    gap = False
    for i in range(start + 1, hi):
        k = ks[i]
        if k == EMPTY:
            gap = True
            continue
        if k == TEXT and gap and header_like(rows[i]) and _data_follows(ks, i, hi):
            break  # a stacked table's header
        if k != TEXT or text_ok:
            last = i
            gap = False
        elif not gap and last == i - 1 and shape_of(rows[i]).count >= 2:
            last = i
    return _drop_footnotes(rows, ks, start, last)


NOTE_TEXT = 25  # a footnote's text is a sentence, longer than a table cell's label


def _drop_footnotes(rows: list[list], ks: list[str], start: int, last: int) -> int:
    """Pull the data's end up over trailing footnotes: rows like ``1 | Includes
    inorganic waste ...`` (a marker and a sentence) below rows that fill more cells.
    Footnote rows become TEXT in ``ks``.
    """
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
        end -= 1
        last = end
    while ks[last] == EMPTY:  # spacers between the data and the footnotes
        last -= 1
    return last


def _data_follows(ks: list[str], i: int, hi: int) -> bool:
    for j in range(i + 1, min(hi, i + 1 + LOOKAHEAD)):
        if ks[j] == DATA:
            return True
    return False


def _text_blocks(rows: list[list], ks: list[str], lo: int, hi: int) -> list[Block]:
    """Split rows without data rows: a header-like line with lines below it is a
    text table; anything else (titles, notes, key-value lines) is a data-less block.
    """
    groups: list[tuple[int, int]] = []
    i = lo
    while i < hi:
        if ks[i] == EMPTY:
            i += 1
            continue
        j = i
        while j + 1 < hi and ks[j + 1] != EMPTY:
            j += 1
        groups.append((i, j))
        i = j + 1
    blocks: list[Block] = []
    g = 0
    while g < len(groups):
        s, e = groups[g]
        g += 1
        if _key_values(rows, s, e):
            blocks.append(Block((s, e), None))
            continue
        h = next(
            (
                i
                for i in range(s, e + 1)
                if shape_of(rows[i]).count >= 2 and header_like(rows[i])
            ),
            None,
        )
        if h is None:
            blocks.append(Block((s, e), None))
            continue
        if h > s:
            blocks.append(Block((s, h - 1), None))
        if h < e:
            blocks.append(Block((h, h), (h + 1, e)))
        elif g < len(groups) and groups[g][0] - e <= 3 and _wide(rows, groups[g]):
            blocks.append(Block((h, h), groups[g]))  # spacer between header and data
            g += 1
        else:
            blocks.append(Block((h, h), None))
    return blocks


def _wide(rows: list[list], group: tuple[int, int]) -> bool:
    return all(shape_of(rows[i]).count >= 2 for i in range(group[0], group[1] + 1))


def _key_values(rows: list[list], s: int, e: int) -> bool:
    """Lines of ``Label: value`` pairs (a form header, not a table)."""
    labels = 0
    for i in range(s, e + 1):
        sh = shape_of(rows[i])
        if sh.count != 2:
            return False
        v = rows[i][sh.first]
        labels += isinstance(v, str) and v.rstrip().endswith(":")
    return labels > 0 and 2 * labels >= e - s + 1


__all__ = ["Block", "segment", "YEARS"]
