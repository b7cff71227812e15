"""The run report (SPEC §7): tables with their mapping matrix, findings, logs, metrics.

Everything here is built from lists in a fixed order (tables in extraction order,
columns left to right, fields in ordinal order), so the same input gives the same
report apart from `elapsed_ms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.headerchoice import public_candidates
from runner.tablebuild import column_letter

MAX_FINDINGS = 10_000  # the Issues sheet has them all; the JSON stays readable


def score_value(score: float) -> float:
    """A score as reported: rounded away from float noise, never -0.0."""
    return round(score, 6) + 0.0


def table_report(
    table: Any,
    field_keys: Sequence[str],
    scores: Sequence[Sequence[float]] | None,
    features: Sequence[Sequence[int]] | None,
    mapping: Sequence[int | None] | None,
    decision: Any = None,
) -> dict[str, Any]:
    """One entry of `report["tables"]`; `scores` etc. are None for unscored tables.

    `data_rows` lists the table's data rows as inclusive `[first, last]` runs of
    sheet rows; `header_choice` (None unless the header was in doubt) says how it
    was chosen: `by` "layout" or "fields", and the `candidates` considered, the
    chosen one first, each with its `header_row`, `header_rows`, `layout` score and
    `fields` total (the config's mapped score with that header).
    """
    columns = []
    # Left to right on the sheet, whatever order the table presents columns in.
    for j in sorted(range(len(table.columns)), key=lambda j: table.columns[j]):
        index, header = table.columns[j], table.headers[j]
        f = mapping[j] if mapping else None
        row = scores[j] if scores else [0.0] * len(field_keys)
        columns.append(
            {
                "column": column_letter(index),
                "header": header,
                "field": None if f is None else field_keys[f],
                "score": 0.0 if f is None else score_value(row[f]),
                "features": 0 if f is None else features[j][f],
                "scores": {
                    k: score_value(s) for k, s in zip(field_keys, row, strict=True)
                },
            }
        )
    mapped = {c["field"] for c in columns}
    header_rows = table.header_rows
    return {
        "sheet": table.sheet,
        "range": table.range,
        "header_row": header_rows[1] if header_rows else None,
        "header_rows": list(header_rows) if header_rows else None,
        "columns": columns,
        "unmapped_fields": [k for k in field_keys if k not in mapped],
        "rows": len(table.rows),
        "data_rows": row_runs(table.row_numbers),
        "header_choice": None
        if decision is None
        else {"by": decision.by, "candidates": public_candidates(decision.candidates)},
    }


def row_runs(numbers: Sequence[int]) -> list[list[int]]:
    """Ascending row numbers as inclusive ``[first, last]`` runs (compact for large
    tables: a 100,000-row table without gaps is one run)."""
    if not numbers:
        return []
    if numbers[-1] - numbers[0] + 1 == len(numbers):
        return [[numbers[0], numbers[-1]]]  # no gaps: the common large case
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return runs


def build_report(
    tables: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    logs: list[str],
    *,
    sheets_scanned: int,
    elapsed_ms: int,
) -> dict[str, Any]:
    """The whole report; findings beyond `MAX_FINDINGS` are counted, not listed."""
    logs = list(logs)
    if len(findings) > MAX_FINDINGS:
        logs.append(
            f"{len(findings) - MAX_FINDINGS} more findings are in the Issues sheet "
            f"(the report lists the first {MAX_FINDINGS})"
        )
    return {
        "tables": tables,
        "findings": findings[:MAX_FINDINGS],
        "logs": logs,
        "metrics": {
            "sheets_scanned": sheets_scanned,
            "tables_found": len(tables),
            "rows_processed": sum(t["rows"] for t in tables),
            "columns_mapped": sum(
                1 for t in tables for c in t["columns"] if c["field"] is not None
            ),
            "issues": len(findings),
            "elapsed_ms": elapsed_ms,
        },
    }
