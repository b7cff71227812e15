"""What a request costs the database, and the token cache's revocation window.

A draft read or save asks the database one question (workspace and config in one
query) once the caller's token is in the process's principal cache; a revocation
takes effect at once in the process that revoked it and within
``AUTH_CACHE_SECONDS`` everywhere else.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.db import get_engine
from app.services import access
from tests.conftest import admin_secret_for, bearer, make_app

FILE = "columns/email.py"


@pytest.fixture
def site(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    client = app.test_client()
    admin = bearer(admin_secret_for(app))
    client.post("/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=admin)
    made = client.post(
        "/api/v1/workspaces/w/tokens",
        json={"name": "author", "role": "author"},
        headers=admin,
    )
    token = made.json["secret"]
    created = client.post(
        "/api/v1/workspaces/w/configs",
        json={"slug": "c", "title": "C"},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.json
    yield app, client, admin, made.json["id"], token
    access.PRINCIPALS.forget(made.json["id"])


def _statements(app):
    seen: list[str] = []
    with app.app_context():
        engine = get_engine()

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_a_draft_read_and_save_cost_one_query(site):
    app, client, _admin, _id, token = site
    url = f"/api/v1/workspaces/w/configs/c/draft/files/{FILE}"
    assert client.get(url, headers=bearer(token)).status_code == 200  # warms
    seen, stop = _statements(app)
    try:
        read = client.get(url, headers=bearer(token))
        assert read.status_code == 200
        assert len(seen) == 1, seen
        seen.clear()
        saved = client.put(
            url,
            json={"code": "x = 1\n"},
            headers={**bearer(token), "If-Match": read.headers["ETag"]},
        )
        assert saved.status_code == 200, saved.json
        assert len(seen) == 1, seen
    finally:
        stop()


def test_a_revoked_token_stops_at_once_in_this_process(site):
    app, client, admin, token_id, token = site
    url = "/api/v1/workspaces/w/configs/c/draft/files"
    assert client.get(url, headers=bearer(token)).status_code == 200  # cached
    revoke = client.delete(f"/api/v1/workspaces/w/tokens/{token_id}", headers=admin)
    assert revoke.status_code == 204
    assert client.get(url, headers=bearer(token)).status_code == 401


def test_deleting_a_workspace_drops_its_tokens_at_once(site):
    app, client, admin, _token_id, token = site
    assert client.get("/api/v1/workspaces", headers=bearer(token)).status_code == 200
    gone = client.delete("/api/v1/workspaces/w?force=true", headers=admin)
    assert gone.status_code == 204, gone.json
    assert client.get("/api/v1/workspaces", headers=bearer(token)).status_code == 401


def test_a_revocation_elsewhere_takes_effect_within_the_ttl(site, monkeypatch):
    """Another process revoked it: this one keeps its cached principal until the
    entry expires (AUTH_CACHE_SECONDS, 5 by default), then asks the database."""
    app, client, _admin, token_id, token = site
    url = "/api/v1/workspaces/w/configs/c/draft/files"
    now = [1000.0]
    monkeypatch.setattr(access, "_clock", lambda: now[0])
    access.PRINCIPALS.forget(token_id)  # cached on the real clock by the fixture
    assert client.get(url, headers=bearer(token)).status_code == 200  # cached
    with app.app_context():
        with get_engine().begin() as conn:  # what another process's revoke writes
            conn.execute(
                sa.text(
                    "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP "
                    "WHERE id = :id"
                ),
                {"id": token_id},
            )
    now[0] += app.config["AUTH_CACHE_SECONDS"] - 0.5
    assert client.get(url, headers=bearer(token)).status_code == 200  # the window
    now[0] += 1.0
    assert client.get(url, headers=bearer(token)).status_code == 401


def test_without_the_cache_every_request_asks_the_database(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, AUTH_CACHE_SECONDS=0)
    client = app.test_client()
    secret = admin_secret_for(app)
    assert client.get("/api/v1/workspaces", headers=bearer(secret)).status_code == 200
    with app.app_context():
        with get_engine().begin() as conn:
            conn.execute(
                sa.text("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP")
            )
    assert client.get("/api/v1/workspaces", headers=bearer(secret)).status_code == 401
