"""The database itself refuses a second draft, a second published row, bad statuses."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import ApiToken, Config, ConfigVersion, Job, Workspace


@pytest.fixture
def s(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def config(s):
    ws = Workspace(slug="w", name="W")
    s.add(ws)
    s.flush()
    cfg = Config(workspace_id=ws.id, slug="c", title="C")
    s.add(cfg)
    s.commit()
    return cfg


def _version(config, status, semver=None):
    return ConfigVersion(config_id=config.id, status=status, semver=semver)


def test_second_draft_is_refused(s, config):
    s.add(_version(config, "draft"))
    s.commit()
    s.add(_version(config, "draft"))
    with pytest.raises(IntegrityError):
        s.commit()


def test_second_published_is_refused_but_deprecated_rows_are_many(s, config):
    s.add_all(
        [
            _version(config, "published", "1.0.0"),
            _version(config, "deprecated", "0.9.0"),
            _version(config, "deprecated", "0.8.0"),
        ]
    )
    s.commit()
    s.add(_version(config, "published", "2.0.0"))
    with pytest.raises(IntegrityError):
        s.commit()


def test_one_draft_and_one_published_per_config_not_per_table(s, config):
    other = Config(workspace_id=config.workspace_id, slug="d", title="D")
    s.add(other)
    s.flush()
    s.add_all(
        [
            _version(config, "draft"),
            _version(config, "published", "1.0.0"),
            _version(other, "draft"),
            _version(other, "published", "1.0.0"),
        ]
    )
    s.commit()


def test_duplicate_semver_is_refused(s, config):
    s.add(_version(config, "published", "1.0.0"))
    s.commit()
    s.add(_version(config, "deprecated", "1.0.0"))
    with pytest.raises(IntegrityError):
        s.commit()


def test_bad_version_status_is_refused_by_check(s, config):
    with pytest.raises(IntegrityError):
        s.execute(
            sa.text(
                "INSERT INTO config_versions (id, config_id, status, created_at) "
                "VALUES ('x', :c, 'live', CURRENT_TIMESTAMP)"
            ),
            {"c": config.id},
        )
        s.commit()


def test_bad_job_status_and_role_are_refused(s, config):
    with pytest.raises(IntegrityError):
        s.add(ApiToken(name="t", secret_hash="h", role="root"))
        s.commit()
    s.rollback()
    with pytest.raises(IntegrityError):
        s.add(
            Job(
                workspace_id=config.workspace_id,
                config_version_id="nope",
                input_document_id="nope",
                run_key="k",
                status="exploded",
            )
        )
        s.commit()


def test_no_file_tables_and_no_legacy_tables(s):
    names = set(sa.inspect(s.get_bind()).get_table_names())
    assert {
        "workspaces",
        "configs",
        "config_versions",
        "documents",
        "api_tokens",
        "jobs",
    } <= names
    assert not names & {
        "config_files",
        "configurations",
        "configuration_script_versions",
        "configuration_columns",
    }


def test_sqlite_runs_in_wal_mode(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
