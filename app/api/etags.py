"""Entity tags at the edge: parsing ``If-Match``/``If-None-Match`` and saying when
one is required. Services get the parsed tags (blob ids or sha256), never headers.

``If-Match`` is ``*`` or a comma-separated list of entity tags (RFC 9110), each
quoted (``"<sha>"``), weak (``W/"<sha>"``) or, since hand-written scripts send it,
bare (``<sha>``). ``IF_MATCH_PATTERN`` is that grammar: the schemas validate the
header with it (a malformed or empty header is a 400 saying so) and the OpenAPI
document states it; a missing header is 428 where one is required.
"""

from __future__ import annotations

import re

from app.errors import PreconditionRequired

_OWS = r"[ \t]*"
# etagc of RFC 9110 (obs-text included: headers arrive as latin-1).
_QUOTED = r'(?:W/)?"[\u0021\u0023-\u007e\u0080-\u00ff]*"'
# Bare: no quote, comma or "*" (which stands alone).
_BARE = r"[\u0021\u0023-\u0029\u002b\u002d-\u007e\u0080-\u00ff]+"
_TAG = rf"(?:{_QUOTED}|{_BARE})"
IF_MATCH_PATTERN = rf"^{_OWS}(?:\*|{_TAG}(?:{_OWS},{_OWS}{_TAG})*){_OWS}$"
_IF_MATCH_RE = re.compile(IF_MATCH_PATTERN)
_TAG_RE = re.compile(rf'{_OWS}(?:W/)?"?([^",]*?)"?{_OWS}')

IF_MATCH_RULE = (
    "`*` or a comma-separated list of entity tags: the file's blob id (its ETag) "
    'or the sha256 of its content, quoted ("…"), weak (W/"…") or bare.'
)


def valid_if_match(header: str) -> bool:
    return _IF_MATCH_RE.fullmatch(header) is not None


def parse_etags(header: str | None) -> list[str] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` header, or None when
    it is absent. Quoted, unquoted and weak (``W/``) tags are all accepted, since
    hand-written scripts send every form; ``*`` stays ``*``. (``If-None-Match``
    is not held to the grammar: a tag it cannot read just matches nothing.)"""
    if header is None:
        return None
    tags = []
    for part in header.split(","):
        match = _TAG_RE.fullmatch(part)
        tags.append((match.group(1) if match else part.strip()).lower())
    return tags


def if_match(header: str | None, path: str, *, required: bool) -> list[str] | None:
    """The tags a write must match: None when none was sent and none is required.
    The header's grammar is the schema's to check (``IfMatchSchema``)."""
    if header is None:
        if required:
            raise PreconditionRequired(
                f"Updating {path!r} needs an If-Match header with its ETag."
            )
        return None
    return parse_etags(header)


def etag_header(sha: str) -> dict:
    return {"ETag": f'"{sha}"'}
