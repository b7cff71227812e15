"""Plain, frozen return types of the store. Never pygit2 objects (STYLE rule 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Author:
    """Who made a commit or a tag."""

    name: str
    email: str


@dataclass(frozen=True)
class FileEntry:
    """One file of a tree; ``sha`` is its git blob id (the file's ETag)."""

    path: str
    sha: str
    size: int


@dataclass(frozen=True)
class FileContent:
    """A file with its bytes."""

    path: str
    sha: str
    size: int
    data: bytes


@dataclass(frozen=True)
class FileChange:
    """One path changed by a write: ``sha`` is the new blob id, None when deleted."""

    path: str
    sha: str | None
    size: int


@dataclass(frozen=True)
class WriteResult:
    """The commit a mutation made (or the unchanged tip for a no-op write)."""

    commit: str
    tree: str
    changes: tuple[FileChange, ...]


@dataclass(frozen=True)
class CommitInfo:
    """One commit of a branch; ``paths`` changed against its first parent."""

    sha: str
    tree: str
    message: str
    author: Author
    time: datetime
    paths: tuple[str, ...]


@dataclass(frozen=True)
class TagInfo:
    """A version tag ``v<semver>``; ``tree`` is the version's files_hash."""

    name: str
    semver: str
    commit: str
    tree: str
    message: str
    tagger: Author
    time: datetime


@dataclass(frozen=True)
class DiffEntry:
    """One file of a diff; ``status`` is ``added``, ``modified`` or ``deleted``."""

    path: str
    status: str
    patch: str
    additions: int
    deletions: int
