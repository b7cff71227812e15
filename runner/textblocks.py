"""Split rows that hold no data rows: titles, notes, form lines and text tables.

A run of non-empty lines is a group. ``Label: value`` lines are a data-less block (a
form header, not a table); a header-like line with lines below it starts a text
table (a list of names, a roster whose values are all words); anything else is a
data-less block.
"""

from __future__ import annotations

from runner.blocks import Block, Region, fixed
from runner.candidates import table_region
from runner.rowkinds import EMPTY, form_line, header_like, shape_of
from runner.typed import TypedRows


def text_regions(typed: TypedRows, lo: int, hi: int) -> list[Region]:
    """Regions of rows ``[lo, hi)`` (no data rows among them)."""
    rows, ks = typed.rows, typed.ks
    groups = _groups(ks, lo, hi)
    regions: list[Region] = []
    g = 0
    while g < len(groups):
        s, e = groups[g]
        g += 1
        h = next(
            (
                i
                for i in range(s, e + 1)
                if shape_of(rows[i]).count >= 2
                and header_like(rows[i])
                and not form_line(rows[i])
            ),
            None,
        )
        if h is None or _key_values(rows, s, e):
            regions.append(fixed([Block((s, e), None)]))
            continue
        lead = _lead_blocks
        if h < e:
            regions.append(table_region(typed, s, (h, h, h + 1), e, lead))
        elif g < len(groups) and groups[g][0] - e <= 3 and _wide(rows, groups[g]):
            start, end = groups[g]  # a spacer between the header and the data
            g += 1
            regions.append(table_region(typed, s, (h, h, start), end, lead))
        else:
            regions.append(fixed(_lead_blocks(s, h) + [Block((h, e), None)]))
    return regions


def lead_blocks(typed: TypedRows, lo: int, hi: int) -> list[Block]:
    """The blocks of rows ``[lo, hi)`` as the layout picks them."""
    return [b for region in text_regions(typed, lo, hi) for b in region.pick.blocks]


def _lead_blocks(lo: int, hi: int) -> list[Block]:
    # Inside one group: the lines above a text table's header are one block.
    return [Block((lo, hi - 1), None)] if hi > lo else []


def _groups(ks: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
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
    return groups


def _wide(rows: list[list], group: tuple[int, int]) -> bool:
    return all(shape_of(rows[i]).count >= 2 for i in range(group[0], group[1] + 1))


def _key_values(rows: list[list], s: int, e: int) -> bool:
    """Lines of ``Label: value`` pairs (a form header, not a table)."""
    labels = 0
    for i in range(s, e + 1):
        sh = shape_of(rows[i])
        if sh.count != 2:
            return False
        labels += form_line(rows[i])
    return labels > 0 and 2 * labels >= e - s + 1


__all__ = ["lead_blocks", "text_regions"]
