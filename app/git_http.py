"""Git smart HTTP at ``/git/<ws_slug>/<config_slug>.git`` (a config's clone_url).

git's own server programs do the protocol work: ``upload-pack`` (clone, fetch;
protocol v0 and v2) and ``receive-pack`` (push) run with ``--stateless-rpc``, one
process per request, fed a spooled request body and streamed back to the client.
Python never builds or holds a pack.

Auth is HTTP Basic with the API token as password (any user name) or a Bearer
header: viewers clone and fetch, authors push. A push is judged inside
receive-pack's transaction by a ``pre-receive`` hook (``app.services.push``) that
receive-pack finds through ``-c core.hooksPath``, so existing repos need no setup and
nothing outside the draft moves. receive-pack updates the draft under the same ref
lock as the API's compare-and-swap commits, so pushes and saves never lose each
other's updates: the loser of a race is rejected (a push) or retried (a save).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from app.auth import Principal, authenticate, find_workspace, role_allows
from app.db import get_session
from app.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from app.models import Config
from app.services import push
from app.services.store import get_store
from repos.maintenance import git_env

log = logging.getLogger(__name__)
bp = Blueprint("git_http", __name__, url_prefix="/git")


@bp.before_request
def _limit_body() -> None:
    # The app-wide JSON bound is far too small for packs; _spool_body enforces this
    # one (after un-gzipping, too).
    request.max_content_length = current_app.config["GIT_MAX_REQUEST_BYTES"]


ROLE_FOR = {"git-upload-pack": "viewer", "git-receive-pack": "author"}
_SERVICES = ", ".join(f"'{name}'" for name in ROLE_FOR)
CHUNK = 64 * 1024
# Git-Protocol is colon-separated key=value pairs ("version=2"); pass nothing odd.
_PROTOCOL_RE = re.compile(r"[A-Za-z0-9._=:-]{1,256}")
_NO_CACHE = {
    "Cache-Control": "no-cache, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "Fri, 01 Jan 1980 00:00:00 GMT",
}
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class _Runtime:
    """Per-app paths and the git command lines' fixed parts."""

    home: Path
    hooks: Path
    git: str
    max_request_bytes: int


# ----- views -------------------------------------------------------------------


@bp.get("/<ws_slug>/<config_slug>.git/info/refs")
def info_refs(ws_slug: str, config_slug: str):
    """The ref advertisement that starts every clone, fetch and push."""
    service = request.args.get("service", "")
    if service not in ROLE_FOR:
        raise NotFound("Only git's smart HTTP protocol is served here.")
    path = _repo_for(ws_slug, config_slug, ROLE_FOR[service])
    protocol = _git_protocol()
    proc = subprocess.run(
        _command(service, path, advertise=True),
        env=_env(protocol),
        cwd=path,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        log.error("%s --advertise-refs failed: %s", service, proc.stderr[-2000:])
        raise ServiceUnavailable("The repository cannot be read right now.")
    body = proc.stdout
    if not (service == "git-upload-pack" and "version=2" in protocol.split(":")):
        # v0/v1 over HTTP: the server names the service first (v2 must not).
        body = _pkt_line(f"# service={service}\n") + b"0000" + body
    return Response(
        body, content_type=f"application/x-{service}-advertisement", headers=_NO_CACHE
    )


@bp.post(f"/<ws_slug>/<config_slug>.git/<any({_SERVICES}):service>")
def rpc(ws_slug: str, config_slug: str, service: str):
    """One stateless RPC exchange: the request body in, git's answer streamed out."""
    path = _repo_for(ws_slug, config_slug, ROLE_FOR[service])
    if request.mimetype != f"application/x-{service}-request":
        raise UnsupportedMediaType(f"Expected application/x-{service}-request.")
    body = _spool_body(_runtime().max_request_bytes)
    return Response(
        _stream(service, _command(service, path), _env(_git_protocol()), path, body),
        content_type=f"application/x-{service}-result",
        headers=_NO_CACHE,
        direct_passthrough=True,
    )


# ----- who may touch which repo ----------------------------------------------------


def _principal() -> Principal:
    auth = request.authorization
    secret = None
    if auth is not None and auth.type == "basic":
        secret = auth.password
    elif auth is not None and auth.type == "bearer":
        secret = auth.token
    principal = authenticate(get_session(), secret)
    if principal is None:
        # Anonymous and wrong credentials alike: git asks again only after a 401.
        raise Unauthorized("Authentication required: use an API token as password.")
    return principal


def _repo_for(ws_slug: str, config_slug: str, role: str) -> Path:
    """The repo path for the caller: 401 anonymous, 404 outside the workspace or
    no such config, 403 below ``role``."""
    principal = _principal()
    session = get_session()
    workspace = find_workspace(session, ws_slug)
    allowed = None if workspace is None else role_allows(principal, workspace.id, role)
    config = None
    if allowed is not None:
        config = session.scalar(
            select(Config).where(
                Config.workspace_id == workspace.id, Config.slug == config_slug
            )
        )
    store = get_store()
    if config is None or not store.exists(workspace.id, config.id):
        raise NotFound(f"Repository {ws_slug}/{config_slug}.git not found.")
    if not allowed:
        raise Forbidden(
            f"Pushing needs the {role!r} role; this token ({principal.name}) is a "
            f"{principal.role!r}."
        )
    return store.repo_path(workspace.id, config.id)


# ----- running git ---------------------------------------------------------------


def _runtime() -> _Runtime:
    """Create once per app: an empty HOME for git and the pre-receive hook."""
    runtime = current_app.extensions.get("ade.git_http")
    if runtime is None:
        cfg = current_app.config
        if cfg["GIT_PUSH_GUARDRAILS"] not in ("warn", "block"):
            raise ValueError("GIT_PUSH_GUARDRAILS must be 'warn' or 'block'")
        store = get_store()
        base = cfg["DATA_DIR"] / "git-http"
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        args = [
            "--max-file-bytes",
            str(cfg["MAX_FILE_BYTES"]),
            "--max-files",
            str(cfg["MAX_FILES"]),
            "--git",
            store.settings.git,
            "--guardrails",
            cfg["GIT_PUSH_GUARDRAILS"],
        ]
        runtime = _Runtime(
            home=home,
            hooks=_install_hook(base, args),
            git=store.settings.git,
            max_request_bytes=cfg["GIT_MAX_REQUEST_BYTES"],
        )
        current_app.extensions["ade.git_http"] = runtime
    return runtime


def _install_hook(base: Path, args: list[str]) -> Path:
    """Write ``pre-receive`` into a directory named after its content, so apps
    with other settings (or another Python) never share a stale hook."""
    script = "#!/bin/sh\nexec " + shlex.join(
        [sys.executable, "-P", push.__file__, *args]
    )
    script += "\n"
    hooks = base / ("hooks-" + hashlib.sha256(script.encode()).hexdigest()[:16])
    target = hooks / "pre-receive"
    if not target.is_file():
        hooks.mkdir(parents=True, exist_ok=True)
        tmp = hooks / f".pre-receive-{uuid.uuid4().hex}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        os.replace(tmp, target)  # atomic: a concurrent push sees all or nothing
    return hooks


def _command(service: str, path: Path, *, advertise: bool = False) -> list[str]:
    runtime = _runtime()
    if service == "git-upload-pack":
        config = {"uploadpack.allowFilter": "true"}
    else:
        config = {
            "core.hooksPath": str(runtime.hooks),
            "receive.fsckObjects": "true",
            "receive.denyDeletes": "true",
            "receive.denyNonFastForwards": "true",
            "receive.maxInputSize": str(runtime.max_request_bytes),
            "receive.advertisePushOptions": "false",
        }
    cmd = [runtime.git]
    for key, value in config.items():
        cmd += ["-c", f"{key}={value}"]
    cmd += [service.removeprefix("git-"), "--stateless-rpc"]
    if advertise:
        cmd.append("--advertise-refs")
    return [*cmd, str(path)]


def _env(protocol: str) -> dict[str, str]:
    env = git_env(str(_runtime().home))
    env["PYTHONPATH"] = str(_ROOT)  # for the hook: repos/ and runner/
    if protocol:
        env["GIT_PROTOCOL"] = protocol
    return env


def _git_protocol() -> str:
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
    except ServiceError:
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


def _stream(
    service: str, cmd: list[str], env: dict, path: Path, body: IO[bytes]
) -> _GitOutput:
    """Start ``cmd`` on ``body``; its stdout becomes the response body."""
    stderr = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(
            cmd, stdin=body, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=path
        )
    except BaseException:
        stderr.close()
        raise
    finally:
        body.close()  # the child holds its own descriptor
    return _GitOutput(service, proc, stderr)


class _GitOutput:
    """A WSGI body that yields git's stdout as it comes. The server calls
    ``close`` when the response ends, is abandoned by the client, or is never
    iterated at all: git is reaped (killed if still running) in every case."""

    def __init__(self, service: str, proc: subprocess.Popen, stderr: IO[bytes]):
        self.service, self.proc, self.stderr = service, proc, stderr
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.proc.stdout.read1(CHUNK):
            yield chunk
        self.finished = True

    def close(self) -> None:
        proc = self.proc
        try:
            # After EOF git is exiting; before it, nobody will read the rest.
            proc.wait(timeout=30 if self.finished else 0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if proc.returncode:
            self.stderr.seek(0)
            log.warning(
                "%s exited %s: %s",
                self.service,
                proc.returncode,
                self.stderr.read(4000).decode(errors="replace"),
            )
        self.stderr.close()
