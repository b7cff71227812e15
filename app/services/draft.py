"""A config's draft as the draft services see it, and the If-Match rule for its files.

The ETag of a file is its git blob id. A writer may also name the file by its
content's sha256 (scripts of the original plan read ``.sha256``): that is translated
into the blob id read here, and the blob id is what the store's compare-and-swap
re-checks when it commits, so the check and the write are one atomic step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from app.services import access
from app.services.access import ConfigRef
from app.services.context import Context
from app.services.errors import Stale
from repos.repo import ConfigRepo
from repos.types import Author, FileContent


@dataclass(frozen=True)
class Draft:
    """What a draft operation needs: the config, its repo, the commit author."""

    config: ConfigRef
    repo: ConfigRepo
    author: Author


def open_draft(ctx: Context, ws_ref: str, config_ref: str, role: str) -> Draft:
    """Resolve workspace and config for the caller (one query) and open the repo
    (kept open per thread by the store)."""
    config = access.config_ref(ctx, ws_ref, config_ref, role)
    repo = ctx.store.open(config.workspace_id, config.id)
    return Draft(config, repo, ctx.author())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def names(tags: Sequence[str], file: FileContent) -> bool:
    """True if one of ``tags`` names ``file`` by blob id or sha256 (or is ``*``)."""
    if "*" in tags or file.sha in tags:
        return True
    return any(len(t) == 64 for t in tags) and sha256_hex(file.data) in tags


def require_version(tags: Sequence[str], file: FileContent) -> None:
    """Stale (with ``current_etag``) unless ``tags`` name the file as it is now."""
    if not names(tags, file):
        raise Stale(
            f"{file.path!r} has changed; reload it and retry.", current_etag=file.sha
        )
