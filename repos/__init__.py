"""The git-backed config store (pygit2). No Flask, no environment reads.

Entry point: ``Store(root)`` → ``ConfigRepo``; see SPEC §2 for the git layout.
"""

from repos.errors import (
    ConcurrentUpdate,
    FileTooLarge,
    InvalidVersion,
    PathExists,
    PathNotFound,
    PreconditionFailed,
    RefNotFound,
    RepoError,
    RepoExists,
    RepoNotFound,
    TagExists,
    TooManyFiles,
    UnsafePath,
)
from repos.paths import validate_path
from repos.repo import ConfigRepo, RepoSettings
from repos.store import Store
from repos.types import (
    Author,
    CommitInfo,
    DiffEntry,
    FileChange,
    FileContent,
    FileEntry,
    TagInfo,
    WriteResult,
)

__all__ = [
    "Author",
    "CommitInfo",
    "ConcurrentUpdate",
    "ConfigRepo",
    "DiffEntry",
    "FileChange",
    "FileContent",
    "FileEntry",
    "FileTooLarge",
    "InvalidVersion",
    "PathExists",
    "PathNotFound",
    "PreconditionFailed",
    "RefNotFound",
    "RepoError",
    "RepoExists",
    "RepoNotFound",
    "RepoSettings",
    "Store",
    "TagExists",
    "TagInfo",
    "TooManyFiles",
    "UnsafePath",
    "WriteResult",
    "validate_path",
]
