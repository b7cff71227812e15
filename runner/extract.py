"""Extract phase: read a workbook's sheets and find their tables and headers.

``extract()`` is the public entry point (SPEC §7 "Extract"). Reading lives in
``runner.readers``, row features in ``runner.rowkinds`` and ``runner.typed``, the
split at empty columns in ``runner.strips``, the table split in ``runner.tables``,
header candidates in ``runner.candidates`` and building a ``Table`` from a block in
``runner.tablebuild``.

Where the header of a table is in doubt, ``Extraction.choices`` lists the layout's
alternatives (best first, the one in ``tables`` first); the engine may re-rank them
with the config's own detectors (``runner.headerchoice``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.blocks import Region
from runner.headers import find_hint_row
from runner.hints import Forced, hint_problem, sheet_hint
from runner.readers import SheetData, WorkbookError, read_sheets
from runner.rowkinds import kinds
from runner.strips import strips
from runner.tablebuild import Table, build_tables, column_letter, sub_sheet
from runner.tables import segment
from runner.typed import TypedRows

__all__ = [
    "Alternative",
    "Extraction",
    "HeaderChoice",
    "Table",
    "WorkbookError",
    "column_letter",
    "extract",
    "sheet_layout",
    "sheet_tables",
]


@dataclass(frozen=True)
class Alternative:
    """One way to read a region: its table's header lines (1-based, None for no
    header), the layout's score, and the tables it gives (built on demand);
    ``tables()[main]`` is the table whose header is in question."""

    header_rows: tuple[int, int] | None
    score: float
    features: tuple[float, ...]
    tables: Callable[[], list[Table]]
    main: int
    order: int  # generation order (ties of ``score`` go to the lower)


@dataclass(frozen=True)
class HeaderChoice:
    """A region of ``Extraction.tables`` whose header is in doubt: its tables are
    ``tables[start : start + count]`` (those of ``alternatives[0]``)."""

    start: int
    count: int
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Extraction:
    """Everything the extract phase found."""

    sheets_scanned: int
    tables: list[Table]  # includes tables with no data rows (rows == [])
    choices: tuple[HeaderChoice, ...] = ()
    findings: tuple[dict, ...] = ()  # warnings about hints that did not fit


@dataclass
class SheetLayout:
    """The regions of one sheet (every strip), their tables and hint warnings."""

    tables: list[Table]
    choices: list[HeaderChoice]
    findings: list[dict]


def extract(
    path: Path,
    *,
    header_row: int | None = None,
    header_rows: Mapping[str, int | Sequence[int]] | None = None,
    header_row_contains: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: Callable[[str, int], None] | None = None,
) -> Extraction:
    """Read every allowed sheet of ``path`` and return its tables.

    ``header_rows`` (``{sheet name: 1-based row or [first, last]}``, names
    case-insensitive) forces the header of one sheet, ``header_row`` a one-line
    header on every sheet that has the row; a forced last line that does not look
    like a header (empty, a lone title over a wider table, data, nothing below) is
    ignored with a warning in ``findings``. Otherwise
    the first row holding all of ``header_row_contains`` (case-insensitive
    substrings) is the header; otherwise the layout heuristic finds each table.
    ``include``/``exclude`` are sheet names or globs, case-insensitive.
    ``progress("extract", rows)`` is called after each sheet with the number of sheet
    rows read so far (the engine's ``(phase, rows)`` convention).
    Raises ``WorkbookError`` for anything that is not a readable XLSX workbook.
    Empty data rows are left out; ``row_numbers`` keeps the sheet positions.
    """
    _total, sheets = read_sheets(Path(path), include, exclude)
    tables: list[Table] = []
    choices: list[HeaderChoice] = []
    findings: list[dict] = []
    done = rows = 0
    for sheet in sheets:
        forced = sheet_hint(sheet.name, header_row, header_rows)
        layout = sheet_layout(sheet, forced, header_row_contains)
        offset = len(tables)
        tables += layout.tables
        choices += [
            HeaderChoice(c.start + offset, c.count, c.alternatives)
            for c in layout.choices
        ]
        findings += layout.findings
        done += 1
        rows += len(sheet.rows)
        if progress is not None:
            progress("extract", rows)
    return Extraction(done, tables, tuple(choices), tuple(findings))


def sheet_tables(
    sheet: SheetData, header_row: int | None = None, contains: Sequence[str] = ()
) -> list[Table]:
    """The tables of one sheet as the layout picks them, in reading order."""
    forced = None if header_row is None else (header_row, header_row, "header_row")
    return sheet_layout(sheet, forced, contains).tables


def sheet_layout(
    sheet: SheetData, forced: Forced | None = None, contains: Sequence[str] = ()
) -> SheetLayout:
    """Tables, header choices and hint warnings of one sheet, strip by strip.

    ``forced`` is a header block ``(first row, last row, the hint's name)``.
    """
    out = SheetLayout([], [], [])
    if not sheet.rows:
        return out
    whole = kinds(sheet.rows)
    spans = strips(sheet.rows, whole[1])
    # One strip (nearly every sheet): no copy of the rows, no second pass.
    parts = [sheet] if len(spans) == 1 else [sub_sheet(sheet, *s) for s in spans]
    for part in parts:
        ks, part_shapes = whole if part is sheet else kinds(part.rows)
        typed = TypedRows(part.rows, ks)
        hint = None
        if forced is not None:
            hint, warning = _forced_row(part, typed, forced)
            if warning:
                out.findings.append(warning)
        if hint is None:
            row = find_hint_row(part.rows, None, contains, part.row0)
            hint = None if row is None else (row, row)
        for region in segment(typed, hint):
            _add_region(out, part, region, ks, part_shapes)
    return out


def _forced_row(
    part: SheetData, typed: TypedRows, forced: Forced
) -> tuple[tuple[int, int] | None, dict | None]:
    first, row, name = forced
    local = row - 1 - part.row0
    if not 0 <= local < len(part.rows):
        return None, None  # this strip does not reach the row: nothing to force
    top = min(local, max(0, first - 1 - part.row0))
    problem = hint_problem(typed, top, local)
    if problem is None:
        return (top, local), None
    return None, {
        "sheet": part.name,
        "row": row,
        "field": None,
        "code": "header_hint_unused",
        "severity": "warning",
        "message": f"{name} {row} ignored on sheet {part.name!r} "
        f"(columns {column_letter(part.col0)}-"
        f"{column_letter(part.col0 + len(part.rows[0]) - 1)}): {problem}; "
        "the header was detected from the layout instead",
    }


def _add_region(out: SheetLayout, part, region: Region, ks, shapes) -> None:
    def builder(choice) -> Callable[[], list[Table]]:
        return lambda: build_tables(part, choice.blocks, ks, shapes)

    first = build_tables(part, region.pick.blocks, ks, shapes)
    if len(region.choices) > 1:
        alternatives = tuple(
            Alternative(
                _header_rows(part, choice),
                choice.score,
                choice.features,
                (lambda t=first: t) if n == 0 else builder(choice),
                choice.main if choice.main is not None else 0,
                choice.order,
            )
            for n, choice in enumerate(region.choices)
        )
        out.choices.append(HeaderChoice(len(out.tables), len(first), alternatives))
    out.tables += first


def _header_rows(part: SheetData, choice) -> tuple[int, int] | None:
    table = choice.table
    if table is None or table.header is None:
        return None
    return table.header[0] + part.row0 + 1, table.header[1] + part.row0 + 1
