"""How many cells a sheet spans, read from the XLSX package before calamine parses it.

calamine stores a sheet as a dense grid from its first to its last cell, so two cells
far apart (``A1`` and ``XFD100000``) ask for billions of cells and abort the process
(measured: a 52 GB allocation, SIGABRT). The ``<dimension ref="A1:L100">`` element
near the top of each sheet part tells the span cheaply; a part without it is scanned
for cell references when it is small (``SCAN_LIMIT``).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"'
)
_ONE_LETTER = re.compile(rb'\sr="([A-Z])\d+"')
_WIDE_REF = re.compile(rb'r="([A-Z]{2,3})\d')  # literal prefix: a fast C scan
_ROW_REF = re.compile(rb'\sr="[A-Z]{0,3}(\d+)"')
_SHEET = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_REL = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_HEAD = 1 << 16  # the dimension element sits in the first few hundred bytes
_CHUNK = 1 << 22
# Parts without <dimension> are scanned only up to this size: the scan inflates the
# whole part (~0.3 s per 100,000 rows x 12 columns, a third of calamine's own time).
# A larger part without <dimension> and with far-apart cells is left to the
# sandbox's memory limit (calamine then aborts the worker).
SCAN_LIMIT = 8 << 20


def col_number(letters: bytes) -> int:
    """``b"A"`` -> 1, ``b"XFD"`` -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML part."""
    book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    try:
        rels_xml = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {}
    for m in _REL.finditer(rels_xml):
        attrs = dict(_ATTR.findall(m.group(1)))
        if "Id" in attrs and "Target" in attrs:
            targets[attrs["Id"]] = attrs["Target"]
    parts = {}
    for m in _SHEET.finditer(book):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        target = targets.get(rid or "")
        if "name" in attrs and target:
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            parts[_unescape(attrs["name"])] = str(PurePosixPath(path))
    return parts


def _unescape(text: str) -> str:
    for ent, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(ent, ch)
    return text.replace("&amp;", "&")


def part_extent(zf: zipfile.ZipFile, member: str) -> tuple[int, int, str]:
    """(rows, columns, "A1:L100") spanned by one sheet part."""
    with zf.open(member) as fh:
        head = fh.read(_HEAD)
        m = _DIMENSION.search(head)
        if m:
            c0, r0 = col_number(m.group(1)), int(m.group(2))
            c1, r1 = (
                (col_number(m.group(3)), int(m.group(4))) if m.group(3) else (c0, r0)
            )
            ref = m.group(0).split(b'"')[1].decode()
            return r1 - r0 + 1, c1 - c0 + 1, ref
        if zf.getinfo(member).file_size > SCAN_LIMIT:
            return 0, 0, ""  # see SCAN_LIMIT
        return _scan(fh, head)


def _scan(fh, data: bytes) -> tuple[int, int, str]:
    # Only references with two or three column letters are matched over the whole
    # part (none at all in a typical A-Z sheet, so the regex runs at C speed); the
    # one-letter columns are taken from the first block, the last row from the end
    # (rows are stored in ascending order).
    cmax = max((col_number(m) for m in _ONE_LETTER.findall(data[:_HEAD])), default=0)
    rmax = 0
    tail = b""
    while data:
        block = tail + data
        for m in _WIDE_REF.findall(block):
            cmax = max(cmax, col_number(m))
        refs = _ROW_REF.findall(block[-4096:])
        if refs:
            rmax = max(rmax, int(refs[-1]))
        tail = block[-32:]  # a reference cut by the chunk boundary is seen again
        data = fh.read(_CHUNK)
    if not rmax:
        return 0, 0, ""
    return rmax, cmax, f"about {rmax} rows x {cmax} columns"


def extents(path: Path, names: list[str]) -> dict[str, tuple[int, int, str]]:
    """Extent of each named sheet whose part can be found."""
    with zipfile.ZipFile(path) as zf:
        parts = sheet_parts(zf)
        out = {}
        for name in names:
            member = parts.get(name)
            if member and member in zf.NameToInfo:
                out[name] = part_extent(zf, member)
        return out
