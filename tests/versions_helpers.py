"""Helpers for the configs/versions API tests: create configs, reach their repos,
and compare git with the SQL index."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.models import Config, ConfigVersion
from repos.repo import ConfigRepo
from repos.store import Store
from repos.types import Author
from tests.conftest import bearer

AUTHOR = Author("Test Writer", "writer@example.test")


def ws_url(ws: dict) -> str:
    return f"/api/v1/workspaces/{ws['slug']}"


def make_workspace(client, admin_secret: str, slug: str) -> dict:
    """A workspace and one token per role, like conftest's ``workspace`` fixture."""
    resp = client.post(
        "/api/v1/workspaces",
        json={"slug": slug, "name": slug},
        headers=bearer(admin_secret),
    )
    assert resp.status_code == 201, resp.json
    tokens = {}
    for role in ("viewer", "author", "publisher", "admin"):
        r = client.post(
            f"/api/v1/workspaces/{slug}/tokens",
            json={"name": f"{role}-bot", "role": role},
            headers=bearer(admin_secret),
        )
        tokens[role] = r.json["secret"]
    return {"id": resp.json["id"], "slug": slug, "tokens": tokens}


def create_config(client, ws: dict, slug: str = "optima", title: str = "Optima"):
    """POST a config as the workspace admin; return its JSON."""
    resp = client.post(
        f"{ws_url(ws)}/configs",
        json={"slug": slug, "title": title},
        headers=bearer(ws["tokens"]["admin"]),
    )
    assert resp.status_code == 201, resp.json
    return resp.json


def repo_of(app, ws_id: str, config_id: str) -> ConfigRepo:
    return Store(app.config["DATA_DIR"] / "repos").open(ws_id, config_id)


def save(repo: ConfigRepo, path: str, text: str) -> str:
    """One draft commit creating or updating ``path``; return the new commit."""
    current = {f.path for f in repo.list_files("draft")}
    result = repo.write_file(
        path, text.encode(), author=AUTHOR, create=path not in current
    )
    return result.commit


def set_manifest(repo: ConfigRepo, **changes) -> None:
    manifest = json.loads(repo.read_file("manifest.json").data)
    manifest.update(changes)
    save(repo, "manifest.json", json.dumps(manifest, indent=2))


def index_rows(app, config_id: str) -> list[ConfigVersion]:
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        try:
            return list(
                session.scalars(
                    select(ConfigVersion).where(ConfigVersion.config_id == config_id)
                )
            )
        finally:
            session.close()


def config_ids(app) -> list[str]:
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        try:
            return list(session.scalars(select(Config.id)))
        finally:
            session.close()


def assert_git_matches_sql(repo: ConfigRepo, rows: list[ConfigVersion]) -> None:
    """Every tag has its row and vice versa; one published row = main's version;
    files_hash and commit equal the tag's."""
    tags = {t.semver: t for t in repo.tags()}
    versions = {r.semver: r for r in rows if r.status != "draft"}
    assert set(tags) == set(versions), (sorted(tags), sorted(versions))
    assert sum(r.status == "draft" for r in rows) == 1
    for semver, tag in tags.items():
        assert versions[semver].files_hash == tag.tree == repo.tree_id(f"v{semver}")
        assert versions[semver].commit_sha == tag.commit
    published = [r for r in rows if r.status == "published"]
    if tags:
        assert len(published) == 1
        assert published[0].commit_sha == repo.main_commit()
    else:
        assert published == [] and repo.main_commit() is None
