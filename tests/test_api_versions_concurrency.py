"""Concurrent publishes: one winner per semver, never two published rows, and git
and SQL agree afterwards (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from tests.conftest import admin_secret_for, bearer, make_app
from tests.versions_helpers import (
    assert_git_matches_sql,
    index_rows,
    repo_of,
)

THREADS = 6


def _setup(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    client = app.test_client()
    h = bearer(admin_secret_for(app))
    ws = client.post("/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=h)
    cfg = client.post(
        "/api/v1/workspaces/w/configs", json={"slug": "c", "title": "C"}, headers=h
    ).json
    url = f"/api/v1/workspaces/w/configs/{cfg['id']}"
    return app, h, ws.json["id"], cfg["id"], url


def _race(app, url, headers, semvers) -> list[int]:
    barrier = threading.Barrier(len(semvers))
    codes: list[int] = [0] * len(semvers)

    def body(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"{url}/publish",
            json={"semver": semvers[i], "message": "race"},
            headers=headers,
        )
        codes[i] = resp.status_code

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(semvers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_same_semver_one_201_rest_409(tmp_path, db_url):
    app, h, ws_id, cfg_id, url = _setup(tmp_path, db_url)
    codes = _race(app, url, h, ["1.0.0"] * THREADS)
    assert sorted(codes) == [201] + [409] * (THREADS - 1)
    rows = index_rows(app, cfg_id)
    assert [r.semver for r in rows if r.status == "published"] == ["1.0.0"]
    assert_git_matches_sql(repo_of(app, ws_id, cfg_id), rows)


def test_different_semvers_never_two_published(tmp_path, db_url):
    app, h, ws_id, cfg_id, url = _setup(tmp_path, db_url)
    semvers = [f"1.{i}.0" for i in range(THREADS)]
    codes = _race(app, url, h, semvers)
    assert set(codes) <= {201, 409} and 201 in codes
    # Whatever the interleaving, a 201 was strictly greater than all before it.
    rows = index_rows(app, cfg_id)
    assert sum(r.status == "published" for r in rows) == 1
    published = [semvers[i] for i, c in enumerate(codes) if c == 201]
    assert {r.semver for r in rows if r.semver} == set(published)
    assert_git_matches_sql(repo_of(app, ws_id, cfg_id), rows)
