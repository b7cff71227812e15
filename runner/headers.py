"""Find the header block above a table's data and turn it into one text per column.

The heuristic works upwards from the first data row: skip spacer and group rows (a
lone label in the table's first column), take the line found as the last header line,
then climb through header lines and spacer rows until a title, a note, another
table's data or a long gap. Text rows directly above the data that put nothing in the
table's numeric columns are data, not header (text-heavy tables such as rosters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from runner.cellshape import VALUES, YEAR, text_class
from runner.rowkinds import (
    DATA,
    EMPTY,
    TEXT,
    form_line,
    header_like,
    is_missing,
    shape_of,
)

MAX_SPACERS = 2  # empty rows tolerated inside a header block
_SAMPLE = 20  # data rows inspected to learn the table's numeric columns
_WINDOW = 500  # ... within this many rows (keeps many small tables linear)


def column_profile(
    rows: list[list], ks: list[str], start: int, hi: int
) -> tuple[set[int], set[int], set[int]]:
    """Columns of the first data rows holding: numbers in at least half of them;
    text in at least 80 %; numbers or missing-value marks (``(NA)``) in half.
    Text shaped like a value (``1 051,8``, ``2024-05-01``) counts as a number."""
    nums: dict[int, int] = {}
    texts: dict[int, int] = {}
    marks: dict[int, int] = {}
    seen = 0
    for i in range(start, min(hi, start + _WINDOW)):
        if ks[i] != DATA:
            continue
        seen += 1
        for j, v in enumerate(rows[i]):
            if v is None:
                continue
            if v.__class__ is not str or _value_text(v):
                nums[j] = nums.get(j, 0) + 1
            elif is_missing(v):
                marks[j] = marks.get(j, 0) + 1
            else:
                texts[j] = texts.get(j, 0) + 1
        if seen >= _SAMPLE:
            break
    return (
        {j for j, c in nums.items() if 2 * c >= seen},
        {j for j, c in texts.items() if 5 * c >= 4 * seen},
        {
            j
            for j in nums.keys() | marks.keys()
            if 2 * (nums.get(j, 0) + marks.get(j, 0)) >= seen
        },
    )


def find_header(
    rows: list[list], ks: list[str], lo: int, data: int, hi: int
) -> tuple[int | None, int, int]:
    """Locate the header above the first data row ``data`` (local indices).

    Returns ``(last, first, data)``: the last and first header lines (``last`` is
    None when there is no header; ``first`` is then ``data``) and the data start,
    which may move up over text-only data rows.
    """
    data = _skip_false_starts(rows, ks, data, hi)
    numeric, texty, valued = column_profile(rows, ks, data, hi)
    left = min(
        (
            shape_of(rows[i]).first
            for i in range(data, min(hi, data + 5))
            if ks[i] == DATA
        ),
        default=0,
    )
    # Text rows glued to the data that leave its numeric columns empty and fill its
    # text columns are data (a roster whose first rows lack the numbers).
    while data - 1 >= lo and ks[data - 1] == TEXT and numeric:
        row = rows[data - 1]
        if (
            shape_of(row).count < 2
            or any(row[j].__class__ is str and not is_missing(row[j]) for j in numeric)
            or any(row[j] is None for j in texty)
        ):
            break
        data -= 1
    # Label columns run from the table's left edge to its first value column,
    # except text columns the data fills (a roster's "Street", "City").
    first_value = min((c for c in valued if c > left), default=left + 1)
    value_cols = set(range(first_value, len(rows[lo]))) | (texty - {left})
    last = _last_header_line(rows, ks, lo, data, value_cols)
    if last is None:
        return None, data, data
    first = last
    # Group rows between the header and the data belong to the data.
    data = next(i for i in range(last + 1, data + 1) if ks[i] != EMPTY)
    spacers = 0
    for j in range(last - 1, lo - 1, -1):
        k = ks[j]
        if k == EMPTY:
            spacers += 1
            if spacers > MAX_SPACERS:
                break
            continue
        if k == DATA:
            break
        s = shape_of(rows[j])
        if s.count == 1 and s.first <= left:
            break  # a title, unit line or note above the header
        if form_line(rows[j]):
            break  # "Prepared by: | J. Smith" sits above tables, never in a header
        first = j
        spacers = 0
    return last, first, data


def _skip_false_starts(rows: list[list], ks: list[str], data: int, hi: int) -> int:
    """Move the data start past rows that only look like data because a header cell
    holds a number ("50 000", a year with a footnote digit, a table number "3").

    Such a row becomes TEXT in ``ks``. It is one when: a header-like text row with
    data below it follows and this row is sparser than that data; or it is mostly
    text while the next row is mostly numbers; or it is a run of rising numbers
    ("1997 ... 20071") over an empty cell where the data below has its labels.
    """
    for _ in range(3):
        nxt = next((i for i in range(data + 1, hi) if ks[i] != EMPTY), None)
        if nxt is None:
            return data
        row, here = rows[data], shape_of(rows[data])
        if ks[nxt] == TEXT:
            below = next(
                (i for i in range(nxt + 1, min(hi, nxt + 4)) if ks[i] == DATA), None
            )
            # ... and this row is sparser than that data (not a roster row whose
            # neighbour happens to lack its one number).
            false = (
                below is not None
                and header_like(rows[nxt])
                and here.count + 1 < shape_of(rows[below]).count
            )
        elif ks[nxt] == DATA:
            after = shape_of(rows[nxt])
            _, texty, _ = column_profile(rows, ks, nxt, hi)
            false = (
                here.texts >= 2
                and here.texts > here.numeric
                and after.numeric >= here.numeric + 2
                and header_like(row)
            ) or _column_heads(row, here.first, texty)
        else:
            return data
        if not false:
            return data
        ks[data] = TEXT
        data = next((i for i in range(nxt, hi) if ks[i] == DATA), None)
        if data is None:  # pragma: no cover - nxt or a row below it is data
            return nxt
    return data


def _column_heads(row: list, first: int, texty: set[int]) -> bool:
    if not texty or min(texty) >= first or row[min(texty)] is not None:
        return False
    nums = [v for v in row if v is not None and v.__class__ is not str]
    # Only a run of one kind can rise: numbers with dates (or bools) cannot be
    # compared, and raised TypeError here on a roster row with an amount and a date.
    kinds_ = {dt.date if isinstance(v, dt.date) else type(v) for v in nums}
    if kinds_ - {int, float} and len(kinds_) > 1 or bool in kinds_:
        return False
    return len(nums) >= 3 and all(a < b for a, b in zip(nums, nums[1:], strict=False))


def _last_header_line(
    rows: list[list], ks: list[str], lo: int, data: int, value_cols: set[int]
) -> int | None:
    """The header line nearest above ``data``.

    Rows that label none of the value columns (text only in the label columns, or
    placeholders like ``(NA)``) are skipped: group lines such as "United States" or
    "Agricultural products". If such rows hang right below that header line and a
    spacer separates them from the data, they are the header's last lines (a stub
    label like "Characteristic" or a second line like "Code" under "FIPS").
    """
    j = data - 1
    while j >= lo:
        if ks[j] == DATA:
            return None
        if ks[j] != EMPTY and _labels(rows[j], value_cols):
            break
        j -= 1
    if j < lo:
        return None
    last = j
    while last + 1 < data and ks[last + 1] != EMPTY:
        last += 1
    if last + 1 >= data:  # the run touches the data: those are group rows
        return j
    return last


def _labels(row: list, value_cols: set[int]) -> bool:
    for c in value_cols:
        v = row[c]
        if v is not None and not (
            v.__class__ is str and (is_missing(v) or v.strip() in _DOTS)
        ):
            return True
    return False


_DOTS = {".", "..", "...", "\u2026"}  # "no figure" marks, not labels


def _value_text(v: str) -> bool:
    cls = text_class(v)
    return cls in VALUES and cls != YEAR


def find_hint_row(
    rows: list[list], header_row: int | None, contains: Sequence[str], row0: int
) -> int | None:
    """Local index of the hinted header row on this sheet, or None."""
    if header_row is not None:
        local = header_row - 1 - row0
        return local if 0 <= local < len(rows) else None
    needles = [n.strip().lower() for n in contains if n and n.strip()]
    if not needles:
        return None
    for i, row in enumerate(rows):
        texts = [v.lower() for v in row if v.__class__ is str]
        if texts and all(any(n in t for t in texts) for n in needles):
            return i
    return None


def header_texts(
    rows: list[list],
    first: int,
    last: int,
    c0: int,
    c1: int,
    merged: Sequence[tuple[int, int, int, int]],
) -> tuple[str | None, ...]:
    """Join the header lines ``first..last`` per column ``c0..c1`` (local indices).

    A merged cell's text is spread over every column it covers on its own line.
    """
    parts: list[list[str]] = [[] for _ in range(c1 - c0 + 1)]
    spread = _merged_by_row(merged, first, last)
    for i in range(first, last + 1):
        row = rows[i]
        line = [_text(row[j]) if j < len(row) else None for j in range(c0, c1 + 1)]
        for mc0, mc1 in spread.get(i, ()):
            src = _text(row[mc0]) if 0 <= mc0 < len(row) else None
            for j in range(max(mc0, c0), min(mc1, c1) + 1):
                if src and not line[j - c0]:
                    line[j - c0] = src
        for j, t in enumerate(line):
            if t:
                parts[j].append(t)
    return tuple(" ".join(p) if p else None for p in parts)


def _merged_by_row(
    merged: Sequence[tuple[int, int, int, int]], first: int, last: int
) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for r0, mc0, _r1, mc1 in merged:
        if first <= r0 <= last and mc1 > mc0:
            out.setdefault(r0, []).append((mc0, mc1))
    return out


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.date):
        return v.isoformat()
    text = " ".join(str(v).split())  # line breaks inside a cell become one space
    return text or None


__all__ = ["column_profile", "find_header", "find_hint_row", "header_texts"]
