"""Moving (renaming) a draft file in one commit.

The caller names the version it moves (``If-Match``, like a save). A file the
manifest names is moved together with the manifest's reference to it: the new
manifest is checked like any manifest save (a column script moved out of
``columns/`` is refused with the problems listed) and committed with the move, so
the draft's manifest never names a missing file. A file the manifest does not
name is moved with the manifest pinned (its unchanged bytes and blob id), so a
concurrent manifest edit that starts naming the old path makes one of the two
writes start again and see the other, as a delete does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.services import manifest as manifest_service
from app.services.draft import Draft, require_version
from app.services.errors import Conflict, Invalid
from app.services.retry import Retry, until_settled
from repos.errors import PathNotFound
from repos.errors import PreconditionFailed as RepoPreconditionFailed
from repos.paths import validate_path
from runner.checks import MANIFEST


@dataclass(frozen=True)
class MovedFile:
    """The result of a move: the file's new path, its (unchanged) blob id, the
    commit, and whether the manifest was updated with it."""

    path: str
    from_: str
    sha: str
    commit: str
    manifest_updated: bool


def renamed_in(manifest: Any, src: str, dst: str) -> Any:
    """A copy of ``manifest`` with every script reference to ``src`` (a column's
    ``path``, ``table.<kind>.path``) pointing at ``dst``."""
    new = copy.deepcopy(manifest)
    for col in new.get("columns") or []:
        if isinstance(col, dict) and col.get("path") == src:
            col["path"] = dst
    table = new.get("table")
    for entry in table.values() if isinstance(table, Mapping) else ():
        if isinstance(entry, dict) and entry.get("path") == src:
            entry["path"] = dst
    return new


def move_file(draft: Draft, src: str, dst: str, expected: Sequence[str]) -> MovedFile:
    """Move ``src`` to ``dst`` in one draft commit (see the module); stale when
    ``expected`` does not name ``src``'s current version, a conflict when ``dst``
    exists, invalid for the manifest itself or a move the manifest cannot follow."""
    validate_path(src)
    validate_path(dst)
    if MANIFEST in (src, dst):
        raise Invalid("manifest.json cannot be moved, and nothing can replace it.")
    if src == dst:
        raise Invalid("The new path is the file's current path.")

    def attempt() -> MovedFile:
        repo = draft.repo
        snapshot = manifest_service.load_snapshot(repo, repo.resolve("draft"))
        if src not in snapshot.paths:
            raise PathNotFound(src)
        current = repo.read_file(src, snapshot.tip)
        require_version(expected, current)
        if dst in snapshot.paths:
            raise Conflict(f"{dst!r} already exists; delete or move it first.")
        named = src in manifest_service.named_paths(snapshot.manifest)
        try:
            if named:
                result = _move_with_manifest(draft, snapshot, src, dst, current)
            else:
                result = _move_pinned(draft, snapshot, src, dst, current)
        except RepoPreconditionFailed as exc:
            if exc.path == src:
                raise  # the caller's version of the file is stale: 412
            raise Retry from exc
        except PathNotFound as exc:  # a pinned file went away: look again
            raise Retry from exc
        return MovedFile(dst, src, current.sha, result.commit, named)

    return until_settled(attempt, "The draft kept changing during the move; try again.")


def _move_with_manifest(draft, snapshot, src, dst, current):
    data = manifest_service.serialize(renamed_in(snapshot.manifest, src, dst))
    paths = (set(snapshot.paths) - {src}) | {dst}
    manifest = manifest_service.check_manifest(data, paths)
    return manifest_service.commit_with_pins(
        draft,
        snapshot,
        manifest,
        data,
        f"Move {src} to {dst}",
        extra={src: None, dst: current.data},
        extra_expected={src: current.sha},
    )


def _move_pinned(draft, snapshot, src, dst, current):
    changes: dict[str, bytes | None] = {src: None, dst: current.data}
    pinned: dict[str, str | None] = {src: current.sha, dst: None}
    if snapshot.file is not None:
        changes[MANIFEST] = snapshot.file.data
        pinned[MANIFEST] = snapshot.file.sha
    return draft.repo.apply(
        changes, author=draft.author, message=f"Move {src} to {dst}", expected=pinned
    )
