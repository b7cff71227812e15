"""Issue 12's "Done when" for dry runs, against a real ``ade serve`` (gunicorn, one
worker process of four threads): hostile dry runs (sleep, FIFO output, message
flood, memory flood) are in flight while ``/healthz`` keeps answering; each ends as
failed within its deadline + 2 s and leaves no process, IPC object (SysV, as
``ipcs`` lists them, or POSIX mqueue) or file of its sandbox uid behind.

Before the dry-run pool, each of these runs held one of the four request threads
until it ended (the sleeping one for its whole wall limit), so ``/healthz`` waited
behind them. The latency bound is the issue's 100 ms, on the median of probes taken
every 50 ms while the runs are in flight: one probe may be late on a shared 2-core
machine (the flood runs take CPU), a median cannot be late unless the service is.
Every probe must also be answered (a 5 s timeout: the starved service never did).
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request

import pytest

from tests.conftest import bearer, make_app
from tests.dryrun_helpers import HOSTILE, sandbox_uid
from tests.jobs_helpers import create_config, put_file, roster_xlsx, upload
from tests.sandbox_helpers import IS_ROOT, Window, host_mqueues, leftovers
from tests.serve_helpers import Server, ade_env, ade_init, call
from tests.waits import wait_for

pytestmark = pytest.mark.timeout(180)
WALL = 8


def seed(tmp_path, data_dir, admin: str) -> dict:
    """A workspace with one config per hostile run.py, and a document."""
    app = make_app(tmp_path, f"sqlite:///{data_dir / 'ade.db'}")
    client = app.test_client()
    client.post(
        "/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=bearer(admin)
    )
    tokens = {}
    for role in ("author", "publisher", "admin", "viewer"):
        tokens[role] = client.post(
            "/api/v1/workspaces/w/tokens",
            json={"name": role, "role": role},
            headers=bearer(admin),
        ).json["secret"]
    configs = {}
    for kind, code in HOSTILE.items():
        cfg = create_config(client, "w", tokens["author"], slug=kind)
        put_file(client, "w", cfg["id"], tokens["author"], "run.py", code)
        configs[kind] = cfg["id"]
    doc = upload(client, "w", tokens["author"], roster_xlsx()).json
    return {"tokens": tokens, "configs": configs, "doc": doc["id"]}


class Probe(threading.Thread):
    """``/healthz`` every 50 ms until stopped: each answer's latency (None: none)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop, self.latencies = base, threading.Event(), []

    def run(self) -> None:
        while not self.stop.wait(0.05):
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            self.latencies.append(time.perf_counter() - start if ok else None)


def test_healthz_answers_while_hostile_dry_runs_are_in_flight(tmp_path):
    data_dir = tmp_path / "data"
    env = ade_env(
        data_dir,
        ADE_DRY_RUN_WALL_SECONDS=str(WALL),
        ADE_DRY_RUN_SYNC_SECONDS="1",
        ADE_SANDBOX_MEMORY_MB="1024",
        ADE_RATE_LIMIT_DRY_RUN="",
        ADE_DRY_RUN_PER_WORKSPACE="8",  # the token limit is the one under test
    )
    admin = ade_init(env)
    seeded = seed(tmp_path, data_dir, admin)
    t = seeded["tokens"]
    server = Server(env, tmp_path / "serve.log")
    server.start()
    probe = Probe(server.base)
    mqueues = set(host_mqueues()) if IS_ROOT else set()
    try:
        probe.start()
        runs, windows = {}, {}
        # The quick ones first, then two sleeping runs of the author: they hold
        # its two slots (the token limit) until their wall limit.
        plan = [
            ("fifo", t["publisher"]),
            ("message-flood", t["publisher"]),
            ("memory-flood", t["admin"]),
            ("sleep", t["author"]),
            ("sleep", t["author"]),
        ]
        for i, (kind, token) in enumerate(plan):
            # Each run's own window: its uid is another session's once it ends.
            windows[f"{kind}-{i}"] = Window().__enter__()
            status, body, headers = post(server.base, seeded, kind, token)
            assert status in (200, 202), (kind, status, body)
            runs[f"{kind}-{i}"] = (status, body, headers)
        status, body, headers = post(server.base, seeded, "sleep", t["author"])
        assert status == 429 and int(headers["Retry-After"]) >= 1, body
        finished = follow(server.base, t["viewer"], runs, windows)
        probe.stop.set()
        probe.join(10)
    finally:
        server.kill()
    answered = [s for s in probe.latencies if s is not None]
    assert len(answered) == len(probe.latencies) >= 20, probe.latencies
    assert statistics.median(answered) < 0.1, sorted(answered)[-10:]

    for kind, run in finished.items():
        assert run["status"] == "failed", (kind, run["error"])
        assert run["metrics"]["elapsed_ms"] <= (WALL + 2) * 1000, (kind, run)
        if IS_ROOT:
            uid = sandbox_uid(run["logs"])
            assert uid is not None, (kind, run["logs"])
            left = leftovers(uid, windows[kind])
            assert left == {"processes": [], "ipc": [], "files": []}, kind
    if IS_ROOT:  # POSIX message queues have no owner to look for: none new
        assert set(host_mqueues()) <= mqueues
    assert "not a regular file" in finished["fifo-0"]["error"]
    assert "larger than" in finished["message-flood-1"]["error"]
    assert "memory limit exceeded" in finished["memory-flood-2"]["error"]
    assert all("time limit" in finished[k]["error"] for k in ("sleep-3", "sleep-4"))


def post(base: str, seeded: dict, kind: str, token: str):
    url = f"/api/v1/workspaces/w/configs/{seeded['configs'][kind]}/draft:dry-run"
    return call(base, "POST", url, token, {"documentId": seeded["doc"]})


def follow(base: str, token: str, runs: dict, windows: dict) -> dict:
    """Every run once finished (the POST's answer, or its poll's), all polled
    together; each run's window closes when it is seen finished."""
    finished = {}

    def poll():
        for key, (status, body, headers) in runs.items():
            if key in finished:
                continue
            if status != 200:
                code, body, _h = call(base, "GET", headers["Location"], token)
                assert code == 200, (code, body)
            if body["status"] in ("succeeded", "failed"):
                windows[key].__exit__(None, None, None)
                finished[key] = body
        return len(finished) == len(runs)

    wait_for(poll, WALL * 6, 0.2, what="the dry runs to finish", last=lambda: finished)
    return finished
