"""SPEC §4 field names and formats checked end to end: versions, jobs (run_key,
reused, outputs), and commit authors from the token name and the e-mail domain."""

from __future__ import annotations

import hashlib
import json

import pygit2
import pytest

from app import db
from app.services.tokens import create_token
from tests.conftest import bearer, make_app
from tests.jobs_helpers import (
    create_config,
    publish,
    put_file,
    roster_xlsx,
    upload,
    wait_for_job,
)

VERSION_KEYS = {
    "id", "semver", "status", "message", "files_hash", "commit", "created_at",
    "published_at",
}  # fmt: skip
JOB_KEYS = {
    "id", "config_version_id", "input_document_id", "run_key", "flags", "status",
    "attempts", "metrics", "error", "created_at", "started_at", "finished_at",
    "heartbeat_at", "reused",
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spec")
    url = f"sqlite:///{tmp / 'ade.db'}"
    db.upgrade(url)
    app = make_app(tmp, url, GIT_EMAIL_DOMAIN="example.test")
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        _token, admin = create_token(session, "root")
        session.close()
    client = app.test_client()
    client.post(
        "/api/v1/workspaces", json={"slug": "acme", "name": "A"}, headers=bearer(admin)
    )
    token = client.post(
        "/api/v1/workspaces/acme/tokens",
        json={"name": "Release Bot", "role": "publisher"},
        headers=bearer(admin),
    )
    assert token.status_code == 201
    assert set(token.json) >= {"id", "name", "role", "secret"}
    return app, client, token.json["secret"]


def test_token_name_and_email_domain_sign_commits_and_tags(env):
    app, client, token = env
    cfg = create_config(client, "acme", token, slug="signed")
    base = f"/api/v1/workspaces/acme/configs/{cfg['id']}"
    current = client.get(f"{base}/draft/files/startup.py", headers=bearer(token))
    saved = client.put(
        f"{base}/draft/files/startup.py",
        json={"code": "# v2\n"},
        headers={**bearer(token), "If-Match": current.headers["ETag"]},
    )
    assert saved.status_code == 200
    publish(client, "acme", cfg["id"], token, "1.0.0")
    path = app.config["DATA_DIR"] / "repos" / cfg["workspace_id"] / f"{cfg['id']}.git"
    repo = pygit2.Repository(str(path))
    commit = repo[pygit2.Oid(hex=saved.json["commit"])]
    assert commit.message.strip() == "Update startup.py"
    for sig in (commit.author, commit.committer):
        assert (sig.name, sig.email) == ("Release Bot", "Release-Bot@example.test")
    tag = repo.revparse_single("refs/tags/v1.0.0")
    assert tag.type == pygit2.enums.ObjectType.TAG  # annotated
    assert (tag.message.strip(), tag.tagger.name) == ("Release 1.0.0", "Release Bot")


def test_versions_and_jobs_carry_the_spec_fields(env):
    _app, client, token = env
    cfg = create_config(client, "acme", token, slug="jobs")
    version = publish(client, "acme", cfg["id"], token, "1.0.0")
    assert set(version) >= VERSION_KEYS
    listed = client.get(
        f"/api/v1/workspaces/acme/configs/{cfg['id']}/versions", headers=bearer(token)
    ).json
    assert [v["status"] for v in listed] == ["draft", "published"]
    assert all(set(v) >= VERSION_KEYS for v in listed)

    data = roster_xlsx()
    doc = upload(client, "acme", token, data).json
    assert set(doc) >= {"id", "filename", "size", "sha256"}
    flags = {"sample_rows": 5}
    resp = client.post(
        "/api/v1/workspaces/acme/jobs",
        json={
            "config_version_id": version["id"],
            "input_document_id": doc["id"],
            "flags": flags,
        },
        headers=bearer(token),
    )
    assert resp.status_code == 202
    assert set(resp.json) >= JOB_KEYS and resp.json["reused"] is False
    material = "|".join(
        (hashlib.sha256(data).hexdigest(), version["files_hash"],
         json.dumps(flags, sort_keys=True, separators=(",", ":")), "")
    )  # fmt: skip
    assert resp.json["run_key"] == hashlib.sha256(material.encode()).hexdigest()
    job = wait_for_job(client, "acme", resp.json["id"], token)
    assert job["status"] == "succeeded", job
    url = f"/api/v1/workspaces/acme/jobs/{job['id']}"
    logs = client.get(f"{url}/logs", headers=bearer(token))
    assert logs.status_code == 200
    assert logs.headers["Content-Type"] == "text/plain; charset=utf-8"
    report = client.get(f"{url}/report", headers=bearer(token))
    assert report.mimetype == "application/json"
    assert {"tables", "findings", "logs", "metrics"} <= set(report.json)
    listed = client.get(
        f"/api/v1/workspaces/acme/jobs?status=succeeded&config_id={cfg['id']}",
        headers=bearer(token),
    ).json
    assert [j["id"] for j in listed] == [job["id"]]


COUNTING = (
    "def detect_count(*, header, values, **_):\n"
    "    return float(len(values)) if header == 'E-mail' else None\n"
)


def test_dry_run_sample_rows_limits_what_detectors_see(env):
    _app, client, token = env
    cfg = create_config(client, "acme", token, slug="sampled")
    put_file(client, "acme", cfg["id"], token, "columns/email.py", COUNTING)
    doc = upload(client, "acme", token, roster_xlsx(rows=5)).json
    url = f"/api/v1/workspaces/acme/configs/{cfg['id']}/draft:dry-run"

    def email_score(body):
        resp = client.post(url, json=body, headers=bearer(token))
        assert resp.status_code == 200 and resp.json["status"] == "succeeded"
        assert {"tables", "findings", "logs", "metrics"} <= set(resp.json)
        table = next(t for t in resp.json["tables"] if t["rows"])
        return next(c for c in table["columns"] if c["header"] == "E-mail")["score"]

    assert email_score({"documentId": doc["id"]}) == 6.0  # 5 people + 1 bad row
    assert email_score({"documentId": doc["id"], "sample_rows": 2}) == 2.0


def test_the_docs_page_runs_no_inline_script_and_cannot_be_framed(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    page = resp.get_data(as_text=True)
    assert "<script>" not in page and "swagger-init.js" in page
    script = client.get("/static/swagger-init.js")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.data
