"""Fixtures for the draft API tests: one app per module, a fresh config per test.

Building an app (migrations, workspace, one token per role) costs ~0.7 s, a config
~20 ms, so tests share the app of their module and each gets its own config.
Import the fixtures into a test module: ``from tests.draft_helpers import env, cfg``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import pytest

from app import db
from app.services.tokens import create_token
from tests.conftest import bearer, make_app

ROLES = ("viewer", "author", "publisher", "admin")
_slugs = itertools.count()


@dataclass
class Env:
    """A running app with workspace ``acme`` (one token per role), an instance
    admin, and a second workspace ``other`` with its own admin token."""

    app: object
    client: object
    admin: str
    tokens: dict[str, str]
    other_token: str


@dataclass
class Cfg:
    """One config of ``acme`` and helpers to call its draft API."""

    env: Env
    id: str
    slug: str
    role: str = "author"
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/acme/configs/{self.id}"

    def headers(self, role: str | None = None, **extra: str) -> dict:
        token = self.env.tokens[role] if role else self.env.tokens[self.role]
        return {**bearer(token), **extra}

    def get(self, url: str, role: str | None = None, **hdrs: str):
        return self.env.client.get(self.base + url, headers=self.headers(role, **hdrs))

    def post(self, url: str, body=None, role: str | None = None, **hdrs: str):
        return self.env.client.post(
            self.base + url, json=body, headers=self.headers(role, **hdrs)
        )

    def put(self, path: str, code: str, role: str | None = None, **hdrs: str):
        return self.env.client.put(
            f"{self.base}/draft/files/{path}",
            json={"code": code},
            headers=self.headers(role, **hdrs),
        )

    def delete(self, path: str, role: str | None = None, **hdrs: str):
        return self.env.client.delete(
            f"{self.base}/draft/files/{path}", headers=self.headers(role, **hdrs)
        )

    def patch(self, body, role: str | None = None, ctype=None, **hdrs: str):
        return self.env.client.patch(
            f"{self.base}/draft/manifest",
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            content_type=ctype or "application/merge-patch+json",
            headers=self.headers(role, **hdrs),
        )

    def file(self, path: str) -> dict:
        resp = self.get(f"/draft/files/{path}")
        assert resp.status_code == 200, resp.json
        return resp.json

    def manifest(self) -> tuple[dict, str]:
        resp = self.get("/draft/manifest")
        assert resp.status_code == 200, resp.json
        return resp.json, resp.headers["ETag"].strip('"')


def build_env(tmp_path) -> Env:
    """An app on SQLite under ``tmp_path`` with the workspaces and tokens of Env."""
    url = f"sqlite:///{tmp_path / 'ade.db'}"
    db.upgrade(url)
    app = make_app(tmp_path, url)
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        _token, admin = create_token(session, "admin")
        session.close()
    client = app.test_client()
    tokens = {}
    for slug in ("acme", "other"):
        resp = client.post(
            "/api/v1/workspaces",
            json={"slug": slug, "name": slug},
            headers=bearer(admin),
        )
        assert resp.status_code == 201, resp.json
    for role in ROLES:
        resp = client.post(
            "/api/v1/workspaces/acme/tokens",
            json={"name": f"{role}-bot", "role": role},
            headers=bearer(admin),
        )
        tokens[role] = resp.json["secret"]
    resp = client.post(
        "/api/v1/workspaces/other/tokens",
        json={"name": "other-admin", "role": "admin"},
        headers=bearer(admin),
    )
    return Env(app, client, admin, tokens, resp.json["secret"])


def new_config(env: Env, slug: str | None = None) -> Cfg:
    """A config of ``acme`` created through the API (scaffolded draft)."""
    slug = slug or f"cfg-{next(_slugs)}"
    resp = env.client.post(
        "/api/v1/workspaces/acme/configs",
        json={"slug": slug, "title": slug.title()},
        headers=bearer(env.admin),
    )
    assert resp.status_code == 201, resp.json
    return Cfg(env, resp.json["id"], slug)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Env:
    return build_env(tmp_path_factory.mktemp("draft-env"))


@pytest.fixture
def cfg(env) -> Cfg:
    return new_config(env)
