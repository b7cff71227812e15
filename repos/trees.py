"""Conversions from pygit2 objects to the store's plain types, and tree walking.

Kept apart from ``repo.py`` so the class there reads as the store's behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pygit2
from pygit2.enums import FileMode, ObjectType

from repos.errors import FileTooLarge, TooManyFiles, UnsafePath
from repos.paths import validate_path
from repos.types import Author, DiffEntry

_STATUS = {"A": "added", "D": "deleted", "M": "modified", "T": "modified"}


def signature(author: Author) -> pygit2.Signature:
    """A git signature for ``author``; characters git cannot store are dropped
    (angle brackets and line breaks end a signature field) rather than failing
    a user's save over their display name."""

    def clean(text: str, fallback: str) -> str:
        kept = "".join(ch for ch in str(text) if ch not in "<>\r\n\0").strip()
        return kept or fallback

    return pygit2.Signature(
        clean(author.name, "unknown"), clean(author.email, "unknown")
    )


def author_of(sig: pygit2.Signature) -> Author:
    """Plain Author from a pygit2 signature."""
    return Author(name=sig.name, email=sig.email)


def time_of(sig: pygit2.Signature) -> datetime:
    """Timezone-aware time of a signature, in the signer's own offset."""
    return datetime.fromtimestamp(sig.time, timezone(timedelta(minutes=sig.offset)))


def entry_name(entry: pygit2.Object) -> str:
    """An entry's name; undecodable bytes survive as surrogates so that the path
    guard, not a UnicodeDecodeError, rejects them."""
    try:
        return entry.name
    except UnicodeDecodeError:
        return entry.raw_name.decode("utf-8", "surrogateescape")


def walk(
    repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = ""
) -> Iterator[tuple[str, pygit2.Object]]:
    """Yield ``(path, entry)`` for every non-tree entry, depth first, sorted."""
    for entry in tree:
        path = prefix + entry_name(entry)
        if entry.filemode == FileMode.TREE:
            yield from walk(repo, repo[entry.id], path + "/")
        else:
            yield path, entry


def count_files(repo: pygit2.Repository, tree: pygit2.Tree) -> int:
    """Number of non-tree entries (reads tree objects only, never blobs)."""
    return sum(1 for _ in walk(repo, tree))


def build_tree(
    repo: pygit2.Repository,
    base: pygit2.Tree | None,
    changes: dict[str, pygit2.Oid | None],
) -> pygit2.Oid | None:
    """Write the tree ``base`` + ``changes`` (path -> blob id, None = delete);
    return its id, or None if it ends up empty.

    Only the trees on the changed paths are rewritten, one TreeBuilder per
    directory level. (An in-memory Index would be simpler, but ``write_tree``
    re-validates every entry of the whole tree, i.e. opens every loose blob of
    the config on every save.) Directories left empty disappear, as in git.
    """
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    nested: dict[str, dict[str, pygit2.Oid | None]] = {}
    for path, oid in changes.items():
        head, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(head, {})[rest] = oid
        elif oid is None:
            if builder.get(head) is not None:
                builder.remove(head)
        else:
            builder.insert(head, oid, FileMode.BLOB)
    for name, sub_changes in nested.items():
        existing = builder.get(name)
        sub_base = (
            repo[existing.id]
            if existing is not None and existing.filemode == FileMode.TREE
            else None
        )
        sub_tree = build_tree(repo, sub_base, sub_changes)
        if sub_tree is None:
            if existing is not None:
                builder.remove(name)
        else:
            builder.insert(name, sub_tree, FileMode.TREE)
    if len(builder) == 0 and base is not None:
        return None
    return builder.write()


def is_file(entry: pygit2.Object) -> bool:
    """A regular (or executable) file; not a symlink, submodule or tree."""
    return entry.filemode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)


def blob_size(repo: pygit2.Repository, oid: pygit2.Oid) -> int:
    """Size of a blob from the object header, without inflating its content."""
    _kind, size = repo.odb.read_header(oid)
    return size


def lookup(tree: pygit2.Tree | None, path: str) -> pygit2.Object | None:
    """The tree entry at ``path``, or None when nothing is there."""
    if tree is None:
        return None
    try:
        return tree[path]
    except KeyError:
        return None


def blob_id_at(tree: pygit2.Tree | None, path: str) -> str | None:
    """Blob id of the file at ``path`` (None if absent or not a file)."""
    obj = lookup(tree, path)
    if obj is None or obj.type != ObjectType.BLOB:
        return None
    return str(obj.id)


def changed_paths(commit: pygit2.Commit) -> tuple[str, ...]:
    """Paths changed by ``commit`` against its first parent (all, for a root)."""
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    paths = {
        d.new_file.path if d.status_char() != "D" else d.old_file.path
        for d in diff.deltas
    }
    return tuple(sorted(paths))


def diff_entries(diff: pygit2.Diff) -> list[DiffEntry]:
    """DiffEntry per changed file, sorted by path."""
    out = []
    for patch in diff:
        if patch is None:  # pygit2 yields None for unchanged deltas
            continue
        delta = patch.delta
        char = delta.status_char()
        path = delta.old_file.path if char == "D" else delta.new_file.path
        _context, additions, deletions = patch.line_stats
        out.append(
            DiffEntry(
                path=path,
                status=_STATUS.get(char, "modified"),
                patch=patch.text or "",
                additions=additions,
                deletions=deletions,
            )
        )
    return sorted(out, key=lambda e: e.path)


def problems(
    repo: pygit2.Repository, tree: pygit2.Tree, max_file_bytes: int, max_files: int
) -> list[str]:
    """Every reason ``tree`` may not become a draft: unsafe paths, links or
    submodules, files over ``max_file_bytes``, more than ``max_files`` files."""
    found: list[str] = []
    count = 0
    for path, entry in walk(repo, tree):
        try:
            validate_path(path)
        except UnsafePath as exc:
            found.append(str(exc))
        if not is_file(entry):
            found.append(f"{path!r}: only regular files are allowed")
            continue
        count += 1
        size = blob_size(repo, entry.id)
        if size > max_file_bytes:
            found.append(str(FileTooLarge(path, size, max_file_bytes)))
    if count > max_files:
        found.append(str(TooManyFiles(count, max_files)))
    return found
