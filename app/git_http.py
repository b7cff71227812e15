"""Git smart HTTP at ``/git/<ws_slug>/<config_slug>.git`` (a config's clone_url).

This module is the wire: credentials from the request, the spooled request body,
pkt-lines and response headers. Who may touch which repo is
``app.services.git_access``; the git command lines and the push hook are
``app.services.git_commands``; running and reaping git is ``app.git_process``.
Python never builds or holds a pack.

Auth is HTTP Basic with the API token as password (any user name) or a Bearer
header. receive-pack updates the draft under the same ref lock as the API's
compare-and-swap commits, so pushes and saves never lose each other's updates: the
loser of a race is rejected (a push) or retried (a save).
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import Iterator
from typing import IO

from flask import Blueprint, Response, current_app, request

from app import git_process
from app.db import get_session
from app.errors import BadRequest, HttpError, PayloadTooLarge, UnsupportedMediaType
from app.services import git_access
from app.services.access import authenticate
from app.services.errors import NotFound, Unauthenticated, Unavailable
from app.services.git_commands import GitCommands
from app.web import get_settings, get_store, request_context

bp = Blueprint("git_http", __name__, url_prefix="/git")


@bp.before_request
def _limit_body() -> None:
    # The app-wide JSON bound is far too small for packs; _spool_body enforces this
    # one (after un-gzipping, too).
    request.max_content_length = current_app.config["GIT_MAX_REQUEST_BYTES"]


_SERVICES = ", ".join(f"'{name}'" for name in git_access.ROLE_FOR)
CHUNK = 64 * 1024
# Git-Protocol is colon-separated key=value pairs ("version=2"); pass nothing odd.
_PROTOCOL_RE = re.compile(r"[A-Za-z0-9._=:-]{1,256}")
_NO_CACHE = {
    "Cache-Control": "no-cache, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "Fri, 01 Jan 1980 00:00:00 GMT",
}


@bp.get("/<ws_slug>/<config_slug>.git/info/refs")
def info_refs(ws_slug: str, config_slug: str):
    """The ref advertisement that starts every clone, fetch and push."""
    service = request.args.get("service", "")
    if service not in git_access.ROLE_FOR:
        raise NotFound("Only git's smart HTTP protocol is served here.")
    target = git_access.repository(_context(), ws_slug, config_slug, service)
    path, protocol = target.path, _git_protocol(target)
    git = _commands()
    body = git_process.advertise(
        git.command(service, path, advertise=True, only_refs=target.only_refs),
        git.env(protocol),
        path,
    )
    if body is None:
        raise Unavailable("The repository cannot be read right now.")
    if not (service == "git-upload-pack" and "version=2" in protocol.split(":")):
        # v0/v1 over HTTP: the server names the service first (v2 must not).
        body = _pkt_line(f"# service={service}\n") + b"0000" + body
    return Response(
        body, content_type=f"application/x-{service}-advertisement", headers=_NO_CACHE
    )


@bp.post(f"/<ws_slug>/<config_slug>.git/<any({_SERVICES}):service>")
def rpc(ws_slug: str, config_slug: str, service: str):
    """One stateless RPC exchange: the request body in, git's answer streamed out."""
    target = git_access.repository(_context(), ws_slug, config_slug, service)
    path = target.path
    if request.mimetype != f"application/x-{service}-request":
        raise UnsupportedMediaType(f"Expected application/x-{service}-request.")
    git = _commands()
    body = _spool_body(git.max_request_bytes)
    cmd = git.command(service, path, only_refs=target.only_refs)
    # A push adds objects: the store's housekeeping thread packs them later
    # (receive-pack's own auto gc is off, see GitCommands.command).
    store = get_store()
    after = (
        (lambda: store.schedule_maintenance(path))
        if service == "git-receive-pack"
        else None
    )
    return Response(
        git_process.start(
            service, cmd, git.env(_git_protocol(target)), path, body, after
        ),
        content_type=f"application/x-{service}-result",
        headers=_NO_CACHE,
        direct_passthrough=True,
    )


def _context():
    """The service context of a git client: Basic (token as password) or Bearer."""
    auth = request.authorization
    secret = None
    if auth is not None and auth.type == "basic":
        secret = auth.password
    elif auth is not None and auth.type == "bearer":
        secret = auth.token
    principal = authenticate(
        get_session(), secret, current_app.config["AUTH_CACHE_SECONDS"]
    )
    if principal is None:
        # Anonymous and wrong credentials alike: git asks again only after a 401.
        raise Unauthenticated("Authentication required: use an API token as password.")
    return request_context(principal)


def _commands() -> GitCommands:
    """Created once per app: git's HOME and the pre-receive hook."""
    commands = current_app.extensions.get("ade.git_commands")
    if commands is None:
        commands = GitCommands.install(get_settings(), get_store())
        current_app.extensions["ade.git_commands"] = commands
    return commands


def _git_protocol(target: git_access.GitTarget) -> str:
    if target.only_refs is not None:
        # v0 for a worker: there upload-pack refuses wants that are not advertised
        # tips, so hidden refs cannot be fetched by their object id.
        return ""
    value = request.headers.get("Git-Protocol", "")
    return value if _PROTOCOL_RE.fullmatch(value) else ""


def _pkt_line(text: str) -> bytes:
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


def _spool_body(limit: int) -> IO[bytes]:
    """The request body (gunzipped) in a temporary file: pushes of any size arrive
    chunked without Content-Length, and git reads its stdin from a real file."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise UnsupportedMediaType(f"Unsupported Content-Encoding {encoding!r}.")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if "gzip" in encoding else None
    spool = tempfile.TemporaryFile()
    total = 0
    try:
        for piece in _pieces(request.stream, inflate):
            total += len(piece)
            if total > limit:
                raise PayloadTooLarge(f"The request is larger than {limit} bytes.")
            spool.write(piece)
    except zlib.error as exc:
        spool.close()
        raise BadRequest(f"The gzip request body is corrupt: {exc}") from exc
    except HttpError:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _pieces(stream: IO[bytes], inflate) -> Iterator[bytes]:
    """The body in pieces of at most CHUNK bytes, inflated when compressed, so a
    small gzip bomb never becomes a large buffer."""
    while chunk := stream.read(CHUNK):
        if inflate is None:
            yield chunk
            continue
        while chunk:
            yield inflate.decompress(chunk, CHUNK)
            chunk = inflate.unconsumed_tail
    if inflate is not None:
        yield inflate.flush()
