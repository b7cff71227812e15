"""Entity tags at the edge: parsing ``If-Match``/``If-None-Match`` and saying when
one is required. Services get the parsed tags (blob ids or sha256), never headers."""

from __future__ import annotations

import re

from app.errors import PreconditionRequired

_ETAG_RE = re.compile(r'\s*(?:W/)?"?([^",\s]*)"?\s*')


def parse_etags(header: str | None) -> list[str] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` header, or None when
    it is absent. Quoted, unquoted and weak (``W/``) tags are all accepted, since
    hand-written scripts send every form; ``*`` stays ``*``."""
    if header is None:
        return None
    tags = []
    for part in header.split(","):
        match = _ETAG_RE.fullmatch(part)
        tag = match.group(1) if match else part.strip()
        if tag:
            tags.append(tag.lower())
    return tags


def if_match(header: str | None, path: str, *, required: bool) -> list[str] | None:
    """The tags a write must match: None when none was sent and none is required.
    Present but empty is refused too: a client that meant to guard its write must
    not get an unguarded one."""
    tags = parse_etags(header)
    if not tags and (required or tags is not None):
        raise PreconditionRequired(
            f"Updating {path!r} needs an If-Match header with its ETag."
        )
    return tags or None


def etag_header(sha: str) -> dict:
    return {"ETag": f'"{sha}"'}
