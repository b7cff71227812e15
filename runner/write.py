"""The write phase: the normalized workbook (`Normalized` + `Issues`), streamed.

Writing is most of a large run's time. openpyxl's write-only mode spends ~7 µs of CPU
per cell building cell objects (100,000 rows × 14 columns: ~10 s), so this module
writes the SpreadsheetML itself: inline strings, plain numbers, three date styles and
nothing else, generated column-wise in chunks and streamed into the zip (~5× less CPU;
numbers in docs/decisions.md). The output is byte-for-byte deterministic (fixed zip
timestamps, no creation dates). Tests read it back with openpyxl and calamine.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import numbers
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from runner.tablebuild import column_letter

CHUNK_ROWS = 5000  # rows generated at once; also the progress interval
MAX_SHEET_ROWS = 1_048_576  # Excel's limit, header row included
MAX_CELL_CHARS = 32767
# The control characters XML 1.0 forbids (openpyxl's ILLEGAL_CHARACTERS_RE; not
# imported from there: openpyxl costs the sandbox worker ~70 ms of imports).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
ISSUE_HEADERS = ("sheet", "row", "field", "code", "severity", "message")
EPOCH = dt.datetime(1899, 12, 30)
FIRST_SERIAL_DAY = 61  # 1900-03-01; earlier dates hit Excel's 1900 leap-year bug
EPOCH_DAY = EPOCH.toordinal()
STYLE_DATE, STYLE_DATETIME, STYLE_TIME = 1, 2, 3  # indexes into cellXfs below

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_HEAD = f'{XML_DECL}<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XF = '<xf numFmtId="{}" fontId="0" fillId="0" borderId="0" xfId="0"{}/>'
STYLES = (
    f'{XML_DECL}<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss"/>'
    '</numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
    '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
    "<border><left/><right/><top/><bottom/><diagonal/></border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="4">'
    + XF.format(0, "")
    + "".join(XF.format(n, ' applyNumberFormat="1"') for n in (14, 164, 21))
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>'
)


class OutputTable:
    """One table's normalized rows, column-wise, ready to write."""

    def __init__(self, sheet: str, columns: Sequence[list[Any]], rows: Sequence[int]):
        self.sheet = sheet
        self.columns = columns  # one list per field, ordinal order
        self.row_numbers = rows


def write_workbook(
    path: Path,
    labels: Sequence[str],
    tables: Iterable[OutputTable],
    findings: Iterable[dict[str, Any]],
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Write the normalized workbook to `path`; return the number of data rows.

    `tables` must be a sequence if it may be too big: more rows than a sheet holds
    raise TooManyRowsError before anything is written.
    """
    if isinstance(tables, Sequence):
        total = sum(len(t.row_numbers) for t in tables)
        if total > MAX_SHEET_ROWS - 1:
            raise TooManyRowsError(
                f"the normalized output has {total:,} rows; a sheet holds at most "
                f"{MAX_SHEET_ROWS - 1:,} below its header"
            )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in _static_parts(("Normalized", "Issues")):
            zf.writestr(_info(name), text)
        with zf.open(_info("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as raw:
            # Compression (zlib releases the GIL) overlaps generating the XML.
            with _BackgroundWriter(raw) as out:
                written = _write_normalized(out, labels, tables, progress)
        with zf.open(_info("xl/worksheets/sheet2.xml"), "w", force_zip64=True) as out:
            _write_sheet(out, [list(ISSUE_HEADERS)], _issue_rows(findings))
    return written


class TooManyRowsError(ValueError):
    """The normalized rows do not fit on one sheet."""


def _issue_rows(findings: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    """Issue rows; past the sheet's capacity, one last row says how many are left."""
    room = MAX_SHEET_ROWS - 2
    left = 0
    for n, finding in enumerate(findings):
        if n < room:
            yield [finding[k] for k in ISSUE_HEADERS]
        else:
            left += 1
    if left:
        yield [None, None, None, "truncated", "info", f"{left} more issues not listed"]


class _BackgroundWriter:
    """Writes chunks to `out` on a helper thread; errors re-raise in the caller."""

    def __init__(self, out: IO[bytes]):
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._drain, daemon=True
        )

    def __enter__(self) -> _BackgroundWriter:
        try:
            self._thread.start()
        except RuntimeError:  # no thread to spare (sandbox process limit): inline
            self._thread = None
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error

    def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._out.write(data)
        else:
            self._queue.put(data)

    def _drain(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._out.write(data)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc


def _write_normalized(
    out: IO[bytes],
    labels: Sequence[str],
    tables: Iterable[OutputTable],
    progress: Callable[[str, int], None] | None,
) -> int:
    out.write(SHEET_HEAD)
    width = len(labels) + 2
    letters = [column_letter(i) for i in range(width)]
    out.write(_rows_xml([[*labels, "source_sheet", "source_row"]], 1, letters))
    row = 2
    for table in tables:
        n = len(table.row_numbers)
        for start in range(0, n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n)
            columns = [c[start:stop] for c in table.columns]
            columns.append([table.sheet] * (stop - start))
            columns.append(table.row_numbers[start:stop])
            out.write(_chunk_xml(columns, row, letters))
            row += stop - start
            if progress is not None:
                progress("write", row - 2)
    out.write(SHEET_TAIL)
    return row - 2


def _write_sheet(out: IO[bytes], head: list[list[Any]], rows: Iterable[list]) -> None:
    out.write(SHEET_HEAD)
    letters = [column_letter(i) for i in range(len(head[0]))]
    out.write(_rows_xml(head, 1, letters))
    row, chunk = 2, []
    for values in rows:
        chunk.append(values)
        if len(chunk) == CHUNK_ROWS:
            out.write(_rows_xml(chunk, row, letters))
            row, chunk = row + len(chunk), []
    out.write(_rows_xml(chunk, row, letters))
    out.write(SHEET_TAIL)


def _rows_xml(rows: list[list[Any]], first: int, letters: list[str]) -> bytes:
    if not rows:
        return b""
    return _chunk_xml([list(c) for c in zip(*rows, strict=True)], first, letters)


def _chunk_xml(columns: list[list[Any]], first: int, letters: list[str]) -> bytes:
    """`<row>` elements for rows `first...`; `columns` holds the values column-wise."""
    rows = [str(r) for r in range(first, first + len(columns[0]))]
    cells = [
        _column_cells(c, letter, rows)
        for c, letter in zip(columns, letters, strict=True)
    ]
    opens = [f'<row r="{r}">' for r in rows]
    pieces = zip(opens, *cells, itertools.repeat("</row>", len(rows)), strict=True)
    return "".join(itertools.chain.from_iterable(pieces)).encode("utf-8", "replace")


def _plain_texts(values: list[str]) -> bool:
    """Whether every text of a column can be written as it is (the common case):
    no control characters, no markup characters, no edge spaces, not too long.
    Checked with C-level passes over the column, not per value in Python."""
    if not all(map(str.isprintable, values)):  # also: no tab, newline or NUL
        return False
    joined = "\0".join(values)  # NUL cannot occur inside a printable text
    return (
        "&" not in joined
        and "<" not in joined
        and ">" not in joined
        and joined[:1] != " "
        and joined[-1:] != " "
        and " \0" not in joined
        and "\0 " not in joined
        and max(map(len, values), default=0) <= MAX_CELL_CHARS
    )


def _column_cells(values: list[Any], letter: str, rows: list[str]) -> list[str]:
    """The `<c>` element of every value (empty string for an empty cell); ``rows``
    are the row numbers as text. A column of plain texts or of ints (most of a
    large output) is one comprehension; any other takes the per-value dispatch."""
    kinds = set(map(type, values))
    if kinds == {str} and _plain_texts(values):
        return [
            f'<c r="{letter}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
            for r, v in zip(rows, values, strict=True)
        ]
    if kinds == {int}:
        return [
            f'<c r="{letter}{r}"><v>{v}</v></c>'
            for r, v in zip(rows, values, strict=True)
        ]
    return _mixed_cells(values, letter, rows)


def _mixed_cells(values: list[Any], letter: str, rows: list[str]) -> list[str]:
    """`_column_cells` value by value: any mix of types, texts that need escaping."""
    out = []
    append = out.append
    for i, value in zip(rows, values, strict=True):
        kind = type(value)
        if value is None:
            append("")
        elif kind is str:
            if (  # the common case, checked with C string methods only
                value.isprintable()  # no control characters, no \t \n
                and "&" not in value
                and "<" not in value
                and ">" not in value
                and value[:1] != " "
                and value[-1:] != " "
                and len(value) <= MAX_CELL_CHARS
            ):
                append(f'<c r="{letter}{i}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                append(_text_cell(value, letter, i))
        elif kind is int:
            append(f'<c r="{letter}{i}"><v>{value}</v></c>')
        elif kind is float and math.isfinite(value):
            append(f'<c r="{letter}{i}"><v>{value!r}</v></c>')
        elif (
            kind is dt.date
            and (days := value.toordinal() - EPOCH_DAY) >= FIRST_SERIAL_DAY
        ):
            append(f'<c r="{letter}{i}" s="{STYLE_DATE}"><v>{days}</v></c>')
        else:
            append(_other_cell(value, letter, i))
    return out


def _text_cell(text: str, letter: str, row: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return (
            f'<c r="{letter}{row}" t="inlineStr"><is><t xml:space="preserve">'
            f"{text}</t></is></c>"
        )
    return f'<c r="{letter}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def _other_cell(value: Any, letter: str, row: str) -> str:
    """Cells for the less common types: bool, dates, times, odd numbers, objects."""
    ref = f"{letter}{row}"
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        serial = _date_serial(value)
        if serial is None:  # before 1900-03-01: Excel cannot show it as a date
            return _text_cell(value.isoformat(), letter, row)
        style = STYLE_DATETIME if isinstance(value, dt.datetime) else (STYLE_DATE)
        return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        serial = (seconds + value.microsecond / 1e6) / 86400
        return f'<c r="{ref}" s="{STYLE_TIME}"><v>{serial!r}</v></c>'
    if isinstance(value, decimal.Decimal) and value.is_finite():
        value = float(value)
    elif isinstance(value, numbers.Integral):
        value = int(value)
    elif isinstance(value, numbers.Real):
        value = float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return _text_cell(str(value), letter, row)


def _date_serial(value: dt.date) -> float | int | None:
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH  # Excel has no time zones
        if delta.days < FIRST_SERIAL_DAY:
            return None
        return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    days = (value - EPOCH.date()).days
    return days if days >= FIRST_SERIAL_DAY else None


def _static_parts(sheets: Sequence[str]) -> list[tuple[str, str]]:
    """Every part of the package except the worksheets' data."""
    n = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="{CT}.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    content_types = (
        f"{XML_DECL}<Types "
        'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        f'package.relationships+xml"/><Default Extension="xml" '
        f'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        f'ContentType="{CT}.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
        f'ContentType="{CT}.styles+xml"/>{overrides}</Types>'
    )
    root_rels = (
        f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheets, 1)
    )
    workbook = (
        f'{XML_DECL}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        "<bookViews><workbookView/></bookViews>"
        f"<sheets>{entries}</sheets></workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    workbook_rels = (
        f'{XML_DECL}<Relationships xmlns="{PKG_REL_NS}">{rels}'
        f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" '
        f'Target="styles.xml"/></Relationships>'
    )
    return [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", STYLES),
    ]


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info
