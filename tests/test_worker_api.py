"""The worker calls (``/api/v1/worker/...``) and what a worker token may do:
nothing but them (403), nothing of a job it has not claimed (404), and a finish
after the claim was lost to the reaper is a 409 that changes nothing."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.models import Job, utcnow
from app.services import claims
from tests.conftest import bearer
from tests.worker_helpers import make_scene, worker_token


@pytest.fixture
def scene(tmp_path, sqlite_url):
    return make_scene(tmp_path, sqlite_url)


def _finish(scene, job_id, claim_id, status="succeeded", files=None, token=None):
    data = {
        "claim_id": claim_id,
        "result": json.dumps(
            {
                "status": status,
                "error": None,
                "metrics": {"rows_processed": 6},
                "progress": {"phase": "done", "rows": 6},
            }
        ),
    }
    for field, content in (files or {}).items():
        data[field] = (io.BytesIO(content), field)
    return scene.call(
        "POST",
        f"/jobs/{job_id}:finish",
        token,
        data=data,
        content_type="multipart/form-data",
    )


def _row(scene, job_id):
    with scene.app.app_context():
        s = scene.app.extensions["ade.sessionmaker"]()
        job = s.get(Job, job_id)
        s.close()
    return job


def test_a_worker_token_can_make_worker_calls_only(scene):
    h = bearer(scene.worker)
    for method, path in [
        ("GET", "/api/v1/workspaces"),
        ("GET", "/api/v1/workspaces/acme"),
        ("GET", "/api/v1/workspaces/acme/configs"),
        ("GET", f"/api/v1/workspaces/acme/configs/{scene.config['id']}/draft/files"),
        ("GET", f"/api/v1/workspaces/acme/documents/{scene.doc['id']}/content"),
        ("POST", "/api/v1/workspaces/acme/jobs"),
        ("GET", "/api/v1/workspaces/nope/jobs"),
    ]:
        resp = scene.client.open(path, method=method, headers=h, json={})
        assert resp.status_code == 403, (method, path, resp.status_code)
    # ...and nobody else may make them, not even an instance admin.
    job = scene.submit()
    assert scene.claim(job["id"], scene.admin).status_code == 403
    # A workspace token cannot be made a worker token through the API.
    resp = scene.client.post(
        "/api/v1/workspaces/acme/tokens",
        json={"name": "w", "role": "worker"},
        headers=bearer(scene.admin),
    )
    assert resp.status_code == 400


def test_claim_heartbeat_document_finish(scene):
    job = scene.submit()
    assert scene.woken == [job["id"]]
    resp = scene.claim(job["id"])
    assert resp.status_code == 200, resp.json
    claimed = resp.json
    assert claimed["tag"] == "v1.0.0" and claimed["attempt"] == 1
    assert claimed["files_hash"] == scene.version["files_hash"]
    assert claimed["git_path"] == "/git/acme/roster.git"
    assert claimed["document_sha256"] == scene.doc["sha256"]
    assert scene.claim(job["id"]).status_code == 409  # held already
    assert scene.claim("nope").status_code == 404

    beat = scene.call(
        "POST",
        f"/jobs/{job['id']}:heartbeat",
        json={"claim_id": claimed["claim_id"], "progress": {"phase": "map", "rows": 3}},
    )
    assert beat.json == {"keep_running": True, "cancelled": False}
    assert _row(scene, job["id"]).progress == {"phase": "map", "rows": 3}

    doc = scene.call("GET", f"/jobs/{job['id']}/documents/{scene.doc['sha256']}")
    assert doc.status_code == 200 and doc.data == scene.data
    assert (
        scene.call("GET", f"/jobs/{job['id']}/documents/{'0' * 64}").status_code == 404
    )

    resp = _finish(
        scene,
        job["id"],
        claimed["claim_id"],
        files={
            "output": b"PK-not-really",
            "report": b'{"tables": []}',
            "logs": b"hi\n",
        },
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "succeeded" and resp.json["attempts"] == 1
    h = bearer(scene.admin)
    base = f"/api/v1/workspaces/acme/jobs/{job['id']}"
    assert scene.client.get(f"{base}/output", headers=h).data == b"PK-not-really"
    assert scene.client.get(f"{base}/report", headers=h).json == {"tables": []}
    assert scene.client.get(f"{base}/logs", headers=h).data == b"hi\n"
    # Finished: the document is no longer this worker's to read; a second finish
    # of the same claim changes nothing.
    doc = scene.call("GET", f"/jobs/{job['id']}/documents/{scene.doc['sha256']}")
    assert doc.status_code == 404
    assert _finish(scene, job["id"], claimed["claim_id"], "failed").status_code == 409
    assert _row(scene, job["id"]).status == "succeeded"


def test_a_worker_sees_nothing_of_jobs_it_has_not_claimed(scene):
    mine, other = scene.submit(), scene.submit(force=True)
    claimed = scene.claim(mine["id"]).json
    sha = scene.doc["sha256"]
    # Queued, not claimed: its document is not found.
    assert scene.call("GET", f"/jobs/{other['id']}/documents/{sha}").status_code == 404
    # Claimed by another worker token: not found for this one either.
    second = worker_token(scene.app, "worker-2")
    assert scene.claim(other["id"], second).status_code == 200
    assert scene.call("GET", f"/jobs/{other['id']}/documents/{sha}").status_code == 404
    assert (
        scene.call("GET", f"/jobs/{mine['id']}/documents/{sha}", second).status_code
        == 404
    )
    # Nor can it finish another worker's job (it does not know the claim id).
    assert _finish(scene, other["id"], claimed["claim_id"]).status_code == 409


def test_a_late_finish_after_the_reaper_took_the_job_is_409_and_changes_nothing(
    scene,
):
    job = scene.submit()
    claimed = scene.claim(job["id"]).json
    with scene.app.app_context():
        s = scene.app.extensions["ade.sessionmaker"]()
        s.execute(
            update(Job)
            .where(Job.id == job["id"])
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
        s.commit()
        assert claims.reap(s, timeout=30, max_attempts=3) == [job["id"]]
        s.close()
    before = _row(scene, job["id"])
    assert before.status == "queued" and before.claim_id is None
    beat = scene.call(
        "POST",
        f"/jobs/{job['id']}:heartbeat",
        json={"claim_id": claimed["claim_id"], "progress": None},
    )
    assert beat.json == {"keep_running": False, "cancelled": False}
    resp = _finish(scene, job["id"], claimed["claim_id"], files={"output": b"late"})
    assert resp.status_code == 409
    after = _row(scene, job["id"])
    assert (after.status, after.attempts, after.error, after.finished_at) == (
        before.status,
        before.attempts,
        before.error,
        None,
    )
    out = scene.client.get(
        f"/api/v1/workspaces/acme/jobs/{job['id']}/output", headers=bearer(scene.admin)
    )
    assert out.status_code == 409  # still no output: "queued, not ready yet"


def test_heartbeat_says_cancelled(scene):
    job = scene.submit()
    claimed = scene.claim(job["id"]).json
    resp = scene.client.post(
        f"/api/v1/workspaces/acme/jobs/{job['id']}:cancel", headers=bearer(scene.admin)
    )
    assert resp.status_code == 200
    beat = scene.call(
        "POST",
        f"/jobs/{job['id']}:heartbeat",
        json={"claim_id": claimed["claim_id"]},
    )
    assert beat.json == {"keep_running": False, "cancelled": True}
    assert _finish(scene, job["id"], claimed["claim_id"]).status_code == 409
    assert _row(scene, job["id"]).status == "cancelled"


def test_finish_uploads_are_bounded(tmp_path, sqlite_url, monkeypatch):
    from app.services import worker as service

    scene = make_scene(tmp_path, sqlite_url)
    monkeypatch.setattr(
        service,
        "upload_limits",
        lambda ctx: {"output.xlsx": 1000, "report.json": 100, "logs.txt": 100},
    )
    job = scene.submit()
    claimed = scene.claim(job["id"]).json
    resp = _finish(scene, job["id"], claimed["claim_id"], files={"report": b"x" * 101})
    assert resp.status_code == 413
    resp = _finish(scene, job["id"], claimed["claim_id"], files={"output": b"x" * 5000})
    assert resp.status_code == 413  # the whole body is past the sum of the bounds
    assert _row(scene, job["id"]).status == "running"  # nothing recorded
    bad = scene.call(
        "POST",
        f"/jobs/{job['id']}:finish",
        data={"claim_id": claimed["claim_id"], "result": '{"status": "done"}'},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert _finish(scene, job["id"], claimed["claim_id"]).status_code == 200


def test_metrics_need_an_admin_or_worker_token(scene):
    scene.submit()
    assert scene.client.get("/metrics").status_code == 401
    viewer = scene.client.post(
        "/api/v1/workspaces/acme/tokens",
        json={"name": "v", "role": "viewer"},
        headers=bearer(scene.admin),
    ).json["secret"]
    assert scene.client.get("/metrics", headers=bearer(viewer)).status_code == 403
    for token in (scene.admin, scene.worker):
        resp = scene.client.get("/metrics", headers=bearer(token))
        assert resp.status_code == 200
        assert resp.mimetype == "text/plain"
    text = resp.data.decode()
    assert 'ade_jobs{state="queued"} 1.0' in text
    assert "ade_jobs_queue_depth 1.0" in text
    assert (
        'ade_http_requests_total{endpoint="jobs.submit_job",method="POST",status="202"}'
        in text
    )
    assert "ade_http_request_duration_seconds_bucket" in text
