"""The draft's ``manifest.json``: read, merge-patch, replace, and Add Column.

Every write validates the resulting manifest against the tree it will land in
(``runner.manifest.validate_manifest``; 400 with every problem) and commits with the
blob ids it was validated against: the manifest's own, and those of the files the new
manifest names ("pins", rewritten with their unchanged bytes so the store's CAS
re-checks them). A file deleted concurrently therefore cannot leave the manifest
naming it; the loser of such a race starts again from the new tip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from app.services.merge_patch import merge_patch
from repos.errors import PathNotFound
from repos.errors import PreconditionFailed as RepoPreconditionFailed
from repos.repo import ConfigRepo
from repos.scaffold import file_template, manifest_bytes
from repos.types import FileContent, WriteResult
from runner.manifest import validate_manifest

if TYPE_CHECKING:
    from app.services.files import Draft

MANIFEST = "manifest.json"
RETRIES = 8
MAX_DEPTH = 64


@dataclass(frozen=True)
class Snapshot:
    """The draft at one commit: its paths → blob ids, and the parsed manifest."""

    tip: str
    paths: dict[str, str]
    file: FileContent | None
    manifest: Any


def check_depth(value: Any, what: str = "manifest") -> None:
    """400 when ``value`` nests deeper than MAX_DEPTH (the recursive helpers —
    merge patch, JSON encoding — would otherwise hit Python's recursion limit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The {what} nests deeper than {MAX_DEPTH} levels.")
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            stack.extend((child, depth + 1) for child in children)


def parse(data: bytes) -> Any:
    """The manifest object of ``data``; 400 if it is not JSON (NaN is not JSON)."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValidationFailed(
            "manifest.json is not valid JSON.", errors={"manifest": [str(exc)]}
        ) from exc
    check_depth(manifest)
    return manifest


def serialize(manifest: Any) -> bytes:
    """The bytes the API writes for a manifest (the store's 2-space layout)."""
    try:
        json.dumps(manifest, allow_nan=False)
        return manifest_bytes(manifest)
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadRequest(f"The manifest cannot be written as JSON: {exc}") from exc
    except UnicodeEncodeError as exc:
        raise BadRequest(f"The manifest is not valid Unicode: {exc.reason}") from exc


def problems_as_errors(problems: list[str]) -> dict[str, list[str]]:
    """``["hints.x: unknown key"]`` → ``{"hints.x": ["unknown key"]}`` (SPEC §4)."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        where, sep, what = problem.partition(": ")
        if not sep:
            where, what = "manifest", problem
        errors.setdefault(where, []).append(what)
    return errors


def validate(manifest: Any, paths: Mapping[str, str] | set[str]) -> None:
    """400 listing every problem when ``manifest`` is not valid for ``paths``."""
    problems = validate_manifest(manifest, set(paths))
    if problems:
        raise ValidationFailed(
            f"The manifest has {len(problems)} problem(s).",
            errors=problems_as_errors(problems),
        )


def load_snapshot(repo: ConfigRepo, tip: str, *, strict: bool = True) -> Snapshot:
    """The draft at commit ``tip``. ``strict``: 400 when the manifest is missing or
    not JSON; otherwise such a manifest is read as None."""
    paths = {e.path: e.sha for e in repo.list_files(tip)}
    file = repo.read_file(MANIFEST, tip) if MANIFEST in paths else None
    if file is None:
        if strict:
            raise ValidationFailed(
                "The draft has no manifest.json.", errors={"manifest": ["missing"]}
            )
        return Snapshot(tip, paths, None, None)
    try:
        manifest = parse(file.data)
    except ValidationFailed:
        if strict:
            raise
        manifest = None
    return Snapshot(tip, paths, file, manifest)


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


def pinned_modules(manifest: Any) -> list[str]:
    """Modules the manifest's ``pins`` declare: importable in addition to the
    guardrail allow-list (as at publish and push)."""
    pins = manifest.get("pins") if isinstance(manifest, Mapping) else None
    return list(pins) if isinstance(pins, Mapping) else []


def draft_pins(repo: ConfigRepo) -> list[str]:
    """``pinned_modules`` of the draft's manifest ([] when it is unreadable)."""
    try:
        return pinned_modules(parse(repo.read_file(MANIFEST, "draft").data))
    except (PathNotFound, ValidationFailed, BadRequest):
        return []


def referenced_by(manifest: Any, path: str) -> str:
    """Where the manifest names ``path`` (a JSON path), or ``""``."""
    return named_paths(manifest).get(path, "")


def get_manifest(draft: Draft) -> tuple[Any, str]:
    """The draft manifest and its blob id (its ETag)."""
    repo = draft.repo
    snapshot = load_snapshot(repo, repo.resolve("draft"), strict=False)
    if snapshot.file is None:
        raise NotFound("The draft has no manifest.json.")
    if not isinstance(snapshot.manifest, dict):
        raise Conflict(
            "manifest.json is not a JSON object; read it as a file and fix it with PUT."
        )
    return snapshot.manifest, snapshot.file.sha


def _commit(
    draft: Draft,
    snapshot: Snapshot,
    manifest: Any,
    data: bytes,
    message: str,
    extra: Mapping[str, bytes] | None = None,
) -> WriteResult:
    """One commit: the manifest, ``extra`` new files, and the pins (see module)."""
    extra = dict(extra or {})
    changes: dict[str, bytes | None] = {MANIFEST: data, **extra}
    expected: dict[str, str | None] = {
        MANIFEST: snapshot.file.sha if snapshot.file else None,
        **{p: None for p in extra},
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
        raise PreconditionFailed(
            "manifest.json has changed; reload it and retry.", current_etag=current
        )


def write_manifest(
    draft: Draft, data: bytes, *, expected_sha: str | None
) -> WriteResult:
    """Replace manifest.json with ``data`` as given (PUT) after validating it.
    ``expected_sha`` is the blob id the caller's If-Match resolved to (None: the
    manifest must not exist yet)."""
    for _attempt in range(RETRIES):
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"), strict=False)
        _check_expected(snapshot, expected_sha)  # 409/412 before 400
        manifest = parse(data)
        validate(manifest, snapshot.paths)
        try:
            return _commit(draft, snapshot, manifest, data, f"Update {MANIFEST}")
        except RepoPreconditionFailed as exc:
            if exc.path == MANIFEST:
                raise
        except PathNotFound:
            continue  # a pinned file went away: validate again
    raise Conflict("The draft kept changing; try again.")


def patch_manifest(
    draft: Draft, patch: Any, *, expected_sha: str | None = None
) -> tuple[Any, WriteResult]:
    """Apply an RFC 7386 merge patch and write the valid result. Without
    ``expected_sha`` a concurrent manifest change is merged over (the patch is
    re-applied to the new manifest); with it, such a change is a 412."""
    check_depth(patch, "patch")
    for _attempt in range(RETRIES):
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"))
        if expected_sha is not None:
            _check_expected(snapshot, expected_sha)
        manifest = merge_patch(snapshot.manifest, patch)
        validate(manifest, snapshot.paths)
        data = serialize(manifest)
        try:
            return manifest, _commit(
                draft, snapshot, manifest, data, f"Update {MANIFEST}"
            )
        except RepoPreconditionFailed as exc:
            if exc.path == MANIFEST and expected_sha is not None:
                raise
        except PathNotFound:
            continue
    raise Conflict("The draft kept changing; try again.")


def add_column(
    draft: Draft,
    key: str,
    label: str,
    *,
    required: bool = False,
    template: str = "column",
) -> dict:
    """``columns/<key>.py`` from a template plus its manifest entry (next ordinal),
    in one commit; 409 when the key or the file exists."""
    path = f"columns/{key}.py"
    code = file_template(template, key=key, label=label)
    for _attempt in range(RETRIES):
        snapshot = load_snapshot(draft.repo, draft.repo.resolve("draft"))
        manifest = snapshot.manifest
        columns = manifest.get("columns") if isinstance(manifest, Mapping) else None
        if not isinstance(columns, list):
            raise ValidationFailed(
                "The manifest has no list of columns.",
                errors={"columns": ["must be a list"]},
            )
        if any(isinstance(c, Mapping) and c.get("key") == key for c in columns):
            raise Conflict(f"A column with key {key!r} already exists.")
        if path in snapshot.paths:
            raise Conflict(f"{path!r} already exists.")
        ordinals = [
            c["ordinal"]
            for c in columns
            if isinstance(c, Mapping) and type(c.get("ordinal")) is int
        ]
        entry = {
            "key": key,
            "label": label,
            "path": path,
            "ordinal": max(ordinals, default=0) + 1,
            "required": required,
            "enabled": True,
            "depends_on": [],
            "synonyms": [],
        }
        new = {**manifest, "columns": [*columns, entry]}
        validate(new, {*snapshot.paths, path})
        data = serialize(new)
        try:
            result = _commit(
                draft, snapshot, new, data, f"Add column {key}", extra={path: code}
            )
        except (RepoPreconditionFailed, PathNotFound):
            continue
        return {
            "key": key,
            "path": path,
            "sha": next(c.sha for c in result.changes if c.path == path),
            "commit": result.commit,
            "column": entry,
            "code": code,
        }
    raise Conflict("The draft kept changing; try again.")
