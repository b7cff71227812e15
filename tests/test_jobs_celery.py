"""The Celery executor for real: Redis broker, PostgreSQL, two `ade worker` processes.

20 jobs at once all succeed; then the worker running a job is SIGKILLed mid-run and the
job is retried on the other worker and succeeds; nothing stays `running`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, admin_secret_for, bearer, make_app
from tests.jobs_helpers import (
    create_config,
    publish,
    put_file,
    roster_xlsx,
    upload,
    wait_for_job,
)

ADE = str(Path(sys.executable).with_name("ade"))

# CPU-bound for a few seconds without imports (publish refuses guardrail findings).
SLOW_EMAIL = '''"""Email column that thinks hard before answering."""


def detect_slowly(*, header, **_):
    total = 0
    for i in range(25_000_000):
        total += i
    return 1.0 if header and "mail" in header.lower() else 0
'''


@pytest.fixture
def celery_env(tmp_path, pg_url, redis_prefix):
    env = {
        **os.environ,
        "ADE_DATA_DIR": str(tmp_path / "data"),
        "ADE_DATABASE_URL": pg_url,
        "ADE_JOB_BACKEND": "celery",
        "ADE_BROKER_URL": REDIS_URL,
        "ADE_BROKER_PREFIX": redis_prefix,
        "ADE_JOB_HEARTBEAT_SECONDS": "1",
        "ADE_JOB_HEARTBEAT_TIMEOUT": "4",
        "ADE_LOG_FORMAT": "text",
        "ADE_LOG_LEVEL": "WARNING",
    }
    return env


@pytest.fixture
def workers(celery_env, tmp_path):
    procs = []

    def start(name):
        log = open(tmp_path / f"{name}.log", "wb")
        proc = subprocess.Popen(
            [ADE, "worker", "--concurrency", "2", "--loglevel", "WARNING"],
            env=celery_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_celery_workers_run_jobs_and_survive_a_killed_worker(
    tmp_path, pg_url, redis_prefix, celery_env, workers
):
    app = make_app(
        tmp_path,
        pg_url,
        JOB_BACKEND="celery",
        BROKER_URL=REDIS_URL,
        BROKER_PREFIX=redis_prefix,
    )
    client = app.test_client()
    admin = admin_secret_for(app)
    client.post(
        "/api/v1/workspaces", json={"slug": "acme", "name": "A"}, headers=bearer(admin)
    )
    cfg = create_config(client, "acme", admin)
    fast = publish(client, "acme", cfg["id"], admin, "1.0.0")
    doc = upload(client, "acme", admin, roster_xlsx()).json
    first, second = workers("w1"), workers("w2")

    jobs = []
    for i in range(20):
        resp = client.post(
            "/api/v1/workspaces/acme/jobs",
            json={
                "config_version_id": fast["id"],
                "input_document_id": doc["id"],
                "flags": {"batch": i},
            },
            headers=bearer(admin),
        )
        assert resp.status_code == 202, resp.json
        jobs.append(resp.json["id"])
    finished = [wait_for_job(client, "acme", j, admin, timeout=120) for j in jobs]
    assert [j["status"] for j in finished] == ["succeeded"] * 20, [
        (j["status"], j["error"]) for j in finished
    ]
    assert {j["metrics"]["rows_processed"] for j in finished} == {6}

    put_file(client, "acme", cfg["id"], admin, "columns/email.py", SLOW_EMAIL)
    slow = publish(client, "acme", cfg["id"], admin, "1.1.0")
    job = client.post(
        "/api/v1/workspaces/acme/jobs",
        json={"config_version_id": slow["id"], "input_document_id": doc["id"]},
        headers=bearer(admin),
    ).json
    running = wait_for_job(
        client, "acme", job["id"], admin, timeout=60, until=("running",)
    )
    assert running["status"] == "running"
    with app.app_context():
        from app.models import Job

        s = app.extensions["ade.sessionmaker"]()
        worker_pid = int(s.get(Job, job["id"]).worker.rsplit(":", 1)[1])
        s.close()
    victim = first if worker_pid == first.pid else second
    assert worker_pid == victim.pid
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()

    done = wait_for_job(client, "acme", job["id"], admin, timeout=90)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    stuck = client.get(
        "/api/v1/workspaces/acme/jobs?status=running", headers=bearer(admin)
    ).json
    assert stuck == []
    app.extensions["ade.executor"].stop()
