"""The OpenAPI document tells the truth: schemathesis, with every check and all four
phases (examples, coverage, fuzzing, stateful), against ``ade serve`` (gunicorn, so
the limits it answers before the app are tested too).

The run is described by ``tests/schemathesis.toml``: the path ids are pinned to real
ids seeded here (a workspace, a published config, a config the run may delete, a
document, a finished job, a spare token), so generated requests reach the views
instead of stopping at a 404. It is bounded by example counts (not by time) and
fails on any failure, any 5xx, or a warning that the run could not reach an
operation (missing test data, failed auth).

schemathesis' pytest plugin does not run on pytest 9 (its lazy loader sets
``node._nodeid``), so its CLI runs as a subprocess; ``-s`` shows its output.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.schemas.problem import (
    HEADER_FIELD_BYTES,
    HEADER_FIELDS,
    PROBLEM,
    REQUEST_LINE_BYTES,
)
from tests.jobs_helpers import roster_xlsx
from tests.serve_helpers import Server, ade_env, ade_init, call

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tests" / "schemathesis.toml"
ST = str(Path(sys.executable).with_name("st"))
WS = "/api/v1/workspaces"


def _upload(base: str, token: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = b"".join(
        (
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="roster.xlsx"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    req = urllib.request.Request(f"{base}{WS}/acme/documents", body, method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _ok(result, *statuses: int) -> dict:
    status, body, _headers = result
    assert status in (statuses or (200, 201)), (status, body)
    return body


def _finished_job(base: str, token: str, version: str, document: str) -> str:
    job = _ok(
        call(
            base,
            "POST",
            f"{WS}/acme/jobs",
            token,
            {"config_version_id": version, "input_document_id": document},
        ),
        202,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _ok(call(base, "GET", f"{WS}/acme/jobs/{job['id']}", token))
        if state["status"] in ("succeeded", "failed"):
            assert state["status"] == "succeeded", state
            return job["id"]
        time.sleep(0.2)
    raise AssertionError(f"the seed job did not finish: {state}")


def _worker_token(env: dict[str, str]) -> str:
    """A worker token (the worker calls answer only those): ``ade token create``."""
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("ade")),
            "token",
            "create",
            "--name",
            "st",
            "--worker",
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def seed(base: str, admin: str, env: dict[str, str]) -> dict[str, str]:
    """The ids the run pins (environment variables named in schemathesis.toml)."""

    def post(url: str, body: dict) -> dict:
        return _ok(call(base, "POST", url, admin, body))

    post(WS, {"slug": "acme", "name": "Acme"})
    # Renamed and deleted by the run in place of acme (pinned by id: a rename
    # keeps it reachable).
    scratch = {slug: post(WS, {"slug": slug, "name": slug}) for slug in ("ws1", "ws2")}
    spare = post(f"{WS}/acme/tokens", {"name": "spare", "role": "viewer"})
    for slug in ("fuzzed", "doomed"):
        post(f"{WS}/acme/configs", {"slug": slug, "title": slug})
    version = post(f"{WS}/acme/configs/fuzzed/publish", {"semver": "1.0.0"})
    document = _upload(base, admin, roster_xlsx())
    job = _finished_job(base, admin, version["id"], document["id"])
    dry_run = post(
        f"{WS}/acme/configs/fuzzed/draft:dry-run", {"documentId": document["id"]}
    )
    return {
        "ADE_ST_TOKEN": admin,
        "ADE_ST_TOKEN_ID": spare["id"],
        "ADE_ST_VERSION_ID": version["id"],
        "ADE_ST_DOCUMENT_ID": document["id"],
        "ADE_ST_JOB_ID": job,
        "ADE_ST_DRY_RUN_ID": dry_run["id"],
        "ADE_ST_RENAMED_WS": scratch["ws1"]["id"],
        "ADE_ST_DELETED_WS": scratch["ws2"]["id"],
        "ADE_ST_WORKER_TOKEN": _worker_token(env),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conformance")
    # No rate limits: the run sends more requests a minute than they allow.
    limits = {
        f"ADE_RATE_LIMIT_{k}": "" for k in ("DRY_RUN", "UPLOAD", "JOBS", "PUBLISH")
    }
    env = ade_env(
        tmp / "data",
        ADE_JOB_CONCURRENCY="1",  # the jobs it queues run beside it
        ADE_SANDBOX_WALL_SECONDS="20",
        ADE_DRY_RUN_WALL_SECONDS="20",
        **limits,
    )
    admin = ade_init(env)
    srv = Server(env, tmp / "serve.log")
    srv.start()
    try:
        yield srv, admin, tmp
    finally:
        srv.kill()


def _raw(base: str, request: bytes) -> tuple[int, dict, bytes]:
    """Send ``request`` as is (what no HTTP client would); the status, headers
    and body of the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /api/v1/workspaces?q=" + b"x" * REQUEST_LINE_BYTES + b" HTTP/1.1", 414),
        (
            b"GET /api/v1/workspaces HTTP/1.1\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(HEADER_FIELDS + 1)),
            431,
        ),
        (
            b"GET /api/v1/workspaces HTTP/1.1\r\nX-Big: " + b"x" * HEADER_FIELD_BYTES,
            431,
        ),
        (b"GET /api/v1/\x01 HTTP/1.1", 400),
    ],
    ids=["request-line", "header-count", "header-size", "malformed"],
)
def test_what_gunicorn_refuses_is_problem_json_too(server, request_bytes, status):
    """The limits gunicorn answers before the app, as the document states them."""
    srv, _admin, _tmp = server
    got, headers, body = _raw(srv.base, request_bytes + b"\r\nHost: x\r\n\r\n")
    assert got == status and headers["Content-Type"] == PROBLEM, (got, body)
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"]


@pytest.mark.timeout(600)
def test_schemathesis_finds_nothing(server):
    srv, admin, tmp = server
    env = {**os.environ, **seed(srv.base, admin, srv.env), "PYTHONPATH": str(ROOT)}
    cmd = [
        ST,
        "--config-file",
        str(CONFIG),
        "run",
        f"{srv.base}/api/v1/openapi.json",
        "--no-color",
        "--report-dir",
        str(tmp / "report"),
    ]
    out = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=560
    )
    print(out.stdout[-20000:], out.stderr[-5000:])
    assert out.returncode == 0, _failures(out.stdout + out.stderr)


def _failures(output: str) -> str:
    """The failures and warnings of the run (its banner and progress left out)."""
    start = output.find("=== FAILURES")
    if start < 0:
        start = output.find("=== WARNINGS")
    return output[start if start >= 0 else 0 :][-15000:]
