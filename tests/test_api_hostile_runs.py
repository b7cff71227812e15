"""Hostile configs through the API (issue 12): the ``run.py`` that swaps the output
for a FIFO, in a dry run and in a job, and cancel of a job whose supervisor is stuck.
The executor has one slot, so a frozen run would keep the next job queued."""

from __future__ import annotations

import os
import threading
import time

import pytest

from runner.sandbox import untrusted
from tests.conftest import bearer, make_app
from tests.jobs_helpers import (
    create_config,
    publish,
    put_file,
    roster_xlsx,
    upload,
    wait_for_job,
)
from tests.sandbox_helpers import Window, leftovers

pytestmark = pytest.mark.timeout(120)
WALL = 20

# The repro of issue 12: it passes the guardrails; the engine then "writes" a FIFO.
FIFO_RUN = '''"""Swap the workbook writer for one that leaves a FIFO."""
import typing


def run_start(*, ctx, **_):
    m = typing.sys.modules; os, w = m["os"], m["runner.write"]
    w.write_workbook = lambda path, *a, **k: os.mkfifo(str(path))
    print("sandbox uid", os.getuid())  # for the test's look at what is left
'''


@pytest.fixture
def app(request, tmp_path, sqlite_url):
    settings = {
        "JOB_CONCURRENCY": 1,
        "SANDBOX_WALL_SECONDS": WALL,
        "SANDBOX_CPU_SECONDS": WALL,
        "DRY_RUN_WALL_SECONDS": WALL,
        **getattr(request, "param", {}),
    }
    app = make_app(tmp_path, sqlite_url, **settings)
    yield app
    executor = app.extensions.get("ade.executor")
    if executor is not None:  # the local executor's threads poll until stopped
        executor.stop()


@pytest.fixture
def setup(client, workspace):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    version = publish(client, "acme", config["id"], t["publisher"])
    doc = upload(client, "acme", t["author"], roster_xlsx()).json
    return {"t": t, "config": config, "version": version, "doc": doc}


def submit(client, setup, version_id):
    resp = client.post(
        "/api/v1/workspaces/acme/jobs",
        json={"config_version_id": version_id, "input_document_id": setup["doc"]["id"]},
        headers=bearer(setup["t"]["author"]),
    )
    assert resp.status_code == 202, resp.json
    return resp.json


def assert_nothing_left(logs: list[str], window: Window) -> None:
    """Nothing of the run's uid (which it printed) is left on the host."""
    if os.geteuid() != 0:
        return
    uid = next(int(line.split()[-1]) for line in logs if "sandbox uid" in line)
    assert leftovers(uid, window) == {"processes": [], "ipc": [], "files": []}


def with_fifo_run(client, setup) -> dict:
    t, cfg = setup["t"], setup["config"]
    put_file(client, "acme", cfg["id"], t["author"], "run.py", FIFO_RUN)
    return publish(client, "acme", cfg["id"], t["publisher"], "1.1.0")


def test_fifo_output_in_a_dry_run_does_not_stall_it(client, setup):
    """A dry run copies its workbook out (the editor offers it as a download) like a
    job: the FIFO is refused without being opened (a copy-out blocked on it would
    end on the wall limit instead), the answer says why, offers no workbook, and the
    run leaves nothing behind."""
    with_fifo_run(client, setup)
    url = f"/api/v1/workspaces/acme/configs/{setup['config']['id']}/draft:dry-run"
    with Window() as window:
        resp = client.post(
            url,
            json={"documentId": setup["doc"]["id"]},
            headers=bearer(setup["t"]["author"]),
        )
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "failed"
    assert resp.json["error"] == "the output is not a regular file"
    assert resp.json["downloads"]["output"] is None
    assert_nothing_left(resp.json["logs"], window)


def test_fifo_output_fails_the_job_and_the_next_job_runs(client, setup):
    bad = with_fifo_run(client, setup)
    with Window() as window:
        job = submit(client, setup, bad["id"])
        job = wait_for_job(client, "acme", job["id"], setup["t"]["viewer"], timeout=60)
    assert job["status"] == "failed", job
    # Refused at once, not a copy-out blocked on the FIFO until the wall limit.
    assert job["error"] == "the output is not a regular file"
    logs = client.get(
        f"/api/v1/workspaces/acme/jobs/{job['id']}/logs",
        headers=bearer(setup["t"]["viewer"]),
    )
    assert_nothing_left(logs.get_data(as_text=True).splitlines(), window)
    good = submit(client, setup, setup["version"]["id"])
    good = wait_for_job(client, "acme", good["id"], setup["t"]["viewer"], timeout=60)
    assert good["status"] == "succeeded", good


@pytest.mark.parametrize("app", [{"SANDBOX_WALL_SECONDS": 900}], indirect=True)
def test_cancel_ends_a_job_whose_supervisor_is_stuck(client, setup, monkeypatch):
    """The first job's copy-out crawls (a byte every 0.2 s: a quarter of an hour for
    its 5 kB workbook, within its 900 s wall limit); cancel must end it, and free
    the only executor slot for the next job."""
    began, stuck_in = threading.Event(), []
    read = untrusted.read_chunk

    def crawl(fd: int, size: int) -> bytes:
        scratch = os.path.dirname(os.readlink(f"/proc/self/fd/{fd}"))
        if not stuck_in:
            stuck_in.append(scratch)
        if scratch == stuck_in[0]:  # only the first job's run is stuck
            began.set()
            time.sleep(0.2)
            return read(fd, 1)
        return read(fd, size)

    monkeypatch.setattr(untrusted, "read_chunk", crawl)
    t = setup["t"]
    first = submit(client, setup, setup["version"]["id"])
    assert began.wait(60), "the first job never reached its copy-out"
    resp = client.post(
        f"/api/v1/workspaces/acme/jobs/{first['id']}:cancel",
        headers=bearer(t["author"]),
    )
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    second = submit(client, setup, setup["version"]["id"])
    second = wait_for_job(client, "acme", second["id"], t["viewer"], timeout=60)
    assert second["status"] == "succeeded", second
    first = wait_for_job(client, "acme", first["id"], t["viewer"], timeout=1)
    assert first["status"] == "cancelled"
