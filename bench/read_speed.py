"""Reader speed: python-calamine vs openpyxl read-only vs our ``extract()``.

Generates one workbook (default 100,000 rows x 12 mixed columns) in a temp dir,
reads it with each, and prints the times and ratios measured in the same run.

    .venv/bin/python bench/read_speed.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.extract import extract  # noqa: E402


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
    return len(book.get_sheet_by_index(0).to_python())


def read_openpyxl(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-openpyxl", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speed.xlsx"
        start = time.perf_counter()
        make_workbook(path, args.rows)
        size = path.stat().st_size / 1e6
        print(
            f"generated {args.rows} x 12 ({size:.1f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        cal = best(lambda: read_calamine(path), args.repeat)
        print(f"calamine to_python   {_fmt(cal)}")
        if not args.skip_openpyxl:
            opx = best(lambda: read_openpyxl(path), 1)
            print(f"openpyxl read-only   {_fmt(opx)}   = {_ratio(opx, cal)} calamine")
        ext = best(lambda: extract(path), args.repeat)
        rows = sum(len(t.rows) for t in extract(path).tables)
        print(
            f"extract()            {_fmt(ext)}   = {_ratio(ext, cal)} calamine "
            f"({rows} data rows)"
        )


def _fmt(t: tuple[float, float]) -> str:
    return f"wall {t[0]:6.2f} s  cpu {t[1]:6.2f} s"


def _ratio(a: tuple[float, float], b: tuple[float, float]) -> str:
    return f"wall {a[0] / b[0]:.2f}x cpu {a[1] / b[1]:.2f}x"


if __name__ == "__main__":
    main()
