"""The validate phase: column validators, the table validator, required fields.

Issues come back as findings `{sheet, row, field, code, severity, message}` where
`row` is the 1-based sheet row (None for table-level issues).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runner.context import Context, Hook
from runner.package import Package

DEFAULT_CODE = "invalid"
DEFAULT_SEVERITY = "error"


def validate_table(
    data: Mapping[str, list[Any]],
    pkg: Package,
    mapped: Mapping[str, int],
    states: Mapping[str, Any],
    ctx: Context,
    *,
    sheet: str,
    row_numbers: Sequence[int],
) -> list[dict[str, Any]]:
    """Every finding of one table, in a fixed order."""
    findings = [
        _finding(
            sheet,
            None,
            f.key,
            "required_missing",
            "error",
            f"required field {f.label!r} ({f.key}) matched no column",
        )
        for f in pkg.fields
        if f.required and f.key not in mapped
    ]
    for f in pkg.plan:
        if f.validate is None or f.key not in mapped:
            continue
        issues = f.validate(
            values=list(data[f.key]), field=f.meta, state=states.get(f.key), ctx=ctx
        )
        findings += _issues(issues, f.validate, sheet, row_numbers, f.key, None)
    if pkg.validate_table is not None:
        hook = pkg.validate_table
        issues = hook(
            table={k: list(v) for k, v in data.items()}, manifest=pkg.manifest, ctx=ctx
        )
        findings += _issues(issues, hook, sheet, row_numbers, None, pkg.known_keys)
    return findings


def _issues(
    issues: object,
    hook: Hook,
    sheet: str,
    row_numbers: Sequence[int],
    field: str | None,
    field_keys: frozenset[str] | None,
) -> list[dict[str, Any]]:
    """Check a hook's issue list and turn it into findings."""
    if issues is None:
        return []
    if not isinstance(issues, list | tuple):
        raise hook.fail(f"returned {type(issues).__name__}; expected a list of issues")
    out = []
    for n, issue in enumerate(issues):
        if not isinstance(issue, Mapping) or "message" not in issue:
            raise hook.fail(f"issue {n} is not a dict with a 'message': {issue!r:.80}")
        row_index = issue.get("row_index")
        if row_index is not None and (
            not isinstance(row_index, int)
            or isinstance(row_index, bool)
            or not 0 <= row_index < len(row_numbers)
        ):
            raise hook.fail(
                f"issue {n} has row_index {row_index!r}; expected 0.."
                f"{len(row_numbers) - 1} or None"
            )
        key = field
        if field_keys is not None:  # table-level issues may name a field
            key = issue.get("field")
            if key is not None and key not in field_keys:
                raise hook.fail(f"issue {n} names unknown field {key!r}")
        out.append(
            _finding(
                sheet,
                None if row_index is None else row_numbers[row_index],
                key,
                str(issue.get("code") or DEFAULT_CODE),
                str(issue.get("severity") or DEFAULT_SEVERITY),
                str(issue["message"]),
            )
        )
    return out


def _finding(sheet, row, field, code, severity, message) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "field": field,
        "code": code,
        "severity": severity,
        "message": message,
    }
