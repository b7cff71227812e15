"""Is this config tree valid? One pure function of the tree's files, for every caller.

The API's file and manifest saves, the draft's plan, publish, the ``git push`` hook
and ``ade run`` all ask the same question; they differ only in what they do with the
answer (SPEC §4-§6):

* a ``"error"`` problem blocks a publish and a push; a manifest save is refused when
  the new manifest has one; a script save shows its guardrail findings as warnings;
* a ``"warning"`` never blocks anything (a script no column names, say);
* a ``fatal`` problem (no manifest, not JSON, a ``depends_on`` cycle) leaves nothing a
  dry run could execute: the plan lists those as its errors.

Nothing here reads the disk or imports config code: callers pass the bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from runner.guardrails import check_files
from runner.manifest import (
    CYCLE_PREFIX,
    ManifestSyntaxError,
    parse_manifest,
    validate_manifest,
)

MANIFEST = "manifest.json"
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One reason a config tree is not (quite) right.

    ``path`` is the file it is about; ``where`` the JSON path inside the manifest
    (``columns[0].key``) or None; ``line``/``col`` the script position (1-based line,
    0-based column) or None. ``source`` is ``manifest`` or ``guardrail``; ``code`` is
    ``missing``, ``json``, ``cycle``, ``manifest``, ``unused_column_script`` or a
    guardrail code (``import``, ``call``, ``dunder``, ``syntax``).
    """

    source: str
    path: str
    code: str
    message: str
    severity: str = ERROR
    where: str | None = None
    line: int | None = None
    col: int | None = None
    fatal: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API, the plan and the editor use."""
        return asdict(self)

    def text(self) -> str:
        """One line naming the place: ``manifest.json: columns[0].key: ...`` or
        ``columns/a.py:3:0: import: ...`` (what ``git push`` prints)."""
        if self.line is not None:
            return f"{self.path}:{self.line}:{self.col}: {self.code}: {self.message}"
        if self.where:
            return f"{self.path}: {self.where}: {self.message}"
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class PackageCheck:
    """The answer: every problem, and the manifest when it parsed (else None)."""

    problems: tuple[Problem, ...]
    manifest: Any = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def about(self, source: str) -> list[Problem]:
        return [p for p in self.problems if p.source == source]


def check_package(
    files: Mapping[str, bytes],
    *,
    paths: Collection[str] | None = None,
    scripts: Collection[str] | None = None,
) -> PackageCheck:
    """Check a config tree.

    ``files`` maps paths to contents; it must hold ``manifest.json`` (if the tree has
    one) and every script to check. ``paths`` are all the tree's paths (default: the
    keys of ``files``), for the manifest's "no such file" checks. ``scripts`` limits
    the guardrail pass to those paths (a save checks the one file it writes); by
    default every ``*.py`` in ``files`` is checked.
    """
    paths = frozenset(files if paths is None else paths)
    problems, manifest = _manifest_problems(files, paths)
    pins = pinned_modules(manifest)
    to_check = (
        files if scripts is None else {p: files[p] for p in scripts if p in files}
    )
    problems += [
        Problem("guardrail", f.path, f.code, f.message, line=f.line, col=f.col)
        for f in check_files(to_check, extra_modules=pins)
    ]
    return PackageCheck(tuple(problems), manifest)


def pinned_modules(manifest: Any) -> list[str]:
    """Modules the manifest's ``pins`` declare: importable in addition to the
    guardrail allow-list (SPEC §6)."""
    pins = manifest.get("pins") if isinstance(manifest, Mapping) else None
    return (
        sorted(p for p in pins if isinstance(p, str))
        if isinstance(pins, Mapping)
        else []
    )


def _manifest_problems(
    files: Mapping[str, bytes], paths: frozenset[str]
) -> tuple[list[Problem], Any]:
    if MANIFEST not in files:
        return [_fatal("missing", "missing (every config needs one)")], None
    try:
        manifest = parse_manifest(files[MANIFEST])
    except ManifestSyntaxError as exc:
        return [_fatal("json", str(exc))], None
    problems = [_from_validation(text) for text in validate_manifest(manifest, paths)]
    problems += [
        Problem(
            "manifest",
            path,
            "unused_column_script",
            "not named by any column of the manifest; it never runs",
            severity=WARNING,
        )
        for path in _unused_column_scripts(manifest, paths)
    ]
    return problems, manifest


def _fatal(code: str, message: str) -> Problem:
    return Problem("manifest", MANIFEST, code, message, fatal=True)


def _from_validation(text: str) -> Problem:
    """A ``"<json path>: <problem>"`` of ``validate_manifest`` as a Problem."""
    if text.startswith(CYCLE_PREFIX):
        message = "depends_on cycle: " + text.removeprefix(CYCLE_PREFIX)
        return Problem(
            "manifest", MANIFEST, "cycle", message, where="columns", fatal=True
        )
    where, sep, message = text.partition(": ")
    if not sep:
        return Problem("manifest", MANIFEST, "manifest", text)
    if where == "manifest":  # not an object at all: nothing to run
        return Problem("manifest", MANIFEST, "manifest", message, fatal=True)
    return Problem("manifest", MANIFEST, "manifest", message, where=where)


def _unused_column_scripts(manifest: Any, paths: Collection[str]) -> list[str]:
    """``columns/*.py`` files no manifest column points at (a forgotten entry)."""
    columns = manifest.get("columns") if isinstance(manifest, Mapping) else None
    named = {
        col.get("path")
        for col in (columns if isinstance(columns, list) else [])
        if isinstance(col, Mapping)
    }
    return sorted(
        p
        for p in paths
        if p.startswith("columns/") and p.endswith(".py") and p not in named
    )
