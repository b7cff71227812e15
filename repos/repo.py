"""One config's bare repository: reads at any ref, CAS writes to the draft,
publishing (tags + main), history and diffs. Returns plain dataclasses only."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pygit2
from pygit2.enums import ObjectType

from repos import cas, housekeeping, trees, versions
from repos.errors import (
    FileTooLarge,
    PathNotFound,
    RefNotFound,
    RepoError,
    RepoNotFound,
)
from repos.paths import validate_path
from repos.types import (
    Author,
    CommitInfo,
    DiffEntry,
    FileContent,
    FileEntry,
    TagInfo,
    WriteResult,
)

DRAFT = "refs/heads/draft"
MAIN = "refs/heads/main"
_HEX_RE = re.compile(r"[0-9a-f]{4,40}")
_T = TypeVar("_T")


@dataclass(frozen=True)
class RepoSettings:
    """Limits and tuning shared by every repo of a Store."""

    max_file_bytes: int = 512 * 1024
    max_files: int = 2000
    gc_loose_objects: int = 200
    stale_lock_seconds: float = 5.0
    retry_seconds: float = 10.0  # a CAS write gives up after this long
    max_attempts: int = 500
    maintenance_delay: float = 1.0  # a written repo is looked at this much later
    gc_max_packs: int = 16  # a full ``git gc`` once this many packs exist
    host_lock: bool = True  # flock around each CAS attempt (see cas.writer_lock)
    git: str = "git"


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    # libgit2 objects must not be used from two threads at once; one lock per
    # ConfigRepo makes sharing an instance safe. Cross-process safety is the CAS.
    @functools.wraps(method)
    def wrapper(self: ConfigRepo, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except RepoError:
                raise
            except (pygit2.GitError, OSError) as exc:
                raise RepoError(f"{method.__name__}: {exc}") from exc

    return wrapper


class ConfigRepo:
    """A config's bare git repository. Refs: ``draft``, ``main``, ``v1.2.3`` or a
    commit sha. Every mutation is one commit on ``refs/heads/draft``."""

    def __init__(
        self,
        path: Path,
        settings: RepoSettings | None = None,
        *,
        extra_object_dirs: Sequence[Path | str] = (),
    ) -> None:
        """Open the bare repo at ``path``. ``extra_object_dirs`` are read-only
        object directories to consult too, e.g. receive-pack's quarantine
        (``GIT_QUARANTINE_PATH``) in a pre-receive hook: libgit2 ignores git's
        environment variables, so pushed objects are invisible without it."""
        self.path = Path(path)
        self.settings = settings or RepoSettings()
        self._lock = threading.RLock()
        try:
            self._repo = pygit2.Repository(str(self.path))
            for directory in extra_object_dirs:
                self._repo.odb.add_disk_alternate(str(directory))
        except pygit2.GitError as exc:
            if not (self.path / "HEAD").is_file():
                raise RepoNotFound(str(self.path)) from exc
            raise RepoError(f"cannot open {self.path}: {exc}") from exc

    def close(self) -> None:
        """Release libgit2's file handles (packs, mmaps) now rather than at GC."""
        with self._lock:
            self._repo.free()

    def __enter__(self) -> ConfigRepo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----- refs -------------------------------------------------------------

    def _commit(self, ref: str) -> pygit2.Commit:
        if not isinstance(ref, str) or not ref:
            raise RefNotFound(str(ref))
        names = (
            [ref]
            if ref.startswith("refs/")
            else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
        )
        try:
            for name in names:
                reference = self._repo.references.get(name)
                if reference is not None:
                    return reference.peel(pygit2.Commit)
            if ref == "HEAD":
                return self._repo.head.peel(pygit2.Commit)
            if _HEX_RE.fullmatch(ref):
                return self._repo.revparse_single(ref).peel(pygit2.Commit)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            raise RefNotFound(ref) from exc
        raise RefNotFound(ref)

    @_locked
    def resolve(self, ref: str) -> str:
        """Commit sha of ``ref``; RefNotFound if it names no commit."""
        return str(self._commit(ref).id)

    @_locked
    def tree_id(self, ref: str) -> str:
        """Tree id of ``ref`` (a version's files_hash)."""
        return str(self._commit(ref).tree_id)

    @_locked
    def main_commit(self) -> str | None:
        """The published commit, or None before the first publish."""
        ref = self._repo.references.get(MAIN)
        return str(ref.target) if ref is not None else None

    # ----- reads ------------------------------------------------------------

    @_locked
    def list_files(self, ref: str = "draft") -> list[FileEntry]:
        """Every file of the tree at ``ref``, sorted by path."""
        tree = self._commit(ref).tree
        return [
            FileEntry(path, str(entry.id), trees.blob_size(self._repo, entry.id))
            for path, entry in trees.walk(self._repo, tree)
            if trees.is_file(entry)
        ]

    @_locked
    def read_file(self, path: str, ref: str = "draft") -> FileContent:
        """One file at ``ref``; PathNotFound if absent (or a directory)."""
        validate_path(path)
        obj = trees.lookup(self._commit(ref).tree, path)
        if obj is None or obj.type != ObjectType.BLOB:
            raise PathNotFound(path)
        data = obj.data
        return FileContent(path, str(obj.id), len(data), data)

    @_locked
    def read_all(self, ref: str) -> dict[str, bytes]:
        """``{path: bytes}`` of every file at ``ref``."""
        tree = self._commit(ref).tree
        return {
            path: self._repo[entry.id].data
            for path, entry in trees.walk(self._repo, tree)
            if trees.is_file(entry)
        }

    @_locked
    def export(self, ref: str, dest: Path) -> None:
        """Write the files of ``ref`` under ``dest`` (created if missing). Every
        path is re-checked so a tree pushed from outside cannot escape ``dest``."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for path, entry in trees.walk(self._repo, self._commit(ref).tree):
            validate_path(path)
            if not trees.is_file(entry):
                continue  # symlinks/submodules never reach the runner
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._repo[entry.id].data)

    @_locked
    def history(self, ref: str = "draft", limit: int = 100) -> list[CommitInfo]:
        """Commits reachable from ``ref``, newest first (first-parent chain)."""
        out: list[CommitInfo] = []
        commit: pygit2.Commit | None = self._commit(ref)
        while commit is not None and len(out) < limit:
            out.append(
                CommitInfo(
                    sha=str(commit.id),
                    tree=str(commit.tree_id),
                    # git's CLI ends messages with a newline, the store does not.
                    message=commit.message.rstrip("\n"),
                    author=trees.author_of(commit.author),
                    time=trees.time_of(commit.author),
                    paths=trees.changed_paths(commit),
                )
            )
            commit = commit.parents[0] if commit.parents else None
        return out

    @_locked
    def diff(self, from_ref: str, to_ref: str) -> list[DiffEntry]:
        """Per-file changes from ``from_ref`` to ``to_ref`` with unified patches."""
        old, new = self._commit(from_ref).tree, self._commit(to_ref).tree
        return trees.diff_entries(self._repo.diff(old, new))

    @_locked
    def check_tree(self, ref: str) -> list[str]:
        """Problems that keep the tree at ``ref`` (a commit or tree id) out of the
        draft: unsafe paths, oversize files, too many files, links/submodules."""
        try:
            tree = self._commit(ref).tree
        except RefNotFound:
            obj = self._repo.get(ref) if _HEX_RE.fullmatch(ref or "") else None
            if not isinstance(obj, pygit2.Tree):
                raise
            tree = obj
        return trees.problems(
            self._repo, tree, self.settings.max_file_bytes, self.settings.max_files
        )

    # ----- writes -----------------------------------------------------------

    def _validate_changes(self, changes: Mapping[str, bytes | None]) -> None:
        for path, data in changes.items():
            validate_path(path)
            if data is not None and len(data) > self.settings.max_file_bytes:
                raise FileTooLarge(path, len(data), self.settings.max_file_bytes)

    def _commit_changes(
        self,
        changes: Mapping[str, bytes | None],
        *,
        author: Author,
        message: Callable[[Mapping[str, str | None]], str],
        expected: Mapping[str, str | None] = {},  # noqa: B006 - read only
        must_exist: frozenset[str] = frozenset(),
        must_not_exist: frozenset[str] = frozenset(),
    ) -> WriteResult:
        self._validate_changes(changes)
        result = cas.commit_changes(
            self._repo,
            self.settings,
            changes,
            expected=expected,
            must_exist=must_exist,
            must_not_exist=must_not_exist,
            signature=trees.signature(author),
            message=message,
        )
        if result.changes:
            self._after_write()
        return result

    @_locked
    def write_file(
        self,
        path: str,
        data: bytes,
        *,
        author: Author,
        expected_sha: str | None = None,
        create: bool = False,
        message: str | None = None,
    ) -> WriteResult:
        """Create (``create=True``; PathExists if present) or update (PathNotFound
        if absent) one file in one draft commit. With ``expected_sha``, the file's
        current blob id must equal it, else PreconditionFailed(current_sha)."""
        expected = {path: expected_sha} if expected_sha is not None else {}
        verb = "Create" if create else "Update"
        return self._commit_changes(
            {path: bytes(data)},
            author=author,
            message=lambda _cur: message or f"{verb} {path}",
            expected=expected,
            must_exist=frozenset() if create else frozenset({path}),
            must_not_exist=frozenset({path}) if create else frozenset(),
        )

    @_locked
    def delete_file(
        self,
        path: str,
        *,
        author: Author,
        expected_sha: str | None = None,
        message: str | None = None,
    ) -> WriteResult:
        """Delete one file in one draft commit (PathNotFound if absent)."""
        expected = {path: expected_sha} if expected_sha is not None else {}
        return self._commit_changes(
            {path: None},
            author=author,
            message=lambda _cur: message or f"Delete {path}",
            expected=expected,
        )

    @_locked
    def apply(
        self,
        changes: Mapping[str, bytes | None],
        *,
        author: Author,
        message: str,
        expected: Mapping[str, str | None] = {},  # noqa: B006 - read only
    ) -> WriteResult:
        """Several files in ONE draft commit (None deletes). ``expected`` maps a
        path to the blob id it must have now (None: must not exist)."""
        if not changes:
            raise ValueError("apply needs at least one change")
        return self._commit_changes(
            {p: (bytes(d) if d is not None else None) for p, d in changes.items()},
            author=author,
            message=lambda _cur: message,
            expected=dict(expected),
        )

    # ----- publishing ---------------------------------------------------------

    @_locked
    def publish(
        self, semver: str, message: str, *, tagger: Author, ref: str = "draft"
    ) -> TagInfo:
        """Annotated tag ``v<semver>`` on ``ref``'s commit (TagExists if the name is
        taken: tags are immutable), then move ``main`` to it and HEAD to ``main``.
        Ordering between versions is the caller's rule, not checked here."""
        commit = self._commit(ref)
        name = cas.retry(
            self.path,
            self.settings,
            lambda: versions.create_tag(self._repo, commit, semver, message, tagger),
            "create tag",
        )
        self._point_main(commit)
        self._after_write()  # the tag object is one more loose object
        return versions.tag_info(self._repo, name)

    @_locked
    def set_main(self, tag_or_commit: str) -> None:
        """Move ``main`` to a tag's commit or a commit (revert); HEAD -> main."""
        self._point_main(self._commit(tag_or_commit))

    def _point_main(self, commit: pygit2.Commit) -> None:
        # Tag first, then main: a crash in between leaves a tag that the caller's
        # reconciler can finish publishing, never a main without its tag.
        cas.move_ref(self._repo, self.settings, MAIN, commit.id)
        cas.point_head(self._repo, self.settings, MAIN)

    @_locked
    def tags(self) -> list[TagInfo]:
        """Every ``v*`` tag, in semver order (names that are no semver first)."""
        return versions.list_tags(self._repo)

    # ----- housekeeping -------------------------------------------------------

    def maintain(self, *, force: bool = False) -> bool:
        """Run a maintenance job now, in this thread: remove stale lock files;
        pack loose objects once they exceed the threshold (incremental ``git
        repack -d``, or ``git gc --quiet`` with the default prune grace once packs
        pile up); ``force``: ``git gc`` now, waiting for another runner to finish
        first. Writes only schedule this on the process's housekeeping thread.
        Returns True if it packed."""
        wait = housekeeping.FORCED_GC_WAIT if force else 0.0
        return housekeeping.maintain_repo(
            self.path, self.settings, force=force, wait=wait
        )

    def _after_write(self) -> None:
        # Nothing after a commit may turn the answer into an error: scheduling is
        # a dict update on another thread's queue and never raises.
        housekeeping.schedule(self.path, self.settings)
