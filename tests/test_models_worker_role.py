"""Migration 0002: the ``worker`` token role and the claim columns, on SQLite and
PostgreSQL, upgraded from a database that already holds 0001 data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import db
from app.db import make_engine
from tests.conftest import RUN_ID, _counter, _pg_admin, _pg_url

INSERT = (
    "INSERT INTO api_tokens (id, name, secret_hash, role, created_at) "
    "VALUES (:id, :name, :hash, :role, CURRENT_TIMESTAMP)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database (not migrated): SQLite file or a new PostgreSQL DB."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("pg_template")  # skips/fails when PostgreSQL is absent
    name = f"ade_m_{RUN_ID}_{next(_counter)}"
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def _insert(engine, role: str, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(INSERT),
            {"id": f"t{n}", "name": f"t{n}", "hash": f"h{n}", "role": role},
        )


def test_0002_allows_the_worker_role_and_keeps_the_check(fresh_url):
    db.upgrade(fresh_url, "0001_initial_schema")
    engine = make_engine(fresh_url)
    try:
        _insert(engine, "admin", 1)
        with pytest.raises(sa.exc.IntegrityError):
            _insert(engine, "worker", 2)  # 0001 does not know the role
        db.upgrade(fresh_url)
        _insert(engine, "worker", 3)
        with pytest.raises(sa.exc.IntegrityError):
            _insert(engine, "root", 4)  # still a CHECK, only wider
        with engine.connect() as conn:
            roles = conn.exec_driver_sql("SELECT role FROM api_tokens ORDER BY id")
            assert [r for (r,) in roles] == ["admin", "worker"]  # t1 survived
        columns = {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
        assert {"claim_id", "claimed_by"} <= columns
        # And back: the worker tokens go, the narrow check returns.
        engine.dispose()
        db.downgrade(fresh_url, "0001_initial_schema")
        with pytest.raises(sa.exc.IntegrityError):
            _insert(engine, "worker", 5)
        columns = {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
        assert "claim_id" not in columns
    finally:
        engine.dispose()
