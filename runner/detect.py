"""The detect phase: run every field's detectors on every physical column of a table.

Produces the score matrix `S[column][field]` (sum of deltas) and the feature matrix
`F[column][field]` (count of non-zero deltas). Sums use `math.fsum`, which is exactly
rounded, so the result does not depend on the order detectors run in.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from runner.context import Context, Hook
from runner.package import Field


def sample_values(rows: Sequence[Sequence[Any]], j: int, limit: int) -> list[Any]:
    """The first `limit` non-empty values of column `j`."""
    out: list[Any] = []
    if limit <= 0:
        return out
    for row in rows:
        value = row[j]
        if value is not None:
            out.append(value)
            if len(out) >= limit:
                break
    return out


def score_table(
    table: Any,
    fields: Sequence[Field],
    states: Mapping[str, Any],
    ctx: Context,
    *,
    known_keys: frozenset[str],
    sample_rows: int,
) -> tuple[list[list[float]], list[list[int]]]:
    """Return `(S, F)` for `table`, indexed `[physical column][field]`.

    Columns are in the table's order, fields in the order given. A detector returns
    a number (a delta for its own field), a `{field_key: delta}` dict (any field;
    keys of disabled fields are ignored), or None.
    """
    index = {f.key: i for i, f in enumerate(fields)}
    n_fields = len(fields)
    scores: list[list[float]] = []
    features: list[list[int]] = []
    for j, header in enumerate(table.headers):
        samples = sample_values(table.rows, j, sample_rows)
        deltas: list[list[float]] = [[] for _ in range(n_fields)]
        for f in fields:
            kwargs = {
                "header": header,
                "column_index": table.columns[j],
                "sheet": table.sheet,
                "field": f.meta,
                "state": states.get(f.key),
                "ctx": ctx,
            }
            for detector in f.detectors:
                result = detector(values=list(samples), **kwargs)
                _collect(result, detector, index[f.key], index, known_keys, deltas)
        scores.append([math.fsum(d) for d in deltas])
        features.append([sum(1 for x in d if x != 0) for d in deltas])
    return scores, features


def _collect(
    result: object,
    detector: Hook,
    own: int,
    index: Mapping[str, int],
    known_keys: frozenset[str],
    deltas: list[list[float]],
) -> None:
    if result is None:
        return
    if isinstance(result, Mapping):
        for key, value in result.items():
            if not isinstance(key, str) or key not in known_keys:
                raise detector.fail(f"returned a delta for unknown field {key!r}")
            delta = _number(value, detector)
            if key in index:
                deltas[index[key]].append(delta)
        return
    deltas[own].append(_number(result, detector))


def _number(value: object, detector: Hook) -> float:
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
    raise detector.fail(
        f"returned {value!r}; expected a number, a {{field_key: delta}} dict or None"
    )
