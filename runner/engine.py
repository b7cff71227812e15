"""Run a config package on a workbook: every phase from extract to write.

This imports and runs config code, so only the sandbox worker (and tests) call it.
Phases: extract → run_start → prepare → detect → map → transform → transform_table →
validate → run_end → write.
"""

from __future__ import annotations

import copy
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner import detect, headerchoice, mapping, report, transform, validate, write
from runner.context import PHASES, ConfigError, Context, ScriptError
from runner.extract import WorkbookError, extract
from runner.package import Package, load_package, no_bytecode
from runner.preview import build_preview

__all__ = ["PHASES", "ConfigError", "ScriptError", "WorkbookError", "process", "run"]


Progress = Callable[[str, int], None]


def run(
    config_dir: Path,
    input_path: Path,
    output_path: Path | None,
    *,
    sample_rows: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the package at `config_dir` on `input_path`; return the report (SPEC §7).

    Writes the normalized workbook to `output_path` unless it is None (dry-run).
    Raises ConfigError (unusable package), ScriptError (a hook failed) or the
    extractor's WorkbookError (unreadable input).
    """
    started = time.perf_counter()
    pkg = load_package(Path(config_dir))
    try:
        with no_bytecode():  # hooks may import helpers lazily
            return _run(
                pkg, Path(input_path), output_path, sample_rows, progress, started
            )
    finally:
        pkg.unload()


def _run(
    pkg: Package,
    input_path: Path,
    output_path: Path | None,
    sample_rows: int | None,
    progress: Progress | None,
    started: float,
) -> dict[str, Any]:
    hints = pkg.manifest.get("hints") or {}
    sheets = hints.get("sheets") or {}
    if progress is not None:
        progress("extract", 0)
    # The cyclic collector would traverse the workbook's rows (hundreds of thousands
    # of lists, which form no cycles) again and again through every phase (~0.15 s
    # CPU at 100,000 rows): it is off while they are read, and they are frozen
    # (left out of every collection) until the run ends.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        extraction = extract(
            input_path,
            header_row=hints.get("header_row"),
            header_rows=hints.get("header_rows"),
            header_row_contains=hints.get("header_row_contains") or (),
            include=sheets.get("include") or (),
            exclude=sheets.get("exclude") or (),
            progress=progress,
        )
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    try:
        return process(
            pkg,
            extraction,
            output_path,
            sample_rows=sample_rows,
            progress=progress,
            started=started,
        )
    finally:
        gc.unfreeze()


def process(
    pkg: Package,
    extraction: Any,
    output_path: Path | None,
    *,
    sample_rows: int | None = None,
    progress: Progress | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Every phase after extract, on an `Extraction` (sheets_scanned, tables)."""
    started = time.perf_counter() if started is None else started

    def phase(name: str, rows: int = 0) -> None:
        if progress is not None:
            progress(name, rows)

    manifest = copy.deepcopy(pkg.manifest)  # hooks may scribble on their copy
    ctx = Context(manifest)

    phase("run_start")
    if pkg.run_start is not None:
        pkg.run_start(ctx=ctx, manifest=manifest)

    phase("prepare")
    states: dict[str, Any] = {}
    for f in pkg.plan:
        if f.prepare is not None:
            states[f.key] = f.prepare(field=f.meta, manifest=manifest, ctx=ctx)

    limit = sample_rows if sample_rows is not None else pkg.sample_rows
    phase("detect")
    # Doubtful headers first: the config's detectors choose between candidates.
    resolved = headerchoice.resolve(extraction, pkg, states, ctx, limit)
    tables = resolved.tables
    decisions = [resolved.decisions.get(id(t)) for t in tables]
    # Tables without data rows are reported but map nothing.
    scored = [i for i, t in enumerate(tables) if t.rows]
    matrices = {
        i: _detect(tables[i], decisions[i], pkg, states, ctx, limit) for i in scored
    }

    phase("map")
    mapped: dict[int, dict[str, int]] = {}  # table -> {field key: physical column}
    assignments: dict[int, list[int | None]] = {}
    for i in scored:
        scores, features = matrices[i]
        assignments[i] = mapping.assign(
            scores, features, tables[i].columns, pkg.min_score
        )
        mapped[i] = {
            pkg.fields[f].key: j for j, f in enumerate(assignments[i]) if f is not None
        }

    phase("transform")
    data: dict[int, dict[str, list[Any]]] = {}
    for i in scored:
        _enter(ctx, tables[i])
        data[i] = transform.column_values(tables[i].rows, pkg.fields, mapped[i])
        transform.transform_columns(data[i], pkg, mapped[i], states, ctx, progress)

    phase("transform_table")
    for i in scored:
        _enter(ctx, tables[i])
        data[i] = transform.transform_table(data[i], pkg, ctx)

    phase("validate")
    # Warnings about the layout come first: hints that did not fit, doubtful headers.
    findings: list[dict[str, Any]] = list(getattr(extraction, "findings", ()))
    findings += [d.finding for d in decisions if d is not None and d.finding]
    for i in scored:
        _enter(ctx, tables[i])
        findings += validate.validate_table(
            data[i],
            pkg,
            mapped[i],
            states,
            ctx,
            sheet=tables[i].sheet,
            row_numbers=tables[i].row_numbers,
        )

    phase("run_end")
    ctx.sheet = ctx.table = None
    if pkg.run_end is not None:
        pkg.run_end(ctx=ctx)

    if output_path is not None:
        phase("write")
        outputs = [
            write.OutputTable(
                tables[i].sheet, list(data[i].values()), tables[i].row_numbers
            )
            for i in scored
        ]
        labels = [f.label for f in pkg.fields]
        try:
            write.write_workbook(Path(output_path), labels, outputs, findings, progress)
        except write.TooManyRowsError as exc:
            raise WorkbookError(str(exc)) from None

    keys = [f.key for f in pkg.fields]
    table_reports = [
        report.table_report(
            t,
            keys,
            *(matrices[i] if i in matrices else (None, None)),
            assignments.get(i),
            decisions[i],
        )
        for i, t in enumerate(tables)
    ]
    result = report.build_report(
        table_reports,
        findings,
        ctx.final_logs(),
        sheets_scanned=extraction.sheets_scanned,
        elapsed_ms=round((time.perf_counter() - started) * 1000),
    )
    # The first output rows for the editor, taken here in the sandbox.
    result["preview"] = build_preview(
        tables,
        data,
        findings,
        [(f.key, f.label) for f in pkg.fields],
        pkg.manifest.get("hints") or {},
    )
    phase("done", result["metrics"]["rows_processed"])
    return result


def _detect(
    table: Any,
    decided: headerchoice.Decision | None,
    pkg: Package,
    states: dict[str, Any],
    ctx: Context,
    limit: int,
) -> tuple[list[list[float]], list[list[int]]]:
    """The table's score and feature matrices (SPEC §7 "Detect")."""
    if decided is not None and decided.matrices is not None:
        ctx.put_logs(*decided.logs)  # its header trial already ran the detectors
        return decided.matrices
    _enter(ctx, table)
    return detect.score_table(
        table, pkg.fields, states, ctx, known_keys=pkg.known_keys, sample_rows=limit
    )


def _enter(ctx: Context, table: Any) -> None:
    ctx.sheet = table.sheet
    ctx.table = table
