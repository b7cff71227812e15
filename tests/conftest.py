"""Shared fixtures: a real app on a temp data dir, SQLite or a private PostgreSQL DB.

PostgreSQL: each test run gets its own template database (migrated once) and each test
that asks for ``pg_url`` a fresh copy of it; everything is dropped at the end. Outside
CI a missing server skips those tests; in CI (``CI=true``) it fails them.

Shared data (``../shared/data`` beside the checkout, not in the repo): tests that
read it carry ``@pytest.mark.shared_data("sub", "path")`` and may take the
``shared_data`` fixture for its path. Absent outside CI they skip, saying so; in CI
they fail, since there the data must be present.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import pytest

from app import create_app, db
from app.services.tokens import create_token
from runner.sandbox.pool import configure_pool, shutdown_pools
from tests.sandbox_helpers import POOL_SIZE

PG_ADMIN_URL = os.environ.get(
    "ADE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ADE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_ID = uuid.uuid4().hex[:10]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()


def _unavailable(what: str, exc: Exception):
    if IN_CI:
        pytest.fail(f"{what} is required in CI and is not reachable: {exc}")
    pytest.skip(f"{what} not reachable: {exc}")


def require_shared_data(*parts: str) -> Path:
    """``../shared/data/<parts>``; skip (outside CI) or fail (CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(
            f"shared data {path} is missing: CI must provide ../shared/data "
            "beside the checkout"
        )
    pytest.skip(
        f"shared data {path} is absent (../shared/data beside the checkout); "
        "the test runs where it is present, and always with CI=true"
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "shared_data(*parts): reads ../shared/data/<parts>; skipped outside CI when "
        "absent, failed in CI",
    )


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("shared_data")
    if marker is not None:
        require_shared_data(*marker.args)


@pytest.fixture(scope="session", autouse=True)
def sandbox_pool():
    """With ADE_SANDBOX_POOL_SIZE set, every sandboxed run of this test process
    (``run_sandboxed`` called directly or by a test app) takes a warm worker."""
    if POOL_SIZE:
        configure_pool(POOL_SIZE, 600)
    yield
    shutdown_pools()


@pytest.fixture
def shared_data(request) -> Path:
    """The path the test's ``shared_data`` marker names (``../shared/data`` if
    unmarked), checked the same way."""
    marker = request.node.get_closest_marker("shared_data")
    return require_shared_data(*(marker.args if marker else ()))


def _pg_admin():
    import sqlalchemy as sa

    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(scope="session")
def pg_template():
    """A migrated template database private to this test run."""
    name = f"ade_tpl_{RUN_ID}"
    try:
        engine = _pg_admin()
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any connection failure
        _unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    db.upgrade(_pg_url(name))
    yield name
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture
def pg_url(pg_template):
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    name = f"ade_t_{RUN_ID}_{next(_counter)}"
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ade.db'}"
    db.upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "pg_url"
    )


@pytest.fixture
def redis_prefix():
    """A Redis key prefix private to this test; its keys are deleted afterwards."""
    import redis

    prefix = f"ade-test-{RUN_ID}-{next(_counter)}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis at 127.0.0.1:6379", exc)
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def make_app(tmp_path: Path, database_url: str, **overrides):
    data_dir = tmp_path / "data"
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": data_dir,
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
            # A dry run answers with its report when it ends within this: on a
            # loaded machine a short run may take longer than the 5 s default,
            # and most tests read the report; the 202 path's tests set it low.
            "DRY_RUN_SYNC_SECONDS": 120,
            "SANDBOX_POOL_SIZE": POOL_SIZE,
            **overrides,
        }
    )


@pytest.fixture
def app(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url)
    yield app
    executor = app.extensions.get("ade.executor")
    if executor is not None:  # the local executor's threads poll until stopped
        executor.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    with app.app_context():
        s = app.extensions["ade.sessionmaker"]()
        yield s
        s.close()


def admin_secret_for(app) -> str:
    """Create an instance-admin token in ``app``'s database; return its secret."""
    with app.app_context():
        s = app.extensions["ade.sessionmaker"]()
        _token, secret = create_token(s, "admin")
        s.close()
    return secret


@pytest.fixture
def admin_token(app):
    """The secret of an instance-admin token."""
    return admin_secret_for(app)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def other_workspace_admin(client, admin_token: str, slug: str = "other") -> str:
    """Create a second workspace ``slug``; the secret of an admin token of it."""
    resp = client.post(
        "/api/v1/workspaces",
        json={"slug": slug, "name": slug.title()},
        headers=bearer(admin_token),
    )
    assert resp.status_code == 201, resp.json
    return client.post(
        f"/api/v1/workspaces/{slug}/tokens",
        json={"name": "o", "role": "admin"},
        headers=bearer(admin_token),
    ).json["secret"]


@pytest.fixture
def workspace(client, admin_token):
    """A workspace ``acme`` and one token per role: ``{"id", "slug", "tokens"}``."""
    resp = client.post(
        "/api/v1/workspaces",
        json={"slug": "acme", "name": "Acme"},
        headers=bearer(admin_token),
    )
    assert resp.status_code == 201, resp.json
    ws = resp.json
    tokens = {}
    for role in ("viewer", "author", "publisher", "admin"):
        r = client.post(
            f"/api/v1/workspaces/{ws['id']}/tokens",
            json={"name": f"{role}-bot", "role": role},
            headers=bearer(admin_token),
        )
        assert r.status_code == 201, r.json
        tokens[role] = r.json["secret"]
    return {"id": ws["id"], "slug": ws["slug"], "tokens": tokens}
