"""Helpers for the stateless-worker tests: an app whose wake-ups are only recorded
(nothing runs a job unless the test does), with a published config, a document and
a worker token."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.services.tokens import create_token
from tests.conftest import admin_secret_for, bearer, make_app
from tests.jobs_helpers import create_config, publish, roster_xlsx, upload


class RecordingExecutor:
    """Stands in for the Celery executor: remembers wake-ups, runs nothing."""

    def __init__(self):
        self.woken: list[str] = []

    def submit(self, job_id: str, countdown: float = 0) -> None:
        self.woken.append(job_id)

    def stop(self, timeout: float = 5.0) -> None:
        pass


@dataclass
class Scene:
    app: object
    client: object
    admin: str
    worker: str
    version: dict
    config: dict
    doc: dict
    data: bytes
    woken: list = field(default_factory=list)

    def submit(self, version_id: str | None = None, **flags) -> dict:
        resp = self.client.post(
            "/api/v1/workspaces/acme/jobs",
            json={
                "config_version_id": version_id or self.version["id"],
                "input_document_id": self.doc["id"],
                "flags": flags,
            },
            headers=bearer(self.admin),
        )
        assert resp.status_code == 202, resp.json
        return resp.json

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        return self.client.open(
            f"/api/v1/worker{path}",
            method=method,
            headers=bearer(token or self.worker),
            **kwargs,
        )

    def claim(self, job_id: str, token: str | None = None):
        return self.call("POST", f"/jobs/{job_id}:claim", token, json={"worker": "t:1"})


def worker_token(app, name: str = "worker-1") -> str:
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        _token, secret = create_token(session, name, "worker")
        session.close()
    return secret


def make_scene(tmp_path, db_url: str, **overrides) -> Scene:
    app = make_app(tmp_path, db_url, JOB_BACKEND="celery", **overrides)
    recorder = RecordingExecutor()
    app.extensions["ade.executor"] = recorder
    client = app.test_client()
    admin = admin_secret_for(app)
    resp = client.post(
        "/api/v1/workspaces", json={"slug": "acme", "name": "A"}, headers=bearer(admin)
    )
    assert resp.status_code == 201, resp.json
    config = create_config(client, "acme", admin)
    version = publish(client, "acme", config["id"], admin, "1.0.0")
    data = roster_xlsx()
    doc = upload(client, "acme", admin, data).json
    return Scene(
        app,
        client,
        admin,
        worker_token(app),
        version,
        config,
        doc,
        data,
        recorder.woken,
    )
