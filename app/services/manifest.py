"""The draft's ``manifest.json``: read, merge-patch, replace, and Add Column.

Every write checks the resulting manifest against the tree it will land in (the
package check, ``runner.checks``: refused with every problem listed) and commits with
the blob ids it was checked against: the manifest's own, and those of the files the
new manifest names ("pins", rewritten with their unchanged bytes so the store's CAS
re-checks them). A file deleted concurrently therefore cannot leave the manifest
naming it; the loser of such a race starts again from the new tip.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from app.services.draft import Draft
from app.services.errors import Conflict, Invalid, NotFound, Stale
from app.services.merge_patch import merge_patch
from app.services.retry import Retry, until_settled
from repos.errors import PathNotFound
from repos.errors import PreconditionFailed as RepoPreconditionFailed
from repos.repo import ConfigRepo
from repos.types import FileContent, WriteResult
from runner.checks import MANIFEST, PackageCheck, Problem, check_package
from runner.manifest import MAX_DEPTH, ManifestSyntaxError, parse_manifest, too_deep
from runner.scaffold import file_template, manifest_bytes


@dataclass(frozen=True)
class Snapshot:
    """The draft at one commit: its paths → blob ids, and the parsed manifest
    (None when it is missing or not JSON)."""

    tip: str
    paths: dict[str, str]
    file: FileContent | None
    manifest: Any


def problems_error(what: str, problems: list[Problem], *, by_file=False) -> Invalid:
    """The refusal listing every problem: ``problems`` in full (``Problem.to_dict``,
    the same for every caller) and ``errors`` by place: by the manifest's JSON path
    (a manifest save), or ``by_file`` (a publish: the file, or ``tree``)."""
    errors: dict[str, list[str]] = {}
    for p in problems:
        if p.source == "tree":
            where, message = "tree", p.message
        elif p.line is not None:
            where, message = (
                p.path,
                f"line {p.line}, col {p.col}: {p.code}: {p.message}",
            )
        elif by_file:
            where = p.path
            message = f"{p.where}: {p.message}" if p.where else p.message
        else:
            where, message = p.where or "manifest", p.message
        errors.setdefault(where, []).append(message)
    return Invalid(
        f"{what} has {len(problems)} problem(s).",
        errors=errors,
        problems=[p.to_dict() for p in problems],
    )


def manifest_check(data: bytes, paths: Collection[str]) -> PackageCheck:
    """The package check of a manifest's bytes for a tree of ``paths`` (no
    script is checked): what a manifest save decides on."""
    return check_package({MANIFEST: data}, paths={*paths, MANIFEST}, scripts=())


def check_manifest(data: bytes, paths: Collection[str]) -> Any:
    """The manifest in ``data`` if it is valid for a tree of ``paths``; refused
    with every problem otherwise."""
    check = manifest_check(data, paths)
    if check.errors:
        raise problems_error("The manifest", check.errors)
    return check.manifest


def serialize(manifest: Any) -> bytes:
    """The bytes the API writes for a manifest (the store's 2-space layout)."""
    if too_deep(manifest):
        raise Invalid(f"The manifest nests deeper than {MAX_DEPTH} levels.")
    try:
        return manifest_bytes(manifest)
    except (ValueError, TypeError, RecursionError) as exc:
        raise Invalid(f"The manifest cannot be written as JSON: {exc}") from exc
    except UnicodeEncodeError as exc:
        raise Invalid(f"The manifest is not valid Unicode: {exc.reason}") from exc


def load_snapshot(repo: ConfigRepo, tip: str) -> Snapshot:
    """The draft at commit ``tip``; an unreadable manifest is read as None."""
    paths = {e.path: e.sha for e in repo.list_files(tip)}
    file = repo.read_file(MANIFEST, tip) if MANIFEST in paths else None
    try:
        manifest = parse_manifest(file.data) if file is not None else None
    except ManifestSyntaxError:
        manifest = None
    return Snapshot(tip, paths, file, manifest)


def _require_manifest(snapshot: Snapshot) -> Mapping:
    """The snapshot's manifest for a change that builds on it (merge, Add Column)."""
    if snapshot.file is None:
        raise Invalid(
            "The draft has no manifest.json.", errors={"manifest": ["missing"]}
        )
    if snapshot.manifest is None:
        raise Invalid(
            "manifest.json is not valid JSON; fix it with PUT first.",
            errors={"manifest": ["not valid JSON"]},
        )
    if not isinstance(snapshot.manifest, Mapping):
        raise Invalid(
            "manifest.json is not a JSON object; fix it with PUT first.",
            errors={"manifest": ["not a JSON object"]},
        )
    return snapshot.manifest


def named_paths(manifest: Any) -> dict[str, str]:
    """``{path: json path}`` of every script the manifest names."""
    out: dict[str, str] = {}
    if not isinstance(manifest, Mapping):
        return out
    columns = manifest.get("columns")
    for i, col in enumerate(columns if isinstance(columns, list) else []):
        if isinstance(col, Mapping) and isinstance(col.get("path"), str):
            out.setdefault(col["path"], f"columns[{i}].path")
    table = manifest.get("table")
    for name in ("transform", "validators"):
        entry = table.get(name) if isinstance(table, Mapping) else None
        if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
            out.setdefault(entry["path"], f"table.{name}.path")
    return out


def referenced_by(manifest: Any, path: str) -> str:
    """Where the manifest names ``path`` (a JSON path), or ``""``."""
    return named_paths(manifest).get(path, "")


def get_manifest(draft: Draft) -> tuple[Any, str]:
    """The draft manifest and its blob id (its ETag)."""
    repo = draft.repo
    snapshot = load_snapshot(repo, repo.resolve("draft"))
    if snapshot.file is None:
        raise NotFound("The draft has no manifest.json.")
    if not isinstance(snapshot.manifest, dict):
        raise Conflict(
            "manifest.json is not a JSON object; read it as a file and fix it with PUT."
        )
    return snapshot.manifest, snapshot.file.sha


def commit_with_pins(
    draft: Draft,
    snapshot: Snapshot,
    manifest: Any,
    data: bytes,
    message: str,
    extra: Mapping[str, bytes | None] | None = None,
    extra_expected: Mapping[str, str | None] | None = None,
) -> WriteResult:
    """One commit: the manifest, ``extra`` files (new ones, unless
    ``extra_expected`` names their current blob ids; None deletes), and the pins
    (see module)."""
    extra = dict(extra or {})
    changes: dict[str, bytes | None] = {MANIFEST: data, **extra}
    expected: dict[str, str | None] = {
        MANIFEST: snapshot.file.sha if snapshot.file else None,
        **{p: None for p in extra},
        **(extra_expected or {}),
    }
    for path in named_paths(manifest):
        if path in snapshot.paths and path not in changes:
            changes[path] = draft.repo.read_file(path, snapshot.tip).data
            expected[path] = snapshot.paths[path]
    return draft.repo.apply(
        changes, author=draft.author, message=message, expected=expected
    )


def _check_expected(snapshot: Snapshot, expected_sha: str | None) -> None:
    current = snapshot.file.sha if snapshot.file else None
    if expected_sha is None and current is not None:
        raise Conflict("manifest.json already exists.")
    if current != expected_sha:
        raise Stale(
            "manifest.json has changed; reload it and retry.", current_etag=current
        )


def commit_or_retry(commit, *, guarded: bool) -> WriteResult:
    """Run ``commit``; a lost race on a pinned file (or, unless ``guarded``, on the
    manifest itself) is retried. ``guarded``: the caller named the manifest's
    version, so a race on it is theirs to resolve (412)."""
    try:
        return commit()
    except RepoPreconditionFailed as exc:
        if guarded and exc.path == MANIFEST:
            raise
        raise Retry from exc
    except PathNotFound as exc:  # a pinned file went away: check again
        raise Retry from exc


def write_manifest(
    draft: Draft, data: bytes, *, expected_sha: str | None
) -> WriteResult:
    """Replace manifest.json with ``data`` as given (PUT) after checking it.
    ``expected_sha`` is the blob id the caller's If-Match resolved to (None: the
    manifest must not exist yet)."""

    def attempt() -> WriteResult:
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"))
        _check_expected(snapshot, expected_sha)  # conflict/stale before invalid
        manifest = check_manifest(data, snapshot.paths)
        return commit_or_retry(
            lambda: commit_with_pins(
                draft, snapshot, manifest, data, f"Update {MANIFEST}"
            ),
            guarded=True,
        )

    return until_settled(attempt)


def patch_manifest(
    draft: Draft, patch: Any, *, expected_sha: str | None = None
) -> tuple[Any, WriteResult]:
    """Apply an RFC 7386 merge patch and write the valid result. Without
    ``expected_sha`` a concurrent manifest change is merged over (the patch is
    re-applied to the new manifest); with it, such a change is stale."""
    if too_deep(patch):
        raise Invalid(f"The patch nests deeper than {MAX_DEPTH} levels.")

    def attempt() -> tuple[Any, WriteResult]:
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"))
        if expected_sha is not None:
            _check_expected(snapshot, expected_sha)
        data = serialize(merge_patch(_require_manifest(snapshot), patch))
        manifest = check_manifest(data, snapshot.paths)
        result = commit_or_retry(
            lambda: commit_with_pins(
                draft, snapshot, manifest, data, f"Update {MANIFEST}"
            ),
            guarded=expected_sha is not None,
        )
        return manifest, result

    return until_settled(attempt)


def _column_entry(columns: list, key: str, label: str, required: bool) -> dict:
    ordinals = [
        c["ordinal"]
        for c in columns
        if isinstance(c, Mapping) and type(c.get("ordinal")) is int
    ]
    return {
        "key": key,
        "label": label,
        "path": f"columns/{key}.py",
        "ordinal": max(ordinals, default=0) + 1,
        "required": required,
        "enabled": True,
        "depends_on": [],
        "synonyms": [],
    }


def add_column(
    draft: Draft,
    key: str,
    label: str,
    *,
    required: bool = False,
    template: str = "column",
) -> dict:
    """``columns/<key>.py`` from a template plus its manifest entry (next ordinal),
    in one commit; a conflict when the key or the file exists."""
    path = f"columns/{key}.py"
    code = file_template(template, key=key, label=label)

    def attempt() -> dict:
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"))
        manifest = _require_manifest(snapshot)
        columns = manifest.get("columns")
        if not isinstance(columns, list):
            raise Invalid(
                "The manifest has no list of columns.",
                errors={"columns": ["must be a list"]},
            )
        if any(isinstance(c, Mapping) and c.get("key") == key for c in columns):
            raise Conflict(f"A column with key {key!r} already exists.")
        if path in snapshot.paths:
            raise Conflict(f"{path!r} already exists.")
        entry = _column_entry(columns, key, label, required)
        data = serialize({**manifest, "columns": [*columns, entry]})
        new = check_manifest(data, {*snapshot.paths, path})
        result = commit_or_retry(
            lambda: commit_with_pins(
                draft, snapshot, new, data, f"Add column {key}", extra={path: code}
            ),
            guarded=False,
        )
        return {
            "key": key,
            "path": path,
            "sha": next(c.sha for c in result.changes if c.path == path),
            "commit": result.commit,
            "column": entry,
            "code": code,
        }

    return until_settled(attempt)
