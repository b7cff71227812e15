"""Helpers for the runner pipeline tests: real config packages on disk, tables.

Named `test_runner_pipeline_kit.py` so it sits with the tests it serves; it holds no
tests itself.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter


def write_package(
    root: Path,
    columns: dict[str, str],
    *,
    entries: dict[str, dict[str, Any]] | None = None,
    files: dict[str, str] | None = None,
    **manifest: Any,
) -> Path:
    """Write a config package: `columns` maps key -> source of columns/<key>.py.

    Ordinals follow the dict order; `entries[key]` adds/overrides manifest keys of
    that column; `files` adds other files (path -> source); `manifest` overrides
    top-level manifest keys.
    """
    root.mkdir(parents=True, exist_ok=True)
    cols = []
    for n, (key, source) in enumerate(columns.items(), 1):
        path = root / "columns" / f"{key}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        entry = {
            "key": key,
            "label": key.replace("_", " ").title(),
            "path": f"columns/{key}.py",
            "ordinal": n,
            "required": False,
            "enabled": True,
            "depends_on": [],
        }
        entry.update((entries or {}).get(key, {}))
        cols.append(entry)
    for rel, source in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    doc = {
        "name": "Test config",
        "sdk_version": "0.1.0",
        "min_score": 1.0,
        "columns": cols,
        "hints": {"header_row": None, "header_row_contains": [], "sample_rows": 100},
        "pins": {},
        "capabilities": {"allow_network": False, "allow_llm": False, "resources": {}},
    }
    doc.update(manifest)
    (root / "manifest.json").write_text(json.dumps(doc, indent=2))
    return root


def header_detector(key: str, *words: str, weight: float = 1.0) -> str:
    """Source of a column script scoring `weight` when the header has any word."""
    return textwrap.dedent(f"""
        def detect_header(*, header, **_):
            text = (header or "").lower()
            return {weight!r} if any(w in text for w in {list(words)!r}) else None
        """)


@dataclass(frozen=True)
class FakeTable:
    """Same fields as runner.extract.Table, for tests that skip the extractor."""

    sheet: str
    header_rows: tuple[int, int] | None
    columns: tuple[int, ...]
    headers: tuple[str | None, ...]
    rows: list[list]
    row_numbers: list[int]
    range: str


@dataclass(frozen=True)
class FakeExtraction:
    sheets_scanned: int
    tables: list


def make_table(
    headers: list[str | None],
    rows: list[list],
    *,
    sheet: str = "Sheet1",
    header_row: int = 1,
    columns: tuple[int, ...] | None = None,
) -> FakeTable:
    """A table whose header is on `header_row` and data directly below it."""
    columns = columns if columns is not None else tuple(range(len(headers)))
    first = get_column_letter(min(columns) + 1) if columns else "A"
    last = get_column_letter(max(columns) + 1) if columns else "A"
    return FakeTable(
        sheet=sheet,
        header_rows=(header_row, header_row),
        columns=tuple(columns),
        headers=tuple(headers),
        rows=[list(r) for r in rows],
        row_numbers=[header_row + 1 + i for i in range(len(rows))],
        range=f"{first}{header_row}:{last}{header_row + len(rows)}",
    )
