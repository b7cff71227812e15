"""Extract returns the values calamine reads, normalised as the contract says
(``""`` -> None, integral floats -> int), on a 10,000-row table under a title.

How fast it does so compared with calamine is ``bench/read_speed.py --shape text``
(a CPU-time ratio has no place in a test on a shared, loaded machine).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import python_calamine

from runner.extract import extract

ROOT = Path(__file__).resolve().parents[1]


def load_bench(name: str):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "bench" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalised(value):
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def test_extract_reads_the_values_calamine_reads(tmp_path):
    path = tmp_path / "text.xlsx"
    load_bench("read_speed").make_text_workbook(path, 10_000)
    raw = (
        python_calamine.CalamineWorkbook.from_path(str(path))
        .get_sheet_by_index(0)
        .to_python()
    )
    title, table = extract(path).tables
    assert title.headers == ("Export",) and title.rows == []
    assert table.header_rows == (3, 3)
    assert table.headers == tuple(raw[2])
    assert len(table.rows) == 10_000
    assert table.rows == [[normalised(v) for v in row] for row in raw[3:]]
    assert table.row_numbers[0] == 4 and table.row_numbers[-1] == 10_003
