"""The script API (SPEC §5), described once: the hooks the engine calls, their
keyword arguments, what ``ctx`` offers and the keys of ``field``.

The engine's callers (``runner.detect``, ``transform``, ``validate``, ``engine``)
pass exactly these arguments, and ``tests/test_runner_script_api.py`` runs a config
whose hooks record what they got and compares it with this description. The API
serves it (``GET /api/v1/script-api``) for the editor's completion and hover,
``docs/script-api.md`` is rendered from it (``ade script-api``; a test keeps the
file in step) and the import allow-list in it is the guardrails' own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from runner.guardrails import ALLOWED_DUNDERS, ALLOWED_MODULES, FORBIDDEN_CALLS

VERSION = 1


@dataclass(frozen=True)
class Arg:
    """One keyword argument of a hook."""

    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Hook:
    """A function the engine calls when a config script defines it. ``prefix``:
    every top-level function whose name starts with ``name`` is the hook."""

    name: str
    files: str
    when: str
    args: tuple[Arg, ...]
    returns: str
    doc: str
    prefix: bool = False

    def signature(self) -> str:
        """The ``def`` line a script should use (keyword-only, ``**_`` last)."""
        name = f"{self.name}_header" if self.prefix else self.name
        return f"def {name}(*, {', '.join(a.name for a in self.args)}, **_):"


@dataclass(frozen=True)
class Member:
    """A member of ``ctx`` or a key of ``field``."""

    name: str
    type: str
    doc: str


_FIELD = Arg("field", "dict", "this column's manifest entry (see field keys)")
_STATE = Arg("state", "Any", "what this column's prepare() returned (None without)")
_CTX = Arg("ctx", "Context", "the run's context (see ctx)")
_MANIFEST = Arg("manifest", "dict", "the whole manifest (a copy)")
_TABLE = Arg(
    "table",
    "dict[str, list]",
    "{field_key: values} of every enabled field, in ordinal order",
)

HOOKS: tuple[Hook, ...] = (
    Hook(
        "run_start",
        "run.py",
        "once, before everything else",
        (_CTX, _MANIFEST),
        "None",
        "Set up the run: fill ctx.state, log what the run is about.",
    ),
    Hook(
        "prepare",
        "columns/<key>.py",
        "once per run, in depends_on order",
        (_FIELD, _MANIFEST, _CTX),
        "any state; passed back to this column's hooks as state",
        "Build what the column's other hooks share (lookup tables, compiled patterns).",
    ),
    Hook(
        "detect",
        "columns/<key>.py",
        "once per physical column of every table (where a table's header is in "
        "doubt, once per header candidate too: keep detectors free of side effects)",
        (
            Arg("header", "str | None", "the column's header text (None without one)"),
            Arg(
                "values",
                "list",
                "up to hints.sample_rows non-empty sample values of the column",
            ),
            Arg("column_index", "int", "the 0-based sheet column"),
            Arg("sheet", "str", "the sheet's name"),
            _FIELD,
            _STATE,
            _CTX,
        ),
        "a number (score delta for this field), a {field_key: delta} dict "
        "(may touch other fields, negative allowed) or None",
        "Score how well a physical column fits this field; every function named "
        "detect* runs, and the deltas are summed.",
        prefix=True,
    ),
    Hook(
        "transform_column",
        "columns/<key>.py",
        "once per mapped column (preferred over transform_cell)",
        (Arg("values", "list", "the whole column"), _FIELD, _STATE, _CTX),
        "a list of the same length",
        "Clean a mapped column's values.",
    ),
    Hook(
        "transform_cell",
        "columns/<key>.py",
        "per cell, when the script has no transform_column",
        (
            Arg("value", "Any", "the cell's value"),
            Arg("row_index", "int", "0-based index of the row in the table's data"),
            _FIELD,
            _STATE,
            _CTX,
        ),
        "the new value",
        "Clean one cell.",
    ),
    Hook(
        "validate",
        "columns/<key>.py",
        "once per mapped column, after the transforms",
        (Arg("values", "list", "the transformed column"), _FIELD, _STATE, _CTX),
        "a list of issues {row_index, message, code?, severity?}",
        "Report problems in a column's values.",
    ),
    Hook(
        "transform_table",
        "table/transform.py",
        "once per table, after the column transforms",
        (_TABLE, _MANIFEST, _CTX),
        "a table of the same shape",
        "Change the table as a whole (values that depend on several columns).",
    ),
    Hook(
        "validate_table",
        "table/validators.py",
        "once per table, after the column validators",
        (_TABLE, _MANIFEST, _CTX),
        "a list of issues {row_index?, field?, message, code?, severity?}",
        "Report problems that span columns.",
    ),
    Hook(
        "run_end",
        "run.py",
        "once, after validation (before the output is written)",
        (_CTX,),
        "None",
        "Wrap up the run: summaries in ctx.log.",
    ),
)

CTX_MEMBERS: tuple[Member, ...] = (
    Member("log", "(msg) -> None", "add a line to the report's logs (1,000 kept)"),
    Member("state", "dict", "a dict shared by every hook of the run"),
    Member("manifest", "dict", "the manifest of the run"),
    Member("sheet", "str | None", "the sheet being processed, where one applies"),
    Member("table", "Table | None", "the table being processed, where one applies"),
)

FIELD_KEYS: tuple[Member, ...] = (
    Member("key", "str", "the field's key (the column script's file name)"),
    Member("label", "str", "the output header"),
    Member("path", "str", "the column script, columns/<key>.py"),
    Member("ordinal", "int", "position of the field in the output"),
    Member("required", "bool", "a table without this field is an issue"),
    Member("enabled", "bool", "false: the field is left out of the run"),
    Member("depends_on", "list[str]", "keys whose hooks run before this one's"),
    Member("synonyms", "list[str]", "other header texts for this field"),
)
FIELD_EXTRA = "Any other key of the column's manifest entry is passed through as is."


def hook_named(name: str) -> Hook | None:
    """The hook a function of this name is (``detect_email`` is ``detect``)."""
    for hook in HOOKS:
        if name == hook.name or (hook.prefix and name.startswith(hook.name)):
            return hook
    return None


def describe() -> dict[str, Any]:
    """The whole description as JSON-ready data (what the API serves)."""
    return {
        "version": VERSION,
        "hooks": [
            {
                **asdict(h),
                "args": [asdict(a) for a in h.args],
                "signature": h.signature(),
            }
            for h in HOOKS
        ],
        "ctx": [asdict(m) for m in CTX_MEMBERS],
        "field": [asdict(m) for m in FIELD_KEYS],
        "field_extra": FIELD_EXTRA,
        "imports": sorted(ALLOWED_MODULES - {"__future__"}),
        "forbidden_calls": sorted(FORBIDDEN_CALLS),
        "allowed_dunders": sorted(ALLOWED_DUNDERS),
    }


def markdown() -> str:
    """The description as the Markdown of ``docs/script-api.md``."""
    lines = [
        "# The script API",
        "",
        "Generated from `runner/script_api.py` by `ade script-api`; do not edit.",
        "Every hook takes keyword arguments only and must accept `**_`, so that new",
        "arguments can be added later.",
        "",
        "## Hooks",
        "",
    ]
    for h in HOOKS:
        name = f"{h.name}*" if h.prefix else h.name
        lines += [
            f"### `{name}` ({h.files})",
            "",
            f"{h.doc} Called {h.when}.",
            "",
            "```python",
            h.signature(),
            "```",
            "",
        ]
        lines += [f"* `{a.name}` ({a.type}): {a.doc}" for a in h.args]
        lines += ["", f"Returns {h.returns}.", ""]
    lines += ["## `ctx`", ""]
    lines += [f"* `ctx.{m.name}` ({m.type}): {m.doc}" for m in CTX_MEMBERS]
    lines += ["", "## `field` keys", ""]
    lines += [f"* `{m.name}` ({m.type}): {m.doc}" for m in FIELD_KEYS]
    lines += ["", FIELD_EXTRA, "", "## Imports", ""]
    lines += [
        "Allowed: " + ", ".join(f"`{m}`" for m in describe()["imports"]) + ", plus "
        "the modules the manifest's `pins` declare. Not allowed to call: "
        + ", ".join(f"`{c}`" for c in sorted(FORBIDDEN_CALLS))
        + ". Dunder attributes other than "
        + " and ".join(f"`{d}`" for d in sorted(ALLOWED_DUNDERS))
        + " are refused.",
        "",
    ]
    return "\n".join(lines)
