"""Parse and validate a config's `manifest.json` (SPEC §5) and order its columns.

Pure functions: the package check (`runner.checks`, which the API's saves, plan and
publish, git push checks and the runner all go through) calls them, so nothing here
imports config code or touches the disk.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

# A column key, the one definition: the manifest check, the API's schemas, the scaffold
# and the editor's Add Column form (served to it) all use this pattern, anchored.
KEY_PATTERN = r"[a-z][a-z0-9_]{0,62}"
KEY_RE = re.compile(KEY_PATTERN)
MAX_DEPTH = 64  # deeper JSON is refused: the recursive helpers would overflow
TOP_LEVEL_KEYS = (
    "name",
    "sdk_version",
    "min_score",
    "columns",
    "table",
    "hints",
    "pins",
    "capabilities",
)
HINT_KEYS = (
    "header_row",
    "header_rows",
    "header_row_contains",
    "sheets",
    "sample_rows",
)
TABLE_KEYS = ("transform", "validators")
CAPABILITY_KEYS = ("allow_network", "allow_llm", "resources")
DEFAULT_MIN_SCORE = 1.0
DEFAULT_SAMPLE_ROWS = 100
CYCLE_PREFIX = "columns: depends_on cycle: "


class ManifestSyntaxError(ValueError):
    """`manifest.json` is not a JSON document the service accepts."""


def is_column_key(value: object) -> bool:
    """True for a valid column key (`KEY_PATTERN`, the whole string)."""
    return isinstance(value, str) and KEY_RE.fullmatch(value) is not None


def parse_manifest(data: bytes) -> Any:
    """The JSON value of a manifest's bytes; `ManifestSyntaxError` saying why not.

    Stricter than `json.loads`: UTF-8 only, no `NaN`/`Infinity` (not JSON, and not
    storable in PostgreSQL's JSON), at most `MAX_DEPTH` levels of nesting.
    """

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(data.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError as exc:
        raise ManifestSyntaxError(f"not UTF-8 ({exc.reason})") from None
    except RecursionError:
        raise ManifestSyntaxError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ManifestSyntaxError(f"not valid JSON: {exc}") from None
    if too_deep(value):
        raise ManifestSyntaxError(f"nested deeper than {MAX_DEPTH} levels")
    return value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Does `value` (parsed JSON) nest deeper than `limit` levels? Iterative."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


class CycleError(ValueError):
    """`depends_on` forms a cycle; `cycle` lists the keys on it, first repeated last."""

    def __init__(self, cycle: list[str]):
        super().__init__("depends_on cycle: " + " -> ".join(cycle))
        self.cycle = cycle


def validate_manifest(manifest: object, paths: Collection[str]) -> list[str]:
    """Return every problem of `manifest` as `"<json path>: <problem>"`; [] if valid.

    `paths` are the tree's file paths (relative POSIX, e.g. `columns/zip.py`).
    """
    if not isinstance(manifest, Mapping):
        return [f"manifest: must be a JSON object, not {_kind(manifest)}"]
    paths = frozenset(paths)
    problems: list[str] = []
    for key in sorted(k for k in manifest if k not in TOP_LEVEL_KEYS):
        if key == "files_hash":
            problems.append(
                "files_hash: not a manifest field (the tree id cannot live inside "
                "the tree)"
            )
        else:
            problems.append(f"{key}: unknown top-level key")
    for key in ("name", "sdk_version"):
        if key in manifest and not isinstance(manifest[key], str):
            problems.append(f"{key}: must be a string")
    if "min_score" in manifest and not _is_number(manifest["min_score"]):
        problems.append("min_score: must be a number")
    if "columns" not in manifest:
        problems.append("columns: required")
    elif not isinstance(manifest["columns"], list):
        problems.append("columns: must be a list")
    else:
        problems += _check_columns(manifest["columns"], paths)
    if "table" in manifest:
        problems += _check_table(manifest["table"], paths)
    if "hints" in manifest:
        problems += _check_hints(manifest["hints"])
    if "pins" in manifest:
        pins = manifest["pins"]
        if not isinstance(pins, Mapping):
            problems.append("pins: must be an object")
        else:
            problems += [
                f"pins.{name}: must be a version string"
                for name, spec in pins.items()
                if not isinstance(spec, str)
            ]
    if "capabilities" in manifest:
        problems += _check_capabilities(manifest["capabilities"])
    return problems


def topo_order(columns: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Order column entries so each comes after its `depends_on`; ties by ordinal.

    Dependencies on keys not in `columns` (e.g. disabled columns) are ignored.
    Raises `CycleError` when the dependencies form a cycle.
    """
    by_key = {c["key"]: c for c in columns}
    deps = {
        k: sorted({d for d in c.get("depends_on") or () if d in by_key})
        for k, c in by_key.items()
    }
    waiting = {k: len(v) for k, v in deps.items()}
    users: dict[str, list[str]] = {k: [] for k in by_key}
    for k, ds in deps.items():
        for d in ds:
            users[d].append(k)
    ready = [(_ordinal(by_key[k]), k) for k, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[Mapping[str, Any]] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(by_key[key])
        for user in users[key]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (_ordinal(by_key[user]), user))
    if len(order) < len(by_key):
        raise CycleError(_find_cycle({k: v for k, v in deps.items() if waiting[k]}))
    return order


def _check_columns(columns: list, paths: frozenset[str]) -> list[str]:
    problems: list[str] = []
    keys: dict[str, int] = {}
    ordinals: dict[int, int] = {}
    for i, col in enumerate(columns):
        if not isinstance(col, Mapping):
            problems.append(f"columns[{i}]: must be an object")
            continue
        problems += _check_column(i, col, paths, keys, ordinals)
    problems += _check_depends_on(columns, keys)
    return problems


def _check_column(
    i: int,
    col: Mapping[str, Any],
    paths: frozenset[str],
    keys: dict[str, int],
    ordinals: dict[int, int],
) -> list[str]:
    """One column entry's own keys; records its key and ordinal when unique."""
    at = f"columns[{i}]"
    problems: list[str] = []
    key = col.get("key")
    if not is_column_key(key):
        problems.append(f"{at}.key: must match ^{KEY_PATTERN}$")
    elif key in keys:
        problems.append(f"{at}.key: duplicate of columns[{keys[key]}].key {key!r}")
    else:
        keys[key] = i
    problems += _check_path(f"{at}.path", col.get("path"), paths, "columns/")
    ordinal = col.get("ordinal")
    if not _is_int(ordinal) or ordinal < 1:
        problems.append(f"{at}.ordinal: must be a positive integer")
    elif ordinal in ordinals:
        problems.append(
            f"{at}.ordinal: duplicate of columns[{ordinals[ordinal]}].ordinal {ordinal}"
        )
    else:
        ordinals[ordinal] = i
    if "label" in col and not isinstance(col["label"], str):
        problems.append(f"{at}.label: must be a string")
    for name in ("required", "enabled"):
        if name in col and not isinstance(col[name], bool):
            problems.append(f"{at}.{name}: must be true or false")
    if "synonyms" in col and not _is_str_list(col["synonyms"]):
        problems.append(f"{at}.synonyms: must be a list of strings")
    return problems


def _check_depends_on(columns: list, keys: dict[str, int]) -> list[str]:
    """Every `depends_on` names other existing keys, and they form no cycle."""
    problems: list[str] = []
    graph: dict[str, list[str]] = {}
    for i, col in enumerate(columns):
        if not isinstance(col, Mapping) or "depends_on" not in col:
            continue
        at = f"columns[{i}].depends_on"
        deps = col["depends_on"]
        if not _is_str_list(deps):
            problems.append(f"{at}: must be a list of column keys")
            continue
        for dep in deps:
            if dep == col.get("key"):
                problems.append(f"{at}: a column cannot depend on itself")
            elif dep not in keys:
                problems.append(f"{at}: unknown column key {dep!r}")
        if keys.get(col.get("key")) == i:
            graph[col["key"]] = [d for d in deps if d in keys and d != col["key"]]
    cycle = _find_cycle(graph) if graph else []
    if cycle:
        problems.append(CYCLE_PREFIX + " -> ".join(cycle))
    return problems


def _check_path(at: str, path: object, paths: frozenset[str], under: str) -> list[str]:
    if not isinstance(path, str) or not path:
        return [f"{at}: required, a path in the package"]
    problems = []
    if not (path.startswith(under) and path.endswith(".py")):
        problems.append(f"{at}: must be a .py file under {under}")
    if path not in paths:
        problems.append(f"{at}: no such file {path!r}")
    return problems


def _check_table(table: object, paths: frozenset[str]) -> list[str]:
    if not isinstance(table, Mapping):
        return ["table: must be an object"]
    problems = [f"table.{k}: unknown key" for k in sorted(table) if k not in TABLE_KEYS]
    for name in TABLE_KEYS:
        if name not in table or table[name] is None:
            continue
        entry = table[name]
        if not isinstance(entry, Mapping):
            problems.append(f"table.{name}: must be an object with a path")
        else:
            problems += _check_path(f"table.{name}.path", entry.get("path"), paths, "")
    return problems


def _check_hints(hints: object) -> list[str]:
    if not isinstance(hints, Mapping):
        return ["hints: must be an object"]
    problems = [f"hints.{k}: unknown key" for k in sorted(hints) if k not in HINT_KEYS]
    row = hints.get("header_row")
    if row is not None and (not _is_int(row) or row < 1):
        problems.append("hints.header_row: must be null or a positive integer")
    problems += _check_header_rows(hints.get("header_rows"))
    if "header_row_contains" in hints and not _is_str_list(
        hints["header_row_contains"]
    ):
        problems.append("hints.header_row_contains: must be a list of strings")
    sample = hints.get("sample_rows")
    if sample is not None and (not _is_int(sample) or sample < 1):
        problems.append("hints.sample_rows: must be a positive integer")
    sheets = hints.get("sheets")
    if sheets is not None:
        if not isinstance(sheets, Mapping):
            problems.append("hints.sheets: must be an object with include/exclude")
        else:
            for k in sorted(sheets):
                if k not in ("include", "exclude"):
                    problems.append(f"hints.sheets.{k}: unknown key")
                elif not _is_str_list(sheets[k]):
                    problems.append(f"hints.sheets.{k}: must be a list of strings")
    return problems


def _check_header_rows(rows: object) -> list[str]:
    """``hints.header_rows``: ``{sheet name: row}`` where row is a 1-based row (a
    one-line header) or ``[first, last]`` (a header block); one entry per sheet
    (names compare case-insensitively, as Excel's do)."""
    if rows is None:
        return []
    if not isinstance(rows, Mapping):
        return ["hints.header_rows: must be an object {sheet name: row number}"]
    problems = []
    seen: dict[str, str] = {}
    for name, row in rows.items():
        if not name.strip():
            problems.append("hints.header_rows: sheet names must not be empty")
            continue
        key = name.casefold()
        if key in seen:
            problems.append(
                f"hints.header_rows[{name!r}]: the same sheet as {seen[key]!r}"
            )
        seen.setdefault(key, name)
        if not _row_or_block(row):
            problems.append(
                f"hints.header_rows[{name!r}]: must be a positive integer or "
                "[first, last] with 1 <= first <= last"
            )
    return problems


def _row_or_block(row: object) -> bool:
    if _is_int(row):
        return row >= 1
    return (
        isinstance(row, list)
        and len(row) == 2
        and all(_is_int(r) for r in row)
        and 1 <= row[0] <= row[1]
    )


def _check_capabilities(caps: object) -> list[str]:
    if not isinstance(caps, Mapping):
        return ["capabilities: must be an object"]
    problems = [
        f"capabilities.{k}: unknown key"
        for k in sorted(caps)
        if k not in CAPABILITY_KEYS
    ]
    for name in ("allow_network", "allow_llm"):
        if name in caps and not isinstance(caps[name], bool):
            problems.append(f"capabilities.{name}: must be true or false")
    if "resources" in caps and not isinstance(caps["resources"], Mapping):
        problems.append("capabilities.resources: must be an object")
    return problems


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Return one cycle of `graph` (node -> its dependencies) as a key path, or []."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return []


def _ordinal(col: Mapping[str, Any]) -> float:
    ordinal = col.get("ordinal")
    return ordinal if _is_int(ordinal) else math.inf


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
