"""Jobs on the embedded executor: the tag runs (not the draft), run_key reuse, force,
validation of the version, cancel, a hostile config, and the dry-run of the draft."""

import io
import re

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer, other_workspace_admin
from tests.jobs_helpers import (
    create_config,
    publish,
    put_file,
    roster_xlsx,
    upload,
    wait_for_job,
)
from tests.waits import wait_for

UPPER_EMAIL = '''"""Column: email, upper-cased (the draft after publishing)."""


def detect_header(*, header, **_):
    return 1.0 if header and "mail" in header.lower() else 0


def transform_column(*, values, **_):
    return [str(v).strip().upper() if v is not None else None for v in values]
'''

LOOPING = '''"""A column whose detector never returns."""


def detect_forever(*, header, **_):
    while True:
        pass
'''


@pytest.fixture
def setup(client, workspace):
    t = workspace["tokens"]
    config = create_config(client, "acme", t["author"])
    version = publish(client, "acme", config["id"], t["publisher"])
    data = roster_xlsx()
    doc = upload(client, "acme", t["author"], data).json
    return {"t": t, "config": config, "version": version, "doc": doc, "data": data}


def submit(client, token, version_id, doc_id, flags=None):
    body = {"config_version_id": version_id, "input_document_id": doc_id}
    if flags is not None:
        body["flags"] = flags
    return client.post("/api/v1/workspaces/acme/jobs", json=body, headers=bearer(token))


def emails_in_output(client, token, job_id):
    resp = client.get(
        f"/api/v1/workspaces/acme/jobs/{job_id}/output", headers=bearer(token)
    )
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True)["Normalized"]
    rows = list(sheet.iter_rows(values_only=True))
    col = rows[0].index("Email")
    return [r[col] for r in rows[1:]]


def test_job_runs_the_published_tag_not_the_draft(client, setup):
    t, cfg = setup["t"], setup["config"]
    # Edit the draft after publishing: the job must still run v1.0.0.
    put_file(client, "acme", cfg["id"], t["author"], "columns/email.py", UPPER_EMAIL)
    resp = submit(client, t["author"], setup["version"]["id"], setup["doc"]["id"])
    assert resp.status_code == 202, resp.json
    job = wait_for_job(client, "acme", resp.json["id"], t["viewer"])
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1 and job["config_version_id"] == setup["version"]["id"]
    assert job["metrics"]["rows_processed"] == 6
    emails = emails_in_output(client, t["viewer"], job["id"])
    assert (
        emails[0] == "person0@example.org"
    )  # the tag lower-cases; the draft upper-cases
    report = client.get(
        f"/api/v1/workspaces/acme/jobs/{job['id']}/report", headers=bearer(t["viewer"])
    ).json
    data_table = next(table for table in report["tables"] if table["rows"])
    assert data_table["columns"][2]["field"] == "email"
    logs = client.get(
        f"/api/v1/workspaces/acme/jobs/{job['id']}/logs", headers=bearer(t["viewer"])
    )
    assert logs.status_code == 200 and logs.mimetype == "text/plain"


def test_same_document_and_version_reuse_the_run_unless_forced(client, setup):
    t = setup["t"]
    first = submit(client, t["author"], setup["version"]["id"], setup["doc"]["id"]).json
    first_done = wait_for_job(client, "acme", first["id"], t["viewer"])
    assert first_done["status"] == "succeeded"
    # The same bytes uploaded again are another document with the same sha256.
    again_doc = upload(client, "acme", t["author"], setup["data"]).json
    again = submit(client, t["author"], setup["version"]["id"], again_doc["id"])
    assert again.status_code == 200
    assert again.json["reused"] is True and again.json["id"] == first["id"]
    assert again.json["run_key"] == first["run_key"]
    forced = submit(
        client, t["author"], setup["version"]["id"], setup["doc"]["id"], {"force": True}
    )
    assert forced.status_code == 202 and forced.json["id"] != first["id"]
    assert forced.json["run_key"] == first["run_key"]
    assert (
        wait_for_job(client, "acme", forced.json["id"], t["viewer"])["status"]
        == "succeeded"
    )
    other_flags = submit(
        client,
        t["author"],
        setup["version"]["id"],
        setup["doc"]["id"],
        {"sample_rows": 3},
    )
    assert (
        other_flags.status_code == 202
        and other_flags.json["run_key"] != first["run_key"]
    )
    wait_for_job(client, "acme", other_flags.json["id"], t["viewer"])


def test_submit_validation(client, setup, admin_token):
    t = setup["t"]
    h = bearer(t["author"])
    url = "/api/v1/workspaces/acme/jobs"
    resp = client.post(url, json={"input_document_id": setup["doc"]["id"]}, headers=h)
    assert resp.status_code == 400 and "config_version_id" in resp.json["errors"]
    resp = submit(client, t["author"], "nope", setup["doc"]["id"])
    assert resp.status_code == 404
    resp = submit(client, t["author"], setup["version"]["id"], "nope")
    assert resp.status_code == 404
    draft = client.get(
        f"/api/v1/workspaces/acme/configs/{setup['config']['id']}/versions", headers=h
    ).json
    draft_id = next(v["id"] for v in draft if v["status"] == "draft")
    resp = submit(client, t["author"], draft_id, setup["doc"]["id"])
    assert resp.status_code == 400
    assert (
        submit(
            client, t["viewer"], setup["version"]["id"], setup["doc"]["id"]
        ).status_code
        == 403
    )
    # A version of another workspace is not found from here.
    other = other_workspace_admin(client, admin_token)
    other_doc = upload(client, "other", other, roster_xlsx()).json
    resp = client.post(
        "/api/v1/workspaces/other/jobs",
        json={
            "config_version_id": setup["version"]["id"],
            "input_document_id": other_doc["id"],
        },
        headers=bearer(other),
    )
    assert resp.status_code == 404


def test_hostile_config_fails_its_job_and_the_next_job_succeeds(client, app, setup):
    t, cfg = setup["t"], setup["config"]
    # The loop ends on the 2 s CPU limit; the wall limit is generous because the
    # next (good) job runs under the same limits on a possibly loaded machine.
    app.config["SANDBOX_WALL_SECONDS"] = 60
    app.config["SANDBOX_CPU_SECONDS"] = 2
    put_file(client, "acme", cfg["id"], t["author"], "columns/email.py", LOOPING)
    bad = publish(client, "acme", cfg["id"], t["publisher"], "1.1.0")
    job = submit(client, t["author"], bad["id"], setup["doc"]["id"]).json
    job = wait_for_job(client, "acme", job["id"], t["viewer"], timeout=120)
    assert job["status"] == "failed"
    # The configured limits (CPU 2 s, wall 60 s), not the 240 s / 300 s defaults.
    assert re.search(r"limit of (2|60) s exceeded", job["error"]), job["error"]
    good = submit(client, t["author"], setup["version"]["id"], setup["doc"]["id"]).json
    good_done = wait_for_job(client, "acme", good["id"], t["viewer"])
    assert good_done["status"] == "succeeded", good_done


def test_cancel_running_and_queued_jobs(client, app, setup):
    t, cfg = setup["t"], setup["config"]
    app.config["JOB_CONCURRENCY"] = 1
    put_file(client, "acme", cfg["id"], t["author"], "columns/email.py", LOOPING)
    bad = publish(client, "acme", cfg["id"], t["publisher"], "1.1.0")
    running = submit(client, t["author"], bad["id"], setup["doc"]["id"]).json
    wait_for_job(client, "acme", running["id"], t["viewer"], until=("running",))
    # Progress shows the phase the run is in (the detector loops forever).
    job_url = f"/api/v1/workspaces/acme/jobs/{running['id']}"

    def progress():
        return client.get(job_url, headers=bearer(t["viewer"])).json["progress"]

    wait_for(
        lambda: (progress() or {}).get("phase") == "detect",
        60,
        0.2,
        what="the running job's progress to show phase 'detect'",
        last=progress,
    )
    url = f"/api/v1/workspaces/acme/jobs/{running['id']}:cancel"
    assert client.post(url, headers=bearer(t["viewer"])).status_code == 403
    resp = client.post(url, headers=bearer(t["author"]))
    assert resp.status_code == 200 and resp.json["status"] == "cancelled"
    # The one worker thread takes the next job only once the cancelled run's sandbox
    # is gone and its outcome dealt with: then the row must still say cancelled.
    after = submit(client, t["author"], setup["version"]["id"], setup["doc"]["id"])
    done = wait_for_job(client, "acme", after.json["id"], t["viewer"], timeout=120)
    assert done["status"] == "succeeded", done
    job = client.get(
        f"/api/v1/workspaces/acme/jobs/{running['id']}", headers=bearer(t["viewer"])
    ).json
    assert job["status"] == "cancelled"
    assert client.post(url, headers=bearer(t["author"])).status_code == 409
    listed = client.get(
        "/api/v1/workspaces/acme/jobs?status=cancelled", headers=bearer(t["viewer"])
    ).json
    assert [j["id"] for j in listed] == [running["id"]]
    assert (
        client.get(
            f"/api/v1/workspaces/acme/jobs/{running['id']}/output",
            headers=bearer(t["viewer"]),
        ).status_code
        == 404
    )


def test_dry_run_uses_the_draft_and_reports_failures_as_200(client, setup):
    t, cfg = setup["t"], setup["config"]
    url = f"/api/v1/workspaces/acme/configs/{cfg['id']}/draft:dry-run"
    resp = client.post(
        url, json={"documentId": setup["doc"]["id"]}, headers=bearer(t["author"])
    )
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert report["status"] == "succeeded" and report["error"] is None
    column = next(table for table in report["tables"] if table["rows"])["columns"][2]
    assert column["field"] == "email" and column["scores"]["email"] >= 1
    assert report["metrics"]["rows_processed"] == 6
    assert any(f["code"] == "invalid_email" for f in report["findings"])

    put_file(
        client,
        "acme",
        cfg["id"],
        t["author"],
        "columns/email.py",
        "def detect_boom(*, header, **_):\n    return 1 / 0\n",
    )
    resp = client.post(
        url, json={"documentId": setup["doc"]["id"]}, headers=bearer(t["author"])
    )
    assert resp.status_code == 200
    assert resp.json["status"] == "failed"
    assert (
        "ZeroDivisionError" in resp.json["error"]
        and "columns/email.py" in resp.json["error"]
    )

    assert client.post(url, json={}, headers=bearer(t["author"])).status_code == 400
    assert (
        client.post(
            url, json={"documentId": "nope"}, headers=bearer(t["author"])
        ).status_code
        == 404
    )
    assert (
        client.post(
            url, json={"documentId": setup["doc"]["id"]}, headers=bearer(t["viewer"])
        ).status_code
        == 403
    )


def test_stopping_the_executor_requeues_its_running_job(client, app, setup):
    """A worker that stops (``ade serve`` on SIGTERM or Ctrl-C stops each worker's
    executor) kills the sandbox of the job it runs and queues the job again, the
    interrupted attempt not counted: no 'running' row waiting for the reaper, no
    orphaned sandbox burning CPU up to its wall limit."""
    t, cfg = setup["t"], setup["config"]
    put_file(client, "acme", cfg["id"], t["author"], "columns/email.py", LOOPING)
    bad = publish(client, "acme", cfg["id"], t["publisher"], "1.1.0")
    job = submit(client, t["author"], bad["id"], setup["doc"]["id"]).json
    wait_for_job(client, "acme", job["id"], t["viewer"], until=("running",))
    executor = app.extensions["ade.executor"]
    # The looping run has 240 s of CPU left: threads that end within this generous
    # join timeout prove stop() killed its sandbox instead of waiting it out.
    # (Stopping within gunicorn's graceful timeout: test_serve_shutdown.py.)
    executor.stop(timeout=60)
    assert not any(thread.is_alive() for thread in executor._threads)
    row = client.get(
        f"/api/v1/workspaces/acme/jobs/{job['id']}", headers=bearer(t["viewer"])
    ).json
    assert (row["status"], row["attempts"], row["error"]) == ("queued", 0, None)
