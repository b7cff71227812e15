"""The transform phases: per-column transforms, then the table-level transform.

Hooks run in `depends_on` order; the table handed on is `{field_key: list}` with every
enabled field in ordinal order (unmapped fields are all None), so its shape is also the
shape of the output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner.context import Context, Hook
from runner.package import Field, Package

PROGRESS_EVERY = 5000


def column_values(
    rows: Sequence[Sequence[Any]], fields: Sequence[Field], mapped: Mapping[str, int]
) -> dict[str, list[Any]]:
    """`{field_key: values}` in ordinal order from the table's physical columns."""
    n = len(rows)
    data: dict[str, list[Any]] = {}
    for f in fields:
        j = mapped.get(f.key)
        data[f.key] = [row[j] for row in rows] if j is not None else [None] * n
    return data


def transform_columns(
    data: dict[str, list[Any]],
    pkg: Package,
    mapped: Mapping[str, int],
    states: Mapping[str, Any],
    ctx: Context,
    progress: Callable[[str, int], None] | None = None,
) -> None:
    """Apply `transform_column` (or `transform_cell`) of every mapped field in place."""
    for f in pkg.plan:
        if f.key not in mapped:
            continue
        values = data[f.key]
        state = states.get(f.key)
        if f.transform_column is not None:
            hook = f.transform_column
            out = hook(values=list(values), field=f.meta, state=state, ctx=ctx)
            data[f.key] = _same_length(out, len(values), hook, "a list")
        elif f.transform_cell is not None:
            _transform_cells(values, f.transform_cell, f.meta, state, ctx, progress)


def _transform_cells(
    values: list[Any],
    hook: Hook,
    meta: Mapping[str, Any],
    state: Any,
    ctx: Context,
    progress: Callable[[str, int], None] | None,
) -> None:
    """``transform_cell`` on every value, in place: the hot loop of a large file
    (one call per cell). The function is called directly, not through ``Hook``'s
    wrapper, and the loop runs in chunks so progress costs nothing per cell; an
    exception is described once, with its row, when it happens."""
    fn, n, i = hook.fn, len(values), 0
    try:
        for start in range(0, n, PROGRESS_EVERY):
            end = min(start + PROGRESS_EVERY, n)
            for i in range(start, end):
                values[i] = fn(
                    value=values[i], row_index=i, field=meta, state=state, ctx=ctx
                )
            if progress and end < n:
                progress("transform", end)
    except (Exception, SystemExit) as exc:  # config code may raise anything
        raise hook.error(exc, f"row_index {i}") from exc


def transform_table(
    data: dict[str, list[Any]], pkg: Package, ctx: Context
) -> dict[str, list[Any]]:
    """Apply `table/transform.py`'s `transform_table`; it must keep the shape."""
    hook = pkg.transform_table
    if hook is None:
        return data
    given = {k: list(v) for k, v in data.items()}
    out = hook(table=given, manifest=pkg.manifest, ctx=ctx)
    if not isinstance(out, Mapping):
        raise hook.fail(f"returned {type(out).__name__}; expected a {{field: list}}")
    if set(out) != set(data):
        missing = sorted(set(data) - set(out))
        extra = sorted(set(out) - set(data), key=str)
        raise hook.fail(
            f"returned a table of another shape (missing fields {missing}, "
            f"extra fields {extra})"
        )
    n = len(next(iter(data.values()), ()))
    return {k: _same_length(out[k], n, hook, f"table[{k!r}]") for k in data}


def _same_length(out: object, n: int, hook: Hook, what: str) -> list[Any]:
    if not isinstance(out, list | tuple):
        raise hook.fail(f"returned {type(out).__name__} for {what}; expected a list")
    if len(out) != n:
        raise hook.fail(f"returned {len(out)} values for {what}; expected {n}")
    return list(out)
