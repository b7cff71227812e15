"""The directory of all config repositories: ``<root>/<workspace>/<config>.git``."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import pygit2

from repos import housekeeping, maintenance, trees
from repos.errors import (
    FileTooLarge,
    PathExists,
    RepoError,
    RepoExists,
    RepoNotFound,
    TooManyFiles,
)
from repos.paths import validate_id, validate_path
from repos.repo import DRAFT, ConfigRepo, RepoSettings
from repos.types import Author

OPEN_REPOS_PER_THREAD = 32


class _OpenRepos(threading.local):
    """This thread's open repositories, least recently used first."""

    def __init__(self) -> None:
        self.repos: OrderedDict[Path, tuple[tuple[int, int, int], ConfigRepo]] = (
            OrderedDict()
        )


class Store:
    """Creates, opens and deletes bare config repositories under ``root``.

    Limits: ``max_file_bytes`` per file, ``max_files`` per tree. Housekeeping
    (``repos.housekeeping``, on a thread, ``maintenance_delay`` seconds after a
    write): loose objects are packed once they exceed ``gc_loose_objects``; ref
    locks older than ``stale_lock_seconds`` are treated as a killed writer's and
    removed; a CAS write gives up with ConcurrentUpdate after ``retry_seconds``.
    ``host_lock`` adds an ``flock`` around each write attempt (fewer wasted
    retries on one host; correctness never depends on it).
    """

    def __init__(
        self,
        root: Path,
        *,
        max_file_bytes: int = 512 * 1024,
        max_files: int = 2000,
        gc_loose_objects: int = 200,
        stale_lock_seconds: float = 5.0,
        retry_seconds: float = 10.0,
        host_lock: bool = True,
        maintenance_delay: float = 1.0,
        git: str = "git",
    ) -> None:
        self.root = Path(root)
        self.settings = RepoSettings(
            max_file_bytes=max_file_bytes,
            max_files=max_files,
            gc_loose_objects=gc_loose_objects,
            stale_lock_seconds=stale_lock_seconds,
            retry_seconds=retry_seconds,
            host_lock=host_lock,
            maintenance_delay=maintenance_delay,
            git=maintenance.find_git(git),
        )
        self._open = _OpenRepos()

    def repo_path(self, workspace_id: str, config_id: str) -> Path:
        """``<root>/<workspace_id>/<config_id>.git``; ids are checked (UnsafePath)."""
        validate_id(workspace_id, "workspace id")
        validate_id(config_id, "config id")
        return self.root / workspace_id / f"{config_id}.git"

    def exists(self, workspace_id: str, config_id: str) -> bool:
        """True if the repository is there."""
        return (self.repo_path(workspace_id, config_id) / "HEAD").is_file()

    def open(self, workspace_id: str, config_id: str) -> ConfigRepo:
        """The repository; RepoNotFound if there is none.

        Kept open per thread (opening one costs ~0.3 ms of a ~3 ms read): each
        thread has its own instances, so nothing is shared between threads and
        no lock is contended. An instance is reused only while its directory is
        the one it opened (same inode and ctime): a repo deleted (renamed away)
        is not found, and one created again at the same path is opened anew.
        """
        path = self.repo_path(workspace_id, config_id)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._open.repos.pop(path, None)
            raise RepoNotFound(f"{workspace_id}/{config_id}") from None
        identity = (st.st_dev, st.st_ino, st.st_ctime_ns)
        cached = self._open.repos.get(path)
        if cached is not None and cached[0] == identity:
            self._open.repos.move_to_end(path)
            return cached[1]
        if not (path / "HEAD").is_file():
            raise RepoNotFound(f"{workspace_id}/{config_id}")
        repo = ConfigRepo(path, self.settings)
        self._open.repos[path] = (identity, repo)
        if len(self._open.repos) > OPEN_REPOS_PER_THREAD:
            # Dropped, not closed: a caller of this thread may still hold it.
            self._open.repos.popitem(last=False)
        return repo

    def schedule_maintenance(self, path: Path) -> None:
        """Have this process's housekeeping thread look at the repo at ``path``
        soon (after objects arrived other than through ``ConfigRepo``: a push).
        Never raises."""
        housekeeping.schedule(Path(path), self.settings)

    def list_configs(self, workspace_id: str) -> list[str]:
        """Config ids that have a repository in the workspace, sorted."""
        base = self.root / validate_id(workspace_id, "workspace id")
        if not base.is_dir():
            return []
        return sorted(
            p.name[: -len(".git")]
            for p in base.glob("*.git")
            if not p.name.startswith(".") and (p / "HEAD").is_file()
        )

    def create(
        self,
        workspace_id: str,
        config_id: str,
        files: Mapping[str, bytes],
        author: Author,
        message: str = "Create config",
    ) -> ConfigRepo:
        """A new bare repo whose draft holds ``files`` in one first commit; HEAD
        names ``draft``. Built in a temporary directory and renamed into place, so
        a repo is either complete or absent, and two creators cannot both win."""
        path = self.repo_path(workspace_id, config_id)
        if path.exists():
            raise RepoExists(f"{workspace_id}/{config_id}")
        self._check_files(files)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".tmp-{config_id}-{uuid.uuid4().hex}.git"
        try:
            self._build(tmp, files, author, message)
            try:
                os.rename(tmp, path)  # fails if path exists (non-empty directory)
            except OSError as exc:
                raise RepoExists(f"{workspace_id}/{config_id}") from exc
        except pygit2.GitError as exc:
            raise RepoError(f"cannot create {path}: {exc}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return ConfigRepo(path, self.settings)

    def delete(self, workspace_id: str, config_id: str) -> None:
        """Remove the repository (RepoNotFound if absent). It is renamed away
        first so that nobody opens a half-deleted repo."""
        path = self.repo_path(workspace_id, config_id)
        if not path.exists():
            raise RepoNotFound(f"{workspace_id}/{config_id}")
        self._open.repos.pop(path, None)  # other threads notice by the stat
        trash = path.parent / f".del-{config_id}-{uuid.uuid4().hex}.git"
        try:
            os.rename(path, trash)
        except FileNotFoundError as exc:
            raise RepoNotFound(f"{workspace_id}/{config_id}") from exc
        shutil.rmtree(trash, ignore_errors=True)

    def _check_files(self, files: Mapping[str, bytes]) -> None:
        if len(files) > self.settings.max_files:
            raise TooManyFiles(len(files), self.settings.max_files)
        for path, data in files.items():
            validate_path(path)
            if len(data) > self.settings.max_file_bytes:
                raise FileTooLarge(path, len(data), self.settings.max_file_bytes)
        for path in files:
            parts = path.split("/")
            for depth in range(1, len(parts)):
                if "/".join(parts[:depth]) in files:
                    raise PathExists(path, "a file is in the way of")

    def _build(
        self, tmp: Path, files: Mapping[str, bytes], author: Author, message: str
    ) -> None:
        repo = pygit2.init_repository(str(tmp), bare=True, initial_head="draft")
        index = pygit2.Index()
        for path, data in files.items():
            blob = repo.create_blob(bytes(data))
            index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
        tree = index.write_tree(repo)
        sig = trees.signature(author)
        repo.create_commit(DRAFT, sig, sig, message, tree, [])
