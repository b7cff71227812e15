"""SPEC §3: the migrated schema has every table and column the SPEC names, and no
table for file contents."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import make_engine

SPEC_COLUMNS = {
    "workspaces": "id slug name created_at",
    "configs": "id workspace_id slug title created_by created_at",
    "config_versions": "id config_id semver status message commit_sha files_hash "
    "created_by created_at published_at",
    "documents": "id workspace_id filename content_type size sha256 created_at",
    "api_tokens": "id name secret_hash workspace_id role created_at last_used_at "
    "revoked_at",
    "jobs": "id workspace_id config_version_id input_document_id run_key flags status "
    "attempts error metrics created_at started_at finished_at heartbeat_at",
}
SPEC_FKS = {
    ("configs", "workspace_id"): "workspaces",
    ("config_versions", "config_id"): "configs",
    ("documents", "workspace_id"): "workspaces",
    ("api_tokens", "workspace_id"): "workspaces",
    ("jobs", "workspace_id"): "workspaces",
    ("jobs", "config_version_id"): "config_versions",
    ("jobs", "input_document_id"): "documents",
}


def test_migrated_schema_has_the_spec_tables_columns_and_keys(db_url):
    engine = make_engine(db_url)
    try:
        insp = sa.inspect(engine)
        assert set(insp.get_table_names()) == {*SPEC_COLUMNS, "alembic_version"}
        with engine.connect() as conn:
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert revision.scalar() == "0002_worker_tokens"
        for table, names in SPEC_COLUMNS.items():
            columns = {c["name"]: c for c in insp.get_columns(table)}
            assert set(names.split()) <= set(columns), table
        nullable = {
            (t, c["name"]): c["nullable"]
            for t in SPEC_COLUMNS
            for c in insp.get_columns(t)
        }
        assert nullable[("jobs", "config_version_id")] is False
        assert nullable[("jobs", "input_document_id")] is False
        assert nullable[("api_tokens", "workspace_id")] is True  # instance admin
        assert nullable[("config_versions", "semver")] is True  # the draft row
        fks = {
            (t, fk["constrained_columns"][0]): fk["referred_table"]
            for t in SPEC_COLUMNS
            for fk in insp.get_foreign_keys(t)
        }
        assert fks == SPEC_FKS
        uniques = {
            t: {tuple(u["column_names"]) for u in insp.get_unique_constraints(t)}
            | {
                tuple(i["column_names"])
                for i in insp.get_indexes(t)
                if i["unique"] and not i.get("dialect_options")
            }
            for t in ("workspaces", "configs", "config_versions")
        }
        assert ("slug",) in uniques["workspaces"]
        assert ("workspace_id", "slug") in uniques["configs"]
        assert ("config_id", "semver") in uniques["config_versions"]
        partial = {
            i["name"]
            for i in insp.get_indexes("config_versions")
            if i["unique"] and i["column_names"] == ["config_id"]
        }
        assert partial == {
            "uq_config_versions_one_draft",
            "uq_config_versions_one_published",
        }
    finally:
        engine.dispose()
