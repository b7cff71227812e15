"""Reader speed: python-calamine vs openpyxl read-only vs our ``extract()``.

Generates one workbook per shape in a temp dir, reads it with each, and prints the
times and the ratios to calamine's own read of the same file, measured in the same
run (CPU time is the steadier number on a shared machine):

* ``mixed`` (default): title, blank line, header, ``--rows`` (100,000) x 12 mixed
  columns, written by openpyxl.
* ``text``: the same layout with 12 text-ish columns (number-looking strings stored
  as numbers, inline strings), ``--rows`` of them; a regression that adds per-cell
  Python work shows as a CPU ratio well above 1.5x (~1.1x when written).
* ``styled-empty``: a two-row table followed by ``--rows`` (1,000,000 here unless
  given) empty styled rows; calamine skims them and so must ``extract()``
  (~1 s when written).

    .venv/bin/python bench/read_speed.py [--shape mixed|text|styled-empty|all]
        [--rows N] [--repeat K] [--skip-openpyxl]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.strudel import write_xlsx  # noqa: E402
from runner.extract import extract  # noqa: E402

REGRESSION_RATIO = 1.5  # extract() CPU over calamine's: above this, look for a cause
STYLED_EMPTY_ROWS = 1_000_000


def make_workbook(path: Path, rows: int) -> None:
    """Title, blank line, header, then ``rows`` rows of 12 mixed columns."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(["Member export"])
    ws.append([])
    ws.append(
        ["ID", "First", "Last", "Email", "Joined", "Age", "Score", "Plan", "City"]
        + ["Active", "Balance", "Note"]
    )
    day = dt.date(2020, 1, 1)
    for i in range(rows):
        ws.append(
            [
                i + 1,
                f"First{i % 997}",
                f"Last{i % 1009}",
                f"user{i}@example.com",
                day + dt.timedelta(days=i % 1500),
                18 + i % 60,
                (i * 37 % 1000) / 10,
                ("basic", "plus", "pro")[i % 3],
                f"City {i % 211}",
                i % 2 == 0,
                round(i * 1.37 % 5000, 2),
                None if i % 5 else "call back",
            ]
        )
    wb.save(path)


def make_text_workbook(path: Path, rows: int) -> None:
    """Title, blank line, header, then ``rows`` rows of 12 text-ish columns."""
    table = [["Export"], [], [f"Col {j}" for j in range(12)]]
    table += [
        [str(i), f"name {i % 97}", f"{i * 1.5}", "x" if i % 3 else "", str(i % 7)] * 2
        + [f"{i % 1000}.25", f"city {i % 13}"]
        for i in range(rows)
    ]
    write_xlsx({"table_array": table}, path)


def make_styled_empty_workbook(path: Path, rows: int) -> None:
    """A header and one data row, then ``rows`` empty rows that carry a style."""
    import openpyxl

    small = path.with_suffix(".small.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["ID", "Name"])
    wb.active.append([1, "Ann"])
    wb.save(small)
    with zipfile.ZipFile(small) as zin:
        members = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    head, tail = members["xl/worksheets/sheet1.xml"].decode().split("</sheetData>")
    row = '<row r="{0}" s="1" customFormat="1"><c r="L{0}" s="1"/></row>'
    empty = "".join(map(row.format, range(3, rows + 3)))
    members["xl/worksheets/sheet1.xml"] = (
        head + empty + "</sheetData>" + tail
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    small.unlink()


SHAPES = {
    "mixed": (make_workbook, 100_000),
    "text": (make_text_workbook, 100_000),
    "styled-empty": (make_styled_empty_workbook, STYLED_EMPTY_ROWS),
}


def best(fn, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeat`` runs; CPU time is the steadier one on
    a shared machine."""
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus)


def read_calamine(path: Path) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    # skip_empty_area as extract() reads: the styled-empty shape compares like with like
    return len(book.get_sheet_by_index(0).to_python(skip_empty_area=True))


def read_openpyxl(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="mixed")
    parser.add_argument("--rows", type=int, help="rows of the shape (its default)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-openpyxl", action="store_true")
    args = parser.parse_args()
    shapes = list(SHAPES) if args.shape == "all" else [args.shape]
    for shape in shapes:
        make, default_rows = SHAPES[shape]
        bench_shape(shape, make, args.rows or default_rows, args)


def bench_shape(shape: str, make, rows: int, args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speed.xlsx"
        start = time.perf_counter()
        make(path, rows)
        size = path.stat().st_size / 1e6
        print(
            f"[{shape}] generated {rows} rows ({size:.1f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        cal = best(lambda: read_calamine(path), args.repeat)
        print(f"calamine to_python   {_fmt(cal)}")
        if not args.skip_openpyxl:
            opx = best(lambda: read_openpyxl(path), 1)
            print(f"openpyxl read-only   {_fmt(opx)}   = {_ratio(opx, cal)} calamine")
        ext = best(lambda: extract(path), args.repeat)
        data_rows = sum(len(t.rows) for t in extract(path).tables)
        print(
            f"extract()            {_fmt(ext)}   = {_ratio(ext, cal)} calamine "
            f"({data_rows} data rows)"
        )
        if ext[1] > REGRESSION_RATIO * cal[1]:
            print(
                f"  extract() CPU is over {REGRESSION_RATIO}x calamine's: per-cell "
                "work crept in, or the machine is very busy (run it again)"
            )


def _fmt(t: tuple[float, float]) -> str:
    return f"wall {t[0]:6.2f} s  cpu {t[1]:6.2f} s"


def _ratio(a: tuple[float, float], b: tuple[float, float]) -> str:
    return f"wall {a[0] / b[0]:.2f}x cpu {a[1] / b[1]:.2f}x"


if __name__ == "__main__":
    main()
