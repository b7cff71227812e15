"""Initial schema: the SQL index of SPEC §3 (no tables for file contents).

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(32)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", ID, primary_key=True),
        sa.Column("slug", sa.String(63), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "configs",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "workspace_id",
            ID,
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "slug"),
    )
    op.create_index("ix_configs_workspace_id", "configs", ["workspace_id"])
    op.create_table(
        "config_versions",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "config_id",
            ID,
            sa.ForeignKey("configs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("semver", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("commit_sha", sa.String(40)),
        sa.Column("files_hash", sa.String(40)),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS),
        sa.CheckConstraint(
            "status IN ('draft','published','deprecated')",
            name="ck_config_versions_status",
        ),
        sa.UniqueConstraint("config_id", "semver"),
    )
    op.create_index("ix_config_versions_config_id", "config_versions", ["config_id"])
    for status in ("draft", "published"):
        op.create_index(
            f"uq_config_versions_one_{status}",
            "config_versions",
            ["config_id"],
            unique=True,
            sqlite_where=sa.text(f"status = '{status}'"),
            postgresql_where=sa.text(f"status = '{status}'"),
        )
    op.create_table(
        "documents",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "workspace_id",
            ID,
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_documents_workspace_id", "documents", ["workspace_id"])
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "workspace_id", ID, sa.ForeignKey("workspaces.id", ondelete="CASCADE")
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint(
            "role IN ('viewer','author','publisher','admin')", name="ck_api_tokens_role"
        ),
    )
    op.create_index("ix_api_tokens_workspace_id", "api_tokens", ["workspace_id"])
    op.create_table(
        "jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "workspace_id",
            ID,
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "config_version_id",
            ID,
            sa.ForeignKey("config_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "input_document_id",
            ID,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("run_key", sa.String(64), nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("metrics", sa.JSON),
        sa.Column("progress", sa.JSON),
        sa.Column("available_at", TS),
        sa.Column("worker", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("heartbeat_at", TS),
        sa.CheckConstraint(
            "status IN ('queued','running','succeeded','failed','cancelled')",
            name="ck_jobs_status",
        ),
    )
    op.create_index("ix_jobs_workspace_id", "jobs", ["workspace_id"])
    op.create_index("ix_jobs_config_version_id", "jobs", ["config_version_id"])
    op.create_index("ix_jobs_input_document_id", "jobs", ["input_document_id"])
    op.create_index("ix_jobs_run_key", "jobs", ["run_key"])
    op.create_index("ix_jobs_status_available", "jobs", ["status", "available_at"])


def downgrade() -> None:
    for table in (
        "jobs",
        "api_tokens",
        "documents",
        "config_versions",
        "configs",
        "workspaces",
    ):
        op.drop_table(table)
