"""Extract on bad input: a clear WorkbookError or a correct result.

Refusals come from the zip directory, before anything is decompressed; the cost of
what is read (a million styled empty rows) is ``bench/read_speed.py``'s."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from runner import readers
from runner.extract import WorkbookError, extract

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def small_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Name"])
    ws.append([1, "Ann"])
    wb.save(path)
    return path


def ole_file(path: Path, stream_names: list[str]) -> Path:
    """A compound-file header plus directory entry names (UTF-16LE), which is what
    tells encrypted OOXML and legacy .xls apart."""
    body = b"".join(n.encode("utf-16-le").ljust(64, b"\0") for n in stream_names)
    path.write_bytes(OLE_MAGIC + b"\0" * 504 + body + b"\0" * 1024)
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """Copy a zip, replacing (or adding) members."""
    with (
        zipfile.ZipFile(src) as zin,
        zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for info in zin.infolist():
            if info.filename not in replace:
                zout.writestr(info, zin.read(info.filename))
        for name, data in replace.items():
            zout.writestr(name, data)
    return dst


def error_of(path: Path) -> str:
    with pytest.raises(WorkbookError) as err:
        extract(path)
    message = str(err.value)
    assert "\n" not in message and len(message) < 200
    return message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"id,name\n1,Ann\n", "CSV"),
        (b"<html><body><table></table></body></html>", "HTML"),
        (bytes(range(256)) * 4, "not an Excel workbook"),
    ],
)
def test_not_a_workbook(tmp_path, content, words):
    path = tmp_path / "in.xlsx"
    path.write_bytes(content)
    assert words in error_of(path)


def test_missing_file(tmp_path):
    assert "cannot open" in error_of(tmp_path / "missing.xlsx")


def test_truncated_zip(tmp_path):
    data = small_book(tmp_path / "ok.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in error_of(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert "not an Excel workbook" in error_of(path)


def test_corrupt_sheet_xml(tmp_path):
    src = small_book(tmp_path / "ok.xlsx")
    path = rewrite(
        src,
        tmp_path / "bad.xlsx",
        {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"},
    )
    assert error_of(path)


def test_encrypted_and_legacy_xls(tmp_path):
    enc = ole_file(
        tmp_path / "enc.xlsx", ["Root Entry", "EncryptionInfo", "EncryptedPackage"]
    )
    assert "password" in error_of(enc)
    xls = ole_file(
        tmp_path / "old.xlsx", ["Root Entry", "Workbook", "SummaryInformation"]
    )
    assert ".xls" in error_of(xls)


def test_zip_bomb_refused_before_reading(tmp_path, monkeypatch):
    src = small_book(tmp_path / "ok.xlsx")
    bomb = b"<worksheet>" + b" " * (40 << 20) + b"</worksheet>"  # ~1000:1 deflated
    path = rewrite(src, tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": bomb})

    def no_reading(*_args, **_kwargs):
        raise AssertionError("a member was opened before the bomb was refused")

    # Every way extract() could decompress: Python's zipfile (openpyxl, the extent
    # scan) and calamine.
    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    monkeypatch.setattr(readers.calamine.CalamineWorkbook, "from_path", no_reading)
    assert "suspicious" in error_of(path)


def test_million_empty_styled_rows_cost_nothing(tmp_path):
    src = small_book(tmp_path / "ok.xlsx")
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    head, tail = xml.split("</sheetData>")
    row = '<row r="{0}" s="1" customFormat="1"><c r="L{0}" s="1"/></row>'
    empty = "".join(map(row.format, range(3, 1_000_003)))
    path = rewrite(
        src,
        tmp_path / "styled.xlsx",
        {"xl/worksheets/sheet1.xml": (head + empty + "</sheetData>" + tail).encode()},
    )
    (table,) = extract(path).tables
    assert table.headers == ("ID", "Name") and table.rows == [[1, "Ann"]]
    assert table.range == "A1:B2"


@pytest.mark.parametrize("with_dimension", [True, False])
def test_far_apart_cells_refused_not_aborted(tmp_path, with_dimension):
    # calamine would allocate a dense 100,000 x 16,384 grid and abort the process.
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    wb.active["XFD100000"] = "y"
    src = tmp_path / "far.xlsx"
    wb.save(src)
    path = src
    if not with_dimension:
        with zipfile.ZipFile(src) as zf:
            xml = zf.read("xl/worksheets/sheet1.xml").decode()
        xml = xml.replace('<dimension ref="A1:XFD100000"/>', "")
        assert "dimension" not in xml
        path = rewrite(src, tmp_path / "nodim.xlsx", {"xl/worksheets/sheet1.xml": xml})
    assert "stray cells" in error_of(path)
