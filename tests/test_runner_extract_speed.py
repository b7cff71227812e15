"""Extract costs about what calamine's own read costs (CPU time, best of three).

A regression that adds per-cell Python work (objects per cell, a second pass over
every value) shows as a ratio well above 1.5; we measure ~1.1 at 100,000 rows.
"""

from __future__ import annotations

import gc
import importlib.util
import time
from pathlib import Path

import python_calamine

from runner.extract import extract

ROOT = Path(__file__).resolve().parents[1]


def write_rows(path: Path, rows: list[list[str]]) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_headers", ROOT / "bench" / "strudel.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.write_xlsx({"table_array": rows}, path)


def cpu(fn) -> float:
    best = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def test_extract_cpu_close_to_calamine_read(tmp_path):
    rows = [["Export"], [], [f"Col {j}" for j in range(12)]]
    rows += [
        [str(i), f"name {i % 97}", f"{i * 1.5}", "x" if i % 3 else "", str(i % 7)] * 2
        + [f"{i % 1000}.25", f"city {i % 13}"]
        for i in range(10_000)
    ]
    path = tmp_path / "speed.xlsx"
    write_rows(path, rows)

    def calamine_read():
        python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(
            0
        ).to_python()

    base = cpu(calamine_read)
    ours = cpu(lambda: extract(path))
    (_title, table) = extract(path).tables
    assert len(table.rows) == 10_000 and table.header_rows == (3, 3)
    print(f"extract {ours:.3f} s CPU, calamine {base:.3f} s: {ours / base:.2f}x")
    assert ours <= 1.5 * base, (ours, base)
