"""Stateless workers across hosts, with real isolation on one machine.

The API (``ade serve``, Celery backend, PostgreSQL over its unix socket, a private
Redis as the broker) runs in one network namespace; two ``ade worker --api``
processes run in two others, as uids that cannot read the API's data dir, with
``/run`` hidden (no database socket) and no route anywhere but the API's subnet.
30 jobs over 5 configs all succeed, a worker fetches each version once (cache hits
after, from its metrics); then a worker's namespace is torn down mid-job and the
job succeeds on the other worker at attempt 2; nothing stays running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app.jobs.api_client import ApiClient, ApiError
from app.services.tokens import create_token
from tests.conftest import IN_CI
from tests.jobs_helpers import roster_xlsx
from tests.netns_helpers import Hosts, sh
from tests.sandbox_helpers import POOL_SIZE

ADE = str(Path(sys.executable).with_name("ade"))
PY = sys.executable
API_PORT, BROKER_PORT, METRICS_PORT = 8000, 6390, 9464
UIDS = {1: 2_100_000_001, 2: 2_100_000_002}  # no passwd entry needed
CONFIGS, JOBS_PER_CONFIG = 5, 6

# Busy for 5 s, once per run (detectors run once per column): time enough to cut
# the worker's host off mid-run. Only allow-listed imports (publish checks them).
SLOW_EMAIL = '''"""Email column that thinks hard, once, before answering."""

import datetime

WAITED = []


def detect_slowly(*, header, **_):
    if not WAITED:
        end = datetime.datetime.now() + datetime.timedelta(seconds=5)
        while datetime.datetime.now() < end:
            pass
        WAITED.append(1)
    return 1.0 if header and "mail" in header.lower() else 0
'''

# Run as a worker (same namespace, uid and hidden /run): what can it reach?
PROBE = r"""
import json, os, socket, sys
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return "open"
    except OSError as exc:
        return type(exc).__name__
def unix(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return "open"
    except OSError as exc:
        return type(exc).__name__
def listing(path):
    try:
        os.listdir(path)
        return "open"
    except OSError as exc:
        return type(exc).__name__
api, ctl, data = sys.argv[1:4]
print(json.dumps({
    "api": tcp(api, 8000), "broker": tcp(api, 6390),
    "pg_local": tcp("127.0.0.1", 5432), "redis_local": tcp("127.0.0.1", 6379),
    "pg_api_side": tcp(api, 5432), "root_ns": tcp(ctl, 2024),
    "pg_socket": unix("/run/postgresql/.s.PGSQL.5432"),
    "data_dir": listing(data),
}))
"""


def _expose_python(stage: Path) -> str:
    """Shell steps (run as root in the worker's own mount namespace) that let
    another uid use this interpreter when it lives under a private directory
    (pyenv under /root): that directory is replaced, in that namespace only, by
    a tmpfs holding just the interpreter's prefix."""
    base = os.path.realpath(sys.base_prefix)
    parts = Path(base).parts
    for n in range(2, len(parts) + 1):
        blocked = str(Path(*parts[:n]))
        if not os.stat(blocked).st_mode & 0o001:
            rel = os.path.relpath(base, blocked)
            return (
                f"mkdir -p {stage} && mount --bind {base} {stage} && "
                f"mount -t tmpfs -o size=1m,mode=755 ade-py {blocked} && "
                f"mkdir -p {blocked}/{rel} && mount --bind {stage} {blocked}/{rel} && "
            )
    return ""


def _need_root():
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the multi-host test needs root (network namespaces) in CI")
        pytest.skip("needs root: network namespaces, veth pairs and other uids")
    for tool in ("ip", "redis-server", "setpriv"):
        if shutil.which(tool) is None:
            if IN_CI:
                pytest.fail(f"{tool} is required in CI")
            pytest.skip(f"{tool} not found")


def _unix_socket_url(pg_url: str) -> str:
    """The same database through PostgreSQL's unix socket (the API namespace has
    no route to 127.0.0.1 of the root namespace; the socket is a file)."""
    parts = urlsplit(pg_url)
    return f"{parts.scheme}://{parts.username}@/{parts.path.lstrip('/')}?host=/run/postgresql"


class Cluster:
    """The processes of the test, and how to reach them."""

    def __init__(self, hosts: Hosts, root: Path):
        self.hosts, self.root = hosts, root
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[int, subprocess.Popen] = {}
        self.cache_dirs: dict[int, Path] = {}

    def start(self, name, argv, env, cwd=None) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed by Popen's owner
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def as_worker(self, i: int, argv: list[str]) -> list[str]:
        """``argv`` in worker ``i``'s namespace, as its uid, with /run hidden."""
        hide = _expose_python(self.root / "python") + (
            'mount -t tmpfs -o size=1m,mode=755 ade-hidden /run && exec "$@"'
        )
        uid = UIDS[i]
        return [
            *self.hosts.exec_prefix(self.hosts.worker_ns(i)),
            "/bin/sh",
            "-c",
            hide,
            "sh",
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--",
            *argv,
        ]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if proc.stdout:
                proc.stdout.close()


@pytest.fixture
def cluster(tmp_path, pg_url):
    _need_root()
    hosts = Hosts(workers=2)
    cluster = Cluster(hosts, tmp_path)
    try:
        hosts.up()
        yield cluster, pg_url
    finally:
        cluster.stop()
        hosts.close()
        for path in cluster.cache_dirs.values():
            shutil.rmtree(path, ignore_errors=True)


def _wait(predicate, timeout, what, logs=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


def _start_api(cluster: Cluster, pg_url: str) -> None:
    hosts = cluster.hosts
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ADE_SANDBOX_POOL_SIZE": str(POOL_SIZE),
        "HOME": str(cluster.root),
        "ADE_DATA_DIR": str(cluster.root / "data"),
        "ADE_DATABASE_URL": _unix_socket_url(pg_url),
        "ADE_JOB_BACKEND": "celery",
        "ADE_BROKER_URL": f"redis://{hosts.api_ip}:{BROKER_PORT}/0",
        "ADE_JOB_HEARTBEAT_SECONDS": "1",
        "ADE_JOB_HEARTBEAT_TIMEOUT": "6",
        "ADE_LOG_FORMAT": "text",
        "ADE_LOG_LEVEL": "WARNING",
    }
    cluster.start(
        "redis",
        [
            *hosts.exec_prefix(hosts.api_ns),
            "redis-server",
            "--port",
            str(BROKER_PORT),
            "--bind",
            hosts.api_ip,
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            str(cluster.root),
        ],
        env,
    )
    cluster.start(
        "api",
        [
            *hosts.exec_prefix(hosts.api_ns),
            ADE,
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(API_PORT),
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        env,
    )


def _start_worker(cluster: Cluster, i: int, token: str) -> None:
    hosts = cluster.hosts
    cache = Path(tempfile.mkdtemp(prefix=f"ade-mh-w{i}-"))
    os.chown(cache, UIDS[i], UIDS[i])
    cluster.cache_dirs[i] = cache
    env = {  # no ADE_DATABASE_URL, no ADE_DATA_DIR: it needs neither
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ADE_SANDBOX_POOL_SIZE": str(POOL_SIZE),
        "HOME": str(cache),
        "ADE_WORKER_TOKEN": token,
        "ADE_WORKER_CACHE_DIR": str(cache / "cache"),
        "ADE_BROKER_URL": f"redis://{hosts.api_ip}:{BROKER_PORT}/0",
        "ADE_JOB_HEARTBEAT_SECONDS": "1",
        "ADE_LOG_FORMAT": "text",
        "ADE_LOG_LEVEL": "WARNING",
    }
    argv = [
        ADE,
        "worker",
        "--api",
        f"http://{hosts.api_ip}:{API_PORT}",
        "--concurrency",
        "2",
        "--metrics-port",
        str(METRICS_PORT),
        "--loglevel",
        "WARNING",
    ]
    cluster.workers[i] = cluster.start(f"w{i}", cluster.as_worker(i, argv), env, cache)


def _scrape_worker(cluster: Cluster, i: int) -> dict:
    code = (
        "import urllib.request,sys;"
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode())"
    )
    out = sh(
        *cluster.hosts.exec_prefix(cluster.hosts.worker_ns(i)),
        PY,
        "-c",
        code,
        f"http://127.0.0.1:{METRICS_PORT}/metrics",
    ).stdout
    return _samples(out)


def _samples(text: str) -> dict:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            found[key] = sample.value
    return found


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _tokens(pg_url: str) -> tuple[str, str]:
    from sqlalchemy.orm import Session

    engine = sa.create_engine(pg_url)
    with Session(engine) as session:
        admin = create_token(session, "admin")[1]
        worker = create_token(session, "fleet", "worker")[1]
    engine.dispose()
    return admin, worker


def _job_rows(pg_url: str) -> dict[str, tuple]:
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, status, attempts, worker, config_version_id FROM jobs"
        ).all()
    engine.dispose()
    return {r[0]: r[1:] for r in rows}


def test_stateless_workers_in_their_own_namespaces(cluster):
    cluster, pg_url = cluster
    hosts = cluster.hosts
    admin_secret, worker_secret = _tokens(pg_url)
    _start_api(cluster, pg_url)
    api = ApiClient(f"http://{hosts.api_ctl_ip}:{API_PORT}", admin_secret, timeout=30)

    def healthy():
        try:
            return api.json("GET", "/healthz") == {"status": "ok"}
        except (OSError, ApiError):
            return False

    _wait(healthy, 90, "the API", lambda: cluster.log("api"))
    for i in (1, 2):
        _start_worker(cluster, i, worker_secret)

    # What a worker's host can reach: the API and the broker, nothing else.
    data_dir = str(cluster.root / "data")
    for i in (1, 2):
        probe = sh(
            *cluster.as_worker(
                i, [PY, "-c", PROBE, hosts.api_ip, f"{hosts.ctl}.1", data_dir]
            )
        )
        reach = json.loads(probe.stdout)
        assert reach["api"] == "open" and reach["broker"] == "open", reach
        for key in (
            "pg_local",
            "redis_local",
            "pg_api_side",
            "root_ns",
            "pg_socket",
            "data_dir",
        ):
            assert reach[key] != "open", (key, reach)
        assert reach["data_dir"] == "PermissionError", reach

    api.json("POST", "/api/v1/workspaces", {"slug": "acme", "name": "Acme"})
    roster = cluster.root / "roster.xlsx"
    roster.write_bytes(roster_xlsx())
    doc = api.multipart("/api/v1/workspaces/acme/documents", {}, {"file": roster})
    versions, config_ids = [], []
    for c in range(CONFIGS):
        cfg = api.json(
            "POST",
            "/api/v1/workspaces/acme/configs",
            {"slug": f"c{c}", "title": f"C{c}"},
        )
        config_ids.append(cfg["id"])
        versions.append(
            api.json(
                "POST",
                f"/api/v1/workspaces/acme/configs/{cfg['id']}/publish",
                {"semver": "1.0.0", "message": "first"},
            )
        )

    def submit(version_id: str, n: int) -> str:
        return api.json(
            "POST",
            "/api/v1/workspaces/acme/jobs",
            {
                "config_version_id": version_id,
                "input_document_id": doc["id"],
                "flags": {"n": n},
            },
        )["id"]

    def job(job_id: str) -> dict:
        return api.json("GET", f"/api/v1/workspaces/acme/jobs/{job_id}")

    def finished(ids):
        rows = [job(j) for j in ids]
        done = [r for r in rows if r["status"] in ("succeeded", "failed", "cancelled")]
        return rows if len(done) == len(rows) else None

    logs = lambda: cluster.log("w1") + cluster.log("w2") + cluster.log("api")  # noqa: E731
    ids = [
        submit(versions[c]["id"], n)
        for n in range(JOBS_PER_CONFIG)
        for c in range(CONFIGS)
    ]
    rows = _wait(lambda: finished(ids), 240, "30 jobs", logs)
    assert [r["status"] for r in rows] == ["succeeded"] * 30, [
        (r["status"], r["error"]) for r in rows
    ]
    assert {r["attempts"] for r in rows} == {1}
    assert {r["metrics"]["rows_processed"] for r in rows} == {6}

    # Each worker fetched each version it ran exactly once; every later job of
    # that version on it was a cache hit and fetched no git objects.
    db_rows = _job_rows(pg_url)
    pid_of = {cluster.workers[i].pid: i for i in (1, 2)}
    ran: dict[int, list[str]] = {1: [], 2: []}
    for job_id in ids:
        _status, _attempts, worker, version_id = db_rows[job_id]
        ran[pid_of[int(worker.rsplit(":", 1)[1])]].append(version_id)
    for i in (1, 2):
        m = _scrape_worker(cluster, i)
        distinct, count = len(set(ran[i])), len(ran[i])
        hit = _value(m, "ade_worker_cache_requests_total", cache="config", result="hit")
        miss = _value(
            m, "ade_worker_cache_requests_total", cache="config", result="miss"
        )
        assert (miss, hit) == (distinct, count - distinct), (i, ran[i], m)
        assert _value(m, "ade_worker_git_fetches_total") == distinct
        assert _value(m, "ade_job_runs_total", status="succeeded") == count
        assert _value(
            m, "ade_worker_cache_requests_total", cache="document", result="miss"
        ) == (1 if count else 0)
    assert sum(len(set(r)) for r in ran.values()) < 30  # far fewer fetches than jobs

    # A slow version; cut its worker's host off mid-run.
    cfg0 = f"/api/v1/workspaces/acme/configs/{config_ids[0]}"
    current = api.json("GET", f"{cfg0}/draft/files/columns/email.py")
    api.raw(
        "PUT",
        f"{cfg0}/draft/files/columns/email.py",
        json.dumps({"code": SLOW_EMAIL}).encode(),
        {"Content-Type": "application/json", "If-Match": f'"{current["sha"]}"'},
    )
    slow = api.json("POST", f"{cfg0}/publish", {"semver": "1.1.0", "message": "slow"})
    victim_job = submit(slow["id"], 0)
    _wait(
        lambda: (job(victim_job)["progress"] or {}).get("phase") == "detect",
        90,
        "the slow job to run",
        logs,
    )
    worker = _job_rows(pg_url)[victim_job][2]
    victim = pid_of[int(worker.rsplit(":", 1)[1])]
    survivor = 3 - victim
    hosts.tear_down_worker(victim)
    assert cluster.workers[victim].wait(timeout=10) is not None

    done = _wait(lambda: finished([victim_job]), 120, "the retried job", logs)[0]
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    final_worker = _job_rows(pg_url)[victim_job][2]
    assert pid_of[int(final_worker.rsplit(":", 1)[1])] == survivor
    assert api.json("GET", "/api/v1/workspaces/acme/jobs?status=running") == []

    # The API's metrics (every gunicorn worker's counters, gauges from SQL).
    text = api.raw("GET", "/metrics").decode()
    m = _samples(text)
    assert _value(m, "ade_jobs", state="succeeded") == 31
    assert _value(m, "ade_jobs", state="running") == 0
    assert _value(m, "ade_job_runs_total", status="succeeded") == 31
    assert (
        _value(
            m,
            "ade_http_requests_total",
            endpoint="worker.claim_job",
            method="POST",
            status="200",
        )
        == 32
    )
    # The stateless workers never made a data dir of their own either.
    for i in (1, 2):
        assert not (cluster.cache_dirs[i] / "data").exists()
