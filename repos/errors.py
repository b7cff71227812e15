"""The store's exception tree. pygit2 errors never escape ``repos/``: each is wrapped
with ``raise X(...) from exc`` so callers (the API's error handler) map one family."""

from __future__ import annotations


class RepoError(Exception):
    """Base class of every error raised by ``repos``."""


class RepoNotFound(RepoError):
    """No repository for that workspace/config."""


class RepoExists(RepoError):
    """A repository already exists at that place."""


class RefNotFound(RepoError):
    """A ref (branch, tag or commit) does not resolve to a commit."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"ref not found: {ref!r}")
        self.ref = ref


class PathNotFound(RepoError):
    """No file at that path in the tree."""

    def __init__(self, path: str) -> None:
        super().__init__(f"file not found: {path!r}")
        self.path = path


class PathExists(RepoError):
    """A file (or a directory in the way) already exists at that path."""

    def __init__(self, path: str, detail: str = "file already exists") -> None:
        super().__init__(f"{detail}: {path!r}")
        self.path = path


class UnsafePath(RepoError):
    """A path (or a repository id) breaks the path rules of SPEC §2."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"unsafe path {path!r}: {reason}")
        self.path = path
        self.reason = reason


class FileTooLarge(RepoError):
    """A file is larger than the store's limit."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path!r} is {size} bytes; the limit is {limit}")
        self.path = path
        self.size = size
        self.limit = limit


class TooManyFiles(RepoError):
    """A tree would hold more files than the store's limit."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"the tree would hold {count} files; the limit is {limit}")
        self.count = count
        self.limit = limit


class PreconditionFailed(RepoError):
    """The file's current blob id is not the one the writer expected (HTTP 412)."""

    def __init__(self, path: str, current_sha: str | None) -> None:
        super().__init__(f"{path!r} changed; its current blob id is {current_sha}")
        self.path = path
        self.current_sha = current_sha


class TagExists(RepoError):
    """A tag of that name exists; tags are immutable."""

    def __init__(self, name: str) -> None:
        super().__init__(f"tag exists: {name!r}")
        self.name = name


class InvalidVersion(RepoError):
    """A semver string is not ``MAJOR.MINOR.PATCH[-pre][+build]`` (semver.org 2.0)."""


class ConcurrentUpdate(RepoError):
    """A branch kept moving under us: compare-and-swap retries were exhausted."""
