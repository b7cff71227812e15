"""Version tags: ``refs/tags/v<semver>``, annotated, immutable."""

from __future__ import annotations

from typing import Any

import pygit2
import semver as semver_lib
from pygit2.enums import ObjectType

from repos import trees
from repos.errors import InvalidVersion, RefNotFound, TagExists
from repos.types import Author, TagInfo

TAG_PREFIX = "refs/tags/"


def create_tag(
    repo: pygit2.Repository,
    commit: pygit2.Commit,
    semver: str,
    message: str,
    tagger: Author,
) -> str:
    """Create the annotated tag ``v<semver>`` on ``commit``; return its name.

    InvalidVersion unless ``semver`` is semver.org 2.0; TagExists if the name is
    taken (libgit2 refuses to overwrite without force, atomically)."""
    if not isinstance(semver, str) or not semver_lib.Version.is_valid(semver):
        raise InvalidVersion(f"not a semver (MAJOR.MINOR.PATCH): {semver!r}")
    name = f"v{semver}"
    try:
        repo.create_tag(
            name, commit.id, ObjectType.COMMIT, trees.signature(tagger), message
        )
    except pygit2.AlreadyExistsError as exc:
        raise TagExists(name) from exc
    return name


def tag_info(repo: pygit2.Repository, name: str) -> TagInfo:
    """TagInfo of tag ``name`` (e.g. ``v1.2.3``)."""
    ref = repo.references.get(TAG_PREFIX + name)
    if ref is None:
        raise RefNotFound(name)
    obj = repo[ref.target]
    commit = obj.peel(pygit2.Commit)
    if isinstance(obj, pygit2.Tag) and obj.tagger is not None:
        tagger, text = obj.tagger, obj.message
    else:  # a lightweight tag (pushed from outside): borrow the commit's data
        tagger, text = commit.committer, ""
    return TagInfo(
        name=name,
        semver=name[1:],
        commit=str(commit.id),
        tree=str(commit.tree_id),
        message=text,
        tagger=trees.author_of(tagger),
        time=trees.time_of(tagger),
    )


def list_tags(repo: pygit2.Repository) -> list[TagInfo]:
    """Every ``v*`` tag in semver order; names that are no semver come first."""
    names = [
        ref[len(TAG_PREFIX) :]
        for ref in repo.references
        if ref.startswith(TAG_PREFIX + "v")
    ]

    def order(info: TagInfo) -> tuple[int, Any]:
        if semver_lib.Version.is_valid(info.semver):
            return (1, semver_lib.Version.parse(info.semver))
        return (0, info.name)

    return sorted((tag_info(repo, n) for n in names), key=order)
