"""Configs API: create (repo + rows, all or nothing), list, get, delete."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import admin_secret_for, bearer, make_app
from tests.versions_helpers import (
    AUTHOR,
    config_ids,
    create_config,
    index_rows,
    repo_of,
    ws_url,
)


def test_create_returns_config_with_live_draft_and_clone_url(client, app, workspace):
    cfg = create_config(client, workspace)
    assert cfg["slug"] == "optima" and cfg["title"] == "Optima"
    assert cfg["published"] is None
    assert cfg["clone_url"] == "http://localhost/git/acme/optima.git"
    repo = repo_of(app, workspace["id"], cfg["id"])
    assert cfg["draft"]["commit"] == repo.resolve("draft")
    assert cfg["draft"]["files_hash"] == repo.tree_id("draft")
    paths = {f.path for f in repo.list_files("draft")}
    assert {"manifest.json", "startup.py", "run.py", "table/transform.py"} <= paths
    assert any(p.startswith("columns/") for p in paths)
    rows = index_rows(app, cfg["id"])
    assert [(r.status, r.semver) for r in rows] == [("draft", None)]


def test_get_reads_draft_live_and_list_shows_configs(client, app, workspace):
    cfg = create_config(client, workspace)
    create_config(client, workspace, slug="beta", title="Beta")
    repo = repo_of(app, workspace["id"], cfg["id"])
    commit = repo.write_file("startup.py", b"# changed\n", author=AUTHOR).commit
    h = bearer(workspace["tokens"]["viewer"])
    for ref in (cfg["id"], "optima"):
        got = client.get(f"{ws_url(workspace)}/configs/{ref}", headers=h)
        assert got.status_code == 200
        assert got.json["draft"]["commit"] == commit
        assert got.json["draft"]["files_hash"] == repo.tree_id("draft")
    listed = client.get(f"{ws_url(workspace)}/configs", headers=h)
    assert [c["slug"] for c in listed.json] == ["beta", "optima"]


def test_clone_url_uses_base_url_setting(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, BASE_URL="https://ade.example.com")
    client = app.test_client()
    h = bearer(admin_secret_for(app))
    client.post("/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=h)
    resp = client.post(
        "/api/v1/workspaces/w/configs", json={"slug": "c", "title": "C"}, headers=h
    )
    assert resp.json["clone_url"] == "https://ade.example.com/git/w/c.git"


def test_create_errors(client, workspace):
    url = f"{ws_url(workspace)}/configs"
    t = workspace["tokens"]
    body = {"slug": "optima", "title": "Optima"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=bearer(t["viewer"])).status_code == 403
    assert client.post(url, json=body, headers=bearer(t["author"])).status_code == 201
    dup = client.post(url, json=body, headers=bearer(t["author"]))
    assert dup.status_code == 409 and dup.mimetype == "application/problem+json"
    bad = client.post(
        url, json={"slug": "Bad Slug", "title": ""}, headers=bearer(t["admin"])
    )
    assert bad.status_code == 400
    assert {"slug", "title"} <= set(bad.json["errors"])
    tmpl = client.post(
        url, json={**body, "slug": "x", "template": "nope"}, headers=bearer(t["admin"])
    )
    assert tmpl.status_code == 400 and "template" in tmpl.json["errors"]
    ok = client.post(
        url,
        json={**body, "slug": "y", "template": "default"},
        headers=bearer(t["admin"]),
    )
    assert ok.status_code == 201
    missing = client.get(f"{url}/nope", headers=bearer(t["viewer"]))
    assert missing.status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(f"{url}/optima").status_code == 401
    assert client.get(f"{url}/optima", headers=bearer("ade_bogus")).status_code == 401


def test_failed_repo_creation_leaves_no_row(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, MAX_FILES=2)  # the scaffold has more files
    client = app.test_client()
    h = bearer(admin_secret_for(app))
    client.post("/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=h)
    resp = client.post(
        "/api/v1/workspaces/w/configs", json={"slug": "c", "title": "C"}, headers=h
    )
    assert resp.status_code == 400
    assert config_ids(app) == []
    repos_dir = app.config["DATA_DIR"] / "repos"
    assert not repos_dir.exists() or not any(repos_dir.rglob("*.git"))


def test_failed_sql_insert_removes_the_repo(client, app, workspace):
    # A real database failure: a trigger refuses the draft row after the config
    # row and the repo exist.
    with app.app_context():
        engine = app.extensions["ade.engine"]
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON config_versions "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                )
            )
    resp = client.post(
        f"{ws_url(workspace)}/configs",
        json={"slug": "c", "title": "C"},
        headers=bearer(workspace["tokens"]["admin"]),
    )
    assert resp.status_code == 409, resp.json
    assert config_ids(app) == []
    repos_dir = app.config["DATA_DIR"] / "repos"
    assert not any(repos_dir.rglob("*.git"))


def test_delete_needs_admin_and_force_once_published(client, app, workspace):
    cfg = create_config(client, workspace)
    url = f"{ws_url(workspace)}/configs/{cfg['id']}"
    t = workspace["tokens"]
    pub = client.post(
        f"{url}/publish",
        json={"semver": "1.0.0", "message": "m"},
        headers=bearer(t["publisher"]),
    )
    assert pub.status_code == 201
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=bearer(t["publisher"])).status_code == 403
    resp = client.delete(url, headers=bearer(t["admin"]))
    assert resp.status_code == 409 and "force" in resp.json["detail"]
    repo_path = repo_of(app, workspace["id"], cfg["id"]).path
    assert (
        client.delete(f"{url}?force=true", headers=bearer(t["admin"])).status_code
        == 204
    )
    assert not repo_path.exists()
    assert index_rows(app, cfg["id"]) == []
    assert client.get(url, headers=bearer(t["admin"])).status_code == 404
    assert client.delete(url, headers=bearer(t["admin"])).status_code == 404


def test_delete_unpublished_config_without_force(client, app, workspace):
    cfg = create_config(client, workspace)
    url = f"{ws_url(workspace)}/configs/{cfg['id']}"
    assert (
        client.delete(url, headers=bearer(workspace["tokens"]["admin"])).status_code
        == 204
    )
    assert config_ids(app) == []
    bad = client.delete(
        f"{url}?force=maybe", headers=bearer(workspace["tokens"]["admin"])
    )
    assert bad.status_code == 400


def test_force_delete_cascades_versions_and_jobs(tmp_path, db_url):
    from sqlalchemy import func, select

    from app.models import Document, Job

    app = make_app(tmp_path, db_url)
    client = app.test_client()
    h = bearer(admin_secret_for(app))
    ws = client.post("/api/v1/workspaces", json={"slug": "w", "name": "W"}, headers=h)
    cfg = client.post(
        "/api/v1/workspaces/w/configs", json={"slug": "c", "title": "C"}, headers=h
    ).json
    url = f"/api/v1/workspaces/w/configs/{cfg['id']}"
    version = client.post(f"{url}/publish", json={"semver": "1.0.0"}, headers=h).json
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        doc = Document(
            workspace_id=ws.json["id"],
            filename="a.xlsx",
            content_type="application/octet-stream",
            size=1,
            sha256="0" * 64,
        )
        session.add(doc)
        session.flush()
        session.add(
            Job(
                workspace_id=ws.json["id"],
                config_version_id=version["id"],
                input_document_id=doc.id,
                run_key="k",
            )
        )
        session.commit()
        session.close()
    assert client.delete(f"{url}?force=true", headers=h).status_code == 204
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert index_rows(app, cfg["id"]) == []
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        session.close()
