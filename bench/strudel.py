"""The Strudel corpora (SAUS and Troy) as workbooks, with their header truth.

Every record becomes a one-sheet XLSX (number-looking text stored as numbers, as a
spreadsheet would), goes through ``runner.extract.extract``, and counts as a hit when
the detected last header line of the table holding the first ``data`` row equals the
ground truth: the last row labelled ``header`` above that first data row.
``bench/headers.py`` prints the figures.

Baselines (README of the data): messytables 39.0 % SAUS / 89.9 % Troy.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "strudel"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runner.extract import column_letter, extract  # noqa: E402

# 1,416 / 281424.6 / -21 139 (space or no-break-space groups) / 35.1%
_NUMBER = re.compile(
    r"^[+-]?(\d{1,3}(?:([,\u00a0\u202f ])\d{3})(?:\2\d{3})*|\d+)?(\.\d+)?%?$"
)


KEYS = ("table_array", "line_annotation", "file_name")


def load(name: str) -> list[dict]:
    """Records of ``saus`` or ``troy``, with only the ``KEYS`` this bench uses.

    A SAUS line is ~0.5 MB of JSON, mostly features we do not need; decoding just
    the three values is ~20x faster than ``json.loads`` of the whole line.
    """
    decoder = json.JSONDecoder()
    records = []
    with gzip.open(DATA / f"{name}.jl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            record = {}
            for key in KEYS:
                match = re.search(rf'"{key}"\s*:\s*', line)
                if match is None:  # not the layout we know: decode it all
                    record = json.loads(line)
                    break
                record[key] = decoder.raw_decode(line, match.end())[0]
            records.append(record)
    return records


def truth(record: dict) -> tuple[int, int] | None:
    """(1-based last header line, 1-based first data row), None without a header."""
    labels = record["line_annotation"]
    if "data" not in labels:
        return None
    first_data = labels.index("data")
    heads = [i for i in range(first_data) if labels[i] == "header"]
    return (heads[-1] + 1, first_data + 1) if heads else None


def cell(text: str) -> object:
    """A spreadsheet's reading of typed text: numbers become numbers."""
    s = text.strip().strip("\u00a0")
    if not s:
        return None
    if _NUMBER.match(s) and any(c.isdigit() for c in s):
        percent = s.endswith("%")
        digits = re.sub(r"[,\u00a0\u202f %]", "", s)
        value = float(digits) / (100 if percent else 1)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return text


def write_xlsx(record: dict, path: Path) -> None:
    """The record as a one-sheet workbook: a minimal SpreadsheetML package with
    inline strings (openpyxl took 7 s for the SAUS records, this 0.3 s)."""
    lines = []
    for r, row in enumerate(record["table_array"], start=1):
        cells = []
        for c, text in enumerate(row):
            value = cell(text)
            if value is None:
                continue
            ref = f"{column_letter(c)}{r}"
            if isinstance(value, str):
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{escape(value)}</t></is></c>"
                )
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    table = record["table_array"]
    width = max(map(len, table), default=1) or 1
    # Excel writes the used range up front; readers may rely on it.
    ref = f"A1:{column_letter(width - 1)}{max(len(table), 1)}"
    sheet = (
        f'<worksheet xmlns="{_MAIN}"><dimension ref="{ref}"/><sheetData>'
        f"{''.join(lines)}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in _PACKAGE.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PACKAGE = {
    "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_CT}.worksheet+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>",
    "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}


def evaluate(records: list[dict], workdir: Path) -> tuple[int, int, list[str]]:
    """(hits, records with a header, one line per miss)."""
    hits = total = 0
    misses: list[str] = []
    for n, record in enumerate(records):
        t = truth(record)
        if t is None:
            continue
        total += 1
        path = workdir / f"r{n}.xlsx"
        if not path.exists():
            write_xlsx(record, path)
        found = detected_last_header(path, t[1])
        if found == t[0]:
            hits += 1
        else:
            misses.append(f"#{n} {record.get('file_name')}: truth {t[0]} found {found}")
    return hits, total, misses


def detected_last_header(path: Path, first_data: int) -> int | None:
    """``header_rows[1]`` of the extracted table holding row ``first_data``."""
    for table in extract(path).tables:
        if first_data in table.row_numbers:
            return table.header_rows[1] if table.header_rows else None
    for table in extract(path).tables:  # the row was taken for a header line
        if table.header_rows and table.header_rows[0] <= first_data <= _last(table):
            return table.header_rows[1]
    return None


def _last(table) -> int:
    return int(re.sub(r"^[A-Z]+", "", table.range.split(":")[1]))
