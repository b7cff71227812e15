"""Dry runs off the request thread (issue 12, item 5): a run longer than
``DRY_RUN_SYNC_SECONDS`` answers 202 and is polled to its report; concurrent runs
are limited per token and per workspace (429 with Retry-After); a poll is the
workspace's only; a run whose process died is failed, not running forever."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from app.jobs.executor import get_dry_run_pool
from app.services import dryrun_store
from app.services.dryrun import DryRunTask
from app.services.dryrun_pool import DryRunPool
from app.services.dryrun_slots import Slots
from app.services.errors import TooMany
from runner.sandbox import Limits
from tests.conftest import bearer, make_app, other_workspace_admin
from tests.dryrun_helpers import SLEEP
from tests.jobs_helpers import create_config, put_file, roster_xlsx, upload
from tests.waits import wait_for

pytestmark = pytest.mark.timeout(120)
WALL = 8  # the sleeping runs end on it


@pytest.fixture
def app(request, tmp_path, sqlite_url):
    settings = {
        "DRY_RUN_SYNC_SECONDS": 0,  # every run answers 202 at once
        "DRY_RUN_WALL_SECONDS": WALL,
        "DRY_RUN_PER_TOKEN": 2,
        "DRY_RUN_PER_WORKSPACE": 3,
        "RATE_LIMIT_DRY_RUN": "",
        **getattr(request, "param", {}),
    }
    app = make_app(tmp_path, sqlite_url, **settings)
    yield app
    pool = app.extensions.get("ade.dry_runs")
    if pool is not None:
        pool.stop()


@pytest.fixture
def setup(client, workspace):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    doc = upload(client, "acme", t["author"], roster_xlsx()).json
    url = f"/api/v1/workspaces/acme/configs/{config['id']}/draft:dry-run"
    return {"t": t, "config": config, "doc": doc, "url": url}


def post(client, setup, token):
    return client.post(
        setup["url"], json={"documentId": setup["doc"]["id"]}, headers=bearer(token)
    )


def poll_until_finished(client, location, token, timeout=90):
    def finished():
        resp = client.get(location, headers=bearer(token))
        assert resp.status_code == 200, resp.json
        return resp.json if resp.json["status"] in ("succeeded", "failed") else None

    return wait_for(finished, timeout, 0.2, what=f"{location} to finish")


def test_a_long_run_answers_202_and_its_poll_ends_in_the_report(client, setup):
    resp = post(client, setup, setup["t"]["author"])
    assert resp.status_code == 202, resp.json
    run_id = resp.json["id"]
    location = resp.headers["Location"]
    assert location == f"/api/v1/workspaces/acme/dry-runs/{run_id}"
    assert resp.json["status"] in ("queued", "running")
    assert "tables" not in resp.json

    viewer = setup["t"]["viewer"]
    run = poll_until_finished(client, location, viewer)
    assert run["status"] == "succeeded", run
    assert run["id"] == run_id and run["preview"]["tables"]
    assert run["downloads"]["output"] == f"{location}/output"
    report = client.get(run["downloads"]["report"], headers=bearer(viewer))
    assert report.json["tables"] == run["tables"]
    again = client.get(location, headers=bearer(viewer))
    assert again.json == run  # a finished run keeps answering the same


def test_a_poll_is_the_workspace_s_only(client, setup, admin_token):
    resp = post(client, setup, setup["t"]["author"])
    assert resp.status_code == 202, resp.json
    location = resp.headers["Location"]
    other = other_workspace_admin(client, admin_token)
    assert client.get(location, headers=bearer(other)).status_code == 404
    moved = location.replace("/acme/", "/other/")
    assert client.get(moved, headers=bearer(other)).status_code == 404
    assert client.get(location).status_code == 401
    for bad_id in ("0" * 32, "..", "x" * 40):
        url = f"/api/v1/workspaces/acme/dry-runs/{bad_id}"
        assert client.get(url, headers=bearer(setup["t"]["viewer"])).status_code == 404
    poll_until_finished(client, location, setup["t"]["viewer"])


def test_runs_in_flight_are_limited_per_token_and_per_workspace(
    client, setup, app, workspace
):
    """Two sleeping runs of the author fill its slots; a third is 429. The
    publisher (another token) gets the workspace's third slot, the admin then
    nothing. When the runs end on their wall limit, the slots are free again."""
    t = setup["t"]
    put_file(client, "acme", setup["config"]["id"], t["author"], "run.py", SLEEP)
    first = [post(client, setup, t["author"]) for _ in range(2)]
    assert [r.status_code for r in first] == [202, 202], [r.json for r in first]

    refused = post(client, setup, t["author"])
    assert refused.status_code == 429, refused.json
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "this token" in refused.json["detail"]

    third = post(client, setup, t["publisher"])
    assert third.status_code == 202, third.json
    refused = post(client, setup, t["admin"])
    assert refused.status_code == 429 and "this workspace" in refused.json["detail"]

    # Refused runs leave no folder behind: three runs, three folders.
    ws_dir = dryrun_store.workspace_dir(app.config["DATA_DIR"], workspace["id"])
    assert len(list(ws_dir.iterdir())) == 3
    running = client.get(first[0].headers["Location"], headers=bearer(t["viewer"]))
    assert running.json["status"] in ("queued", "running")
    for resp in (*first, third):
        run = poll_until_finished(client, resp.headers["Location"], t["viewer"])
        assert run["status"] == "failed" and run["downloads"]["output"] is None
        assert "wall" in run["error"] or "time" in run["error"], run["error"]
    assert post(client, setup, t["author"]).status_code == 202


def test_a_run_whose_process_died_is_failed_not_running(client, setup, app):
    """The state of a run another process held: its pid is gone (on this host),
    its stamps stopped (any host), or it is long past its deadline. Either way the
    poll says failed, for good. A queued run, however old, has no deadline."""
    ws_id = setup["config"]["workspace_id"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    runs = []
    for how in ("pid", "stamp", "deadline"):
        run_id, folder = dryrun_store.new_run(app.config["DATA_DIR"], ws_id, app.config)
        late = time.time() - dryrun_store.STALE_SECONDS - 5
        dryrun_store.save_state(
            folder,
            "running",
            progress={"phase": "x", "rows": 1},
            deadline=late if how == "deadline" else time.time() + 60,
        )
        if how == "pid":
            state = (folder / dryrun_store.STATE).read_text()
            state = state.replace(f'"pid": {os.getpid()}', f'"pid": {dead.pid}')
            (folder / dryrun_store.STATE).write_text(state)
        elif how == "stamp":
            os.utime(folder / dryrun_store.STATE, (late, late))
        runs.append(run_id)
    live_id, live = dryrun_store.new_run(app.config["DATA_DIR"], ws_id, app.config)
    dryrun_store.save_state(live, "running", progress={"phase": "x", "rows": 1})
    # Queued for long (behind other runs), freshly stamped: no deadline yet.
    queued_id, queued = dryrun_store.new_run(app.config["DATA_DIR"], ws_id, app.config)
    dryrun_store.save_state(queued, "queued", queued_at=time.time() - 3600)

    viewer = setup["t"]["viewer"]
    base = "/api/v1/workspaces/acme/dry-runs"
    for run_id in runs:
        resp = client.get(f"{base}/{run_id}", headers=bearer(viewer))
        assert resp.status_code == 200
        assert resp.json["status"] == "failed", resp.json
        assert resp.json["error"] == "the process running the dry run went away"
        report = client.get(f"{base}/{run_id}/report", headers=bearer(viewer))
        assert report.json["status"] == "failed"
    resp = client.get(f"{base}/{live_id}", headers=bearer(viewer))
    assert resp.json["status"] == "running"
    assert resp.json["progress"] == {"phase": "x", "rows": 1}
    resp = client.get(f"{base}/{queued_id}", headers=bearer(viewer))
    assert resp.json == {"id": queued_id, "status": "queued", "progress": None}


def test_a_queued_run_s_heartbeat_sets_no_deadline(tmp_path):
    """A run may wait behind others longer than its wall limit: only a running
    run has a deadline, so a poll never fails a run for waiting."""
    folder = tmp_path / "run"
    folder.mkdir()
    limits = Limits(wall_seconds=1)
    task = DryRunTask("r", folder, "acme", tmp_path, tmp_path, limits, None, Slots([]))
    task._queued_at -= 3600
    task.heartbeat()
    state, stamped = dryrun_store.load_state(folder)
    assert state["status"] == "queued" and "deadline" not in state
    assert not dryrun_store.is_stale(state, stamped)


class Blocker:
    """A task that runs until released (the pool's side of a run)."""

    def __init__(self) -> None:
        self.done, self.cancel = threading.Event(), threading.Event()
        self.started, self.release = threading.Event(), threading.Event()
        self.beats = 0

    def run(self) -> None:
        self.started.set()
        self.release.wait(30)
        self.done.set()

    def heartbeat(self) -> None:
        self.beats += 1

    def abandon(self, error: str) -> None:
        self.error = error
        self.done.set()


def test_the_pool_is_bounded_and_waiters_are_too():
    pool = DryRunPool(workers=1, queue_size=1, retry_after=3)
    pool.start()
    try:
        running, queued = Blocker(), Blocker()
        pool.submit(running)
        assert running.started.wait(10)
        pool.submit(queued)
        with pytest.raises(TooMany) as refused:
            pool.submit(Blocker())
        assert refused.value.retry_after == 3
        # One caller may wait (workers=1); a second gets the state at once.
        waiter = threading.Thread(target=pool.wait, args=(queued, 30))
        waiter.start()
        wait_for(lambda: pool._waiters._value == 0, 10, what="the first waiter")
        assert pool.wait(queued, 30) is False
        assert not queued.started.is_set()  # it answered without waiting
        wait_for(lambda: running.beats and queued.beats, 10, what="heartbeats")
        running.release.set()
        assert queued.started.wait(10)
        queued.release.set()
        waiter.join(10)
        assert not waiter.is_alive()
    finally:
        pool.stop()
    # A stopped pool takes nothing more.
    with pytest.raises(TooMany):
        pool.submit(Blocker())


def test_the_pool_belongs_to_the_process_that_made_it(app):
    pool = get_dry_run_pool(app)
    assert get_dry_run_pool(app) is pool
    pool.pid = -1  # as if inherited through fork
    assert get_dry_run_pool(app) is not pool
    pool.stop()
