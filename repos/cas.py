"""Compare-and-swap writes to branches, shared by ConfigRepo's mutations.

``create_commit(ref, ..., [expected_tip])`` is already a CAS in libgit2: it fails
when the branch no longer points at the first parent, and re-checks under the ref's
``.lock``. A held lock surfaces as OSError, a lost race as GitError. On either we
remove stale locks, back off a little (jittered, growing) and redo the whole step
from the new tip — including the blob-id preconditions, so a lost race can turn
into PreconditionFailed but never into a silent overwrite.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pygit2
from pygit2.enums import ObjectType

from repos import maintenance, trees
from repos.errors import (
    ConcurrentUpdate,
    PathExists,
    PathNotFound,
    PreconditionFailed,
    RefNotFound,
    TooManyFiles,
)
from repos.types import FileChange, WriteResult

if TYPE_CHECKING:
    from repos.repo import RepoSettings

_T = TypeVar("_T")
# Not "*.lock": stale-lock cleanup must never delete it (see writer_lock).
WRITER_LOCK = "ade-writer.flock"
# Every pygit2 error (AlreadyExistsError from a racing ref creation included) is a
# GitError; a held lock file surfaces as OSError. Nothing else is retried.
_RETRYABLE = (pygit2.GitError, OSError)


@contextlib.contextmanager
def writer_lock(repo_path: Path, enabled: bool = True) -> Iterator[None]:
    """Serialise this host's writers of one repo with ``flock``.

    Not needed for correctness (the CAS is), but without it N concurrent writers
    each build trees and commits that all but one throw away, then retry. The
    kernel drops the lock of a killed process, so it can never go stale. Other
    hosts on shared storage and ``git receive-pack`` do not take it; the CAS
    covers them.
    """
    if not enabled:
        yield
        return
    fd = os.open(repo_path / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def retry(
    repo_path: Path,
    settings: RepoSettings,
    step: Callable[[], _T],
    what: str,
    *,
    lock: bool = True,
) -> _T:
    """Run ``step`` until it does not raise a git/lock error; bounded in attempts
    and time, then ConcurrentUpdate. Domain errors (RepoError) pass straight out.

    Object writes need this too, not only ref updates: ``git gc`` removes empty
    ``objects/xx/`` directories, and libgit2 (unlike git) does not recreate one
    that vanishes between its mkdir and its rename ("failed to rename lockfile").
    """
    deadline = time.monotonic() + settings.retry_seconds
    for attempt in range(settings.max_attempts):
        try:
            with writer_lock(repo_path, settings.host_lock and lock):
                return step()
        except _RETRYABLE as exc:
            last = exc
        maintenance.remove_stale_locks(repo_path, settings.stale_lock_seconds)
        if time.monotonic() >= deadline:
            break
        time.sleep(random.uniform(0, min(0.05, 0.0005 * 2 ** min(attempt, 10))))
    raise ConcurrentUpdate(f"{what}: gave up after repeated conflicts: {last}") from (
        last
    )


def commit_changes(
    repo: pygit2.Repository,
    settings: RepoSettings,
    changes: Mapping[str, bytes | None],
    *,
    expected: Mapping[str, str | None],
    must_exist: frozenset[str],
    must_not_exist: frozenset[str],
    signature: pygit2.Signature,
    message: Callable[[Mapping[str, str | None]], str],
    branch: str = "refs/heads/draft",
) -> WriteResult:
    """One commit on ``branch`` applying ``changes``, after checking
    preconditions against the tip it builds on. Paths and sizes are already valid.
    ``message`` gets the current blob ids so it can say Create vs Update.

    The preconditions are checked before any object is written, so a refused
    write (a stale If-Match, a path in the way) stores nothing. The blobs are
    then written outside the writer lock (content-addressed: a retry does not
    rewrite them); only trees, commit and ref move happen under it, each attempt
    re-checking against the tip it reads. Only a writer that passes the first
    check and loses a race to a change of the same file leaves its blob behind
    (for ``git gc`` to prune after its grace period).
    """
    data = {p: d for p, d in changes.items() if d is not None}

    def read_and_check() -> tuple[pygit2.Commit, dict[str, str | None]]:
        ref = repo.references.get(branch)
        if ref is None:
            raise RefNotFound(branch)
        tip = ref.peel(pygit2.Commit)
        current = {p: trees.blob_id_at(tip.tree, p) for p in changes}
        _check(tip.tree, changes, current, expected, must_exist, must_not_exist)
        return tip, current

    path = Path(repo.path)
    retry(path, settings, read_and_check, f"read {branch}", lock=False)
    blobs = retry(
        path,
        settings,
        lambda: {p: repo.create_blob(d) for p, d in data.items()},
        "write blobs",
        lock=False,
    )

    def step() -> WriteResult:
        tip, current = read_and_check()
        base = tip.tree
        if any(current[p] is None for p in data):
            deleted = len(changes) - len(data)
            added = sum(1 for p in data if current[p] is None)
            count = trees.count_files(repo, base) + added - deleted
            if count > settings.max_files:
                raise TooManyFiles(count, settings.max_files)
        tree_id = trees.build_tree(repo, base, {p: blobs.get(p) for p in changes})
        if tree_id is None:  # every file deleted: an empty tree, as git writes it
            tree_id = repo.TreeBuilder().write()
        result_changes = tuple(
            FileChange(p, str(blobs[p]), len(data[p]))
            if p in blobs
            else FileChange(p, None, 0)
            for p in sorted(changes)
            if (str(blobs[p]) if p in blobs else None) != current[p]
        )
        if tree_id == tip.tree_id:
            return WriteResult(str(tip.id), str(tree_id), ())  # nothing changed
        commit_id = repo.create_commit(
            branch, signature, signature, message(current), tree_id, [tip.id]
        )
        return WriteResult(str(commit_id), str(tree_id), result_changes)

    return retry(path, settings, step, f"write to {branch}")


def _check(
    base: pygit2.Tree,
    changes: Mapping[str, bytes | None],
    current: Mapping[str, str | None],
    expected: Mapping[str, str | None],
    must_exist: frozenset[str],
    must_not_exist: frozenset[str],
) -> None:
    for path in sorted(changes):
        obj = trees.lookup(base, path)
        if obj is not None and obj.type != ObjectType.BLOB:
            if changes[path] is None:
                raise PathNotFound(path)  # deleting a directory: no such file
            raise PathExists(path, "a directory (or non-file) exists at")
        if path in must_not_exist and current[path] is not None:
            raise PathExists(path)
        if (path in must_exist or changes[path] is None) and current[path] is None:
            raise PathNotFound(path)
        if path in expected and expected[path] != current[path]:
            raise PreconditionFailed(path, current[path])
        if changes[path] is not None and current[path] is None:
            _check_new_path(base, path, changes)


def _check_new_path(
    base: pygit2.Tree, path: str, changes: Mapping[str, bytes | None]
) -> None:
    """A new file needs no file where one of its directories goes, and no other
    new file of this same change where it would need a directory."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        prefix = "/".join(parts[:depth])
        if prefix in changes:
            if changes[prefix] is not None:
                raise PathExists(prefix, f"a file is in the way of {path!r}")
            continue  # that file is being deleted: its name becomes a directory
        obj = trees.lookup(base, prefix)
        if obj is not None and obj.type == ObjectType.BLOB:
            raise PathExists(prefix, f"a file is in the way of {path!r}")


def move_ref(
    repo: pygit2.Repository,
    settings: RepoSettings,
    name: str,
    target: pygit2.Oid,
) -> None:
    """Point branch ``name`` at ``target``: ``set_target`` on a freshly loaded
    reference (CAS on the value just read) or create it if absent."""

    def step() -> None:
        ref = repo.references.get(name)
        if ref is None:
            repo.references.create(name, target)  # no force: a racer makes us retry
        elif ref.target != target:
            ref.set_target(target)

    retry(Path(repo.path), settings, step, f"move {name}")


def point_head(repo: pygit2.Repository, settings: RepoSettings, branch: str) -> None:
    """Make HEAD a symbolic ref to ``branch`` (so ``git clone`` checks it out)."""

    def step() -> None:
        head = repo.references.get("HEAD")
        if head is None or head.raw_target != branch.encode():
            repo.set_head(branch)

    retry(Path(repo.path), settings, step, "point HEAD")
