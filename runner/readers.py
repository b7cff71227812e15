"""Open a workbook safely and read its sheets as rows of plain Python values.

python-calamine is the fast path (about 10x openpyxl read-only, see
``bench/read_speed.py``); openpyxl read-only is the fallback when calamine is missing
or cannot parse a file that passed the container checks. Every failure surfaces as a
``WorkbookError`` with a one-line reason a user can act on.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import gc
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.read_extent import extents

try:  # the fast reader; openpyxl below is always available
    import python_calamine as calamine
except ImportError:  # pragma: no cover - exercised only without the wheel
    calamine = None

# Container limits, checked in the zip directory before anything is decompressed.
MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML in all members together
MAX_RATIO = 100  # deflate ratio of one large member; zip bombs reach ~1000
RATIO_MIN_SIZE = 16 << 20  # small members may compress as well as they like
# calamine holds a sheet as a dense grid; beyond this many cells (rows x columns of
# the used range) the grid alone needs over 500 MB.
MAX_CELLS = 16_000_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class WorkbookError(Exception):
    """Clear, one-line, user-facing reason (not a workbook, encrypted, ...)."""


@dataclass(frozen=True)
class SheetData:
    """One sheet's used area: ``rows[i][j]`` is the cell at (row0 + i, col0 + j)."""

    name: str
    row0: int  # 0-based sheet row of rows[0]
    col0: int  # 0-based sheet column of rows[i][0]
    rows: list[list]
    merged: tuple[tuple[int, int, int, int], ...]  # 0-based (r0, c0, r1, c1)


def check_container(path: Path) -> None:
    """Raise ``WorkbookError`` unless ``path`` looks like a sane XLSX zip."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise WorkbookError(f"cannot open the file: {exc.strerror}") from exc
    if not head:
        raise WorkbookError("the file is empty")
    if head.startswith(_OLE_MAGIC):
        raise WorkbookError(_ole_reason(path))
    if not head.startswith(b"PK"):
        raise WorkbookError(_not_zip_reason(head))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookError(
            "the file is damaged (truncated or corrupt zip): re-save it in Excel"
        ) from exc
    names = {info.filename for info in infos}
    if "xl/workbook.bin" in names:
        raise WorkbookError("binary .xlsb workbooks are not supported: save as .xlsx")
    if "xl/workbook.xml" not in names:
        raise WorkbookError("the file is a zip archive but not an Excel workbook")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_SIZE and ratio > MAX_RATIO:
            raise WorkbookError(
                f"refusing a suspicious workbook: {info.filename} expands {ratio:.0f}x"
            )
    if total > MAX_UNCOMPRESSED:
        raise WorkbookError(
            f"refusing a workbook that expands to {total >> 20} MiB "
            f"(limit {MAX_UNCOMPRESSED >> 20} MiB)"
        )


def _ole_reason(path: Path) -> str:
    # Encrypted OOXML and legacy .xls share the OLE/CFB container; the directory
    # names (UTF-16LE) tell them apart without a full CFB parser.
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)
        # The first directory sector may sit anywhere; its number is in the header.
        shift = int.from_bytes(data[0x1E:0x20], "little")
        first_dir = int.from_bytes(data[0x30:0x34], "little")
        if 9 <= shift <= 16 and first_dir < 0xFFFFFFFA:
            fh.seek((first_dir + 1) << shift)
            data += fh.read(4 << shift)
    if "EncryptionInfo".encode("utf-16-le") in data:
        return "the workbook is password-protected (encrypted): remove the password"
    return "legacy Excel 97-2003 (.xls) files are not supported: save it as .xlsx"


def _not_zip_reason(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf")
    if b"\x00" not in text:
        low = text[:512].lower()
        if low.lstrip().startswith((b"<html", b"<!doctype", b"<?xml")):
            return "the file is HTML/XML, not an Excel workbook: save it as .xlsx"
        if b"," in text or b";" in text or b"\t" in text:
            return "the file is CSV/text, not an Excel workbook: save it as .xlsx"
        return "the file is plain text, not an Excel workbook"
    return "the file is not an Excel workbook (.xlsx)"


def select_sheets(
    names: Sequence[str], include: Sequence[str], exclude: Sequence[str]
) -> list[str]:
    """Sheets allowed by case-insensitive names or globs; include empty means all."""

    def hits(name: str, patterns: Sequence[str]) -> bool:
        low = name.lower()
        # Exact names first: "Data [2024]" is a name, not a character class.
        return any(
            low == p.lower() or fnmatch.fnmatchcase(low, p.lower()) for p in patterns
        )

    return [
        n
        for n in names
        if (not include or hits(n, include)) and not (exclude and hits(n, exclude))
    ]


def read_sheets(
    path: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[int, Iterator[SheetData]]:
    """Check the container and return (number of sheets to read, sheet iterator)."""
    check_container(path)
    if calamine is not None:
        try:
            book = calamine.CalamineWorkbook.from_path(str(path))
            names = [
                m.name
                for m in book.sheets_metadata
                if m.typ == calamine.SheetTypeEnum.WorkSheet
            ]
        except Exception as exc:  # noqa: BLE001 - any parser failure: try openpyxl
            return _read_openpyxl(path, include, exclude, first_error=exc)
        chosen = select_sheets(names, include, exclude)
        _check_extents(path, chosen)
        return len(chosen), _iter_calamine(book, chosen)
    return _read_openpyxl(path, include, exclude)


def _check_extents(path: Path, names: list[str]) -> None:
    try:
        spans = extents(path, names)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, zlib.error) as exc:
        raise WorkbookError(
            "the file is damaged (corrupt zip member): re-save it in Excel"
        ) from exc
    for name, (height, width, ref) in spans.items():
        if height * width > MAX_CELLS:
            raise WorkbookError(
                f"sheet {name!r} spans {ref} ({height * width:,} cells, limit "
                f"{MAX_CELLS:,}): delete stray cells far from the data or exclude it"
            )


def _iter_calamine(book, chosen: list[str]) -> Iterator[SheetData]:
    for name in chosen:
        try:
            sheet = book.get_sheet_by_name(name)
            with _no_gc():
                raw = _normalize(sheet.to_python(skip_empty_area=True))
            merged = tuple(
                (r0, c0, r1, c1)
                for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ()
            )
        except Exception as exc:  # noqa: BLE001 - calamine raises several types
            raise WorkbookError(
                f"cannot read sheet {name!r}: {_one_line(exc)}"
            ) from exc
        start = sheet.start or (0, 0)
        yield SheetData(name, start[0], start[1], raw, merged)


@contextmanager
def _no_gc() -> Iterator[None]:
    # Reading creates millions of lists and no cycles; the cyclic collector would
    # otherwise rescan them repeatedly (measured: up to a third of the read time).
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _normalize(raw: list[list]) -> list[list]:
    """Calamine values to the contract, in place: "" -> None, 1.0 -> 1, time -> text.

    Rows of one table share their tuple of cell types, so the positions that need a
    look (floats, strings, odd types) are computed once per tuple; each row then
    costs a ``tuple(map(type, row))`` plus a visit of those cells only.
    """
    plans: dict[tuple, tuple[list[int], list[int], bool]] = {}
    for row in raw:
        key = tuple(map(type, row))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(key)
            if len(plans) > 50_000:  # pathological sheets: keep memory bounded
                plans.clear()
        floats, strs, odd = plan
        for j in floats:
            if row[j].is_integer():
                row[j] = int(row[j])
        if strs and "" in row:  # one C-level scan; most rows have no empty text
            for j in strs:
                if row[j] == "":
                    row[j] = None
        if odd:
            _fix_odd(row)
    # Trailing empty rows (styled but blank) carry no information.
    while raw and not any(v is not None for v in raw[-1]):
        raw.pop()
    return raw


_OK_TYPES = (str, int, float, bool, dt.date, type(None))


def _plan(key: tuple) -> tuple[list[int], list[int], bool]:
    floats = [j for j, t in enumerate(key) if t is float]
    strs = [j for j, t in enumerate(key) if t is str]
    return floats, strs, not all(issubclass(t, _OK_TYPES) for t in key)


def _fix_odd(row: list) -> None:
    for j, v in enumerate(row):
        if isinstance(v, dt.time):
            row[j] = v.isoformat()
        elif isinstance(v, dt.timedelta):
            row[j] = str(v)
        elif not isinstance(v, _OK_TYPES):
            row[j] = str(v)


def _read_openpyxl(
    path: Path,
    include: Sequence[str],
    exclude: Sequence[str],
    first_error: BaseException | None = None,
) -> tuple[int, Iterator[SheetData]]:
    import openpyxl  # imported lazily: only the fallback needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types
        reason = _one_line(first_error or exc)
        raise WorkbookError(f"cannot read the workbook: {reason}") from exc
    names = [ws.title for ws in book.worksheets]
    chosen = select_sheets(names, include, exclude)
    _check_extents(path, chosen)  # read-only rows are as wide as the used range

    def sheets() -> Iterator[SheetData]:
        try:
            for name in chosen:
                yield _openpyxl_sheet(book[name], name)
        finally:
            book.close()

    return len(chosen), sheets()


def _openpyxl_sheet(ws, name: str) -> SheetData:
    try:
        rows = [list(row) for row in ws.iter_rows(values_only=True)]
    except Exception as exc:  # noqa: BLE001
        raise WorkbookError(f"cannot read sheet {name!r}: {_one_line(exc)}") from exc
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
    return SheetData(name, 0, 0, _normalize(rows), ())
