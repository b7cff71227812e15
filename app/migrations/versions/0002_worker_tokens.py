"""Worker tokens and claims: the ``worker`` token role, ``jobs.claim_id`` and
``jobs.claimed_by`` (stateless job workers over HTTP, issue 15).

Revision ID: 0002_worker_tokens
Revises: 0001_initial_schema
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_worker_tokens"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('viewer','author','publisher','admin')"
NEW_ROLES = "role IN ('viewer','author','publisher','admin','worker')"


def _set_role_check(condition: str) -> None:
    # batch mode: SQLite cannot alter a CHECK in place, so the table is rebuilt;
    # PostgreSQL gets a plain DROP/ADD CONSTRAINT.
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("ck_api_tokens_role", type_="check")
        batch.create_check_constraint("ck_api_tokens_role", condition)


def upgrade() -> None:
    _set_role_check(NEW_ROLES)
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("claim_id", sa.String(32)))
        batch.add_column(sa.Column("claimed_by", sa.String(32)))
        batch.create_index("ix_jobs_claimed_by", ["claimed_by"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_claimed_by")
        batch.drop_column("claimed_by")
        batch.drop_column("claim_id")
    op.execute("DELETE FROM api_tokens WHERE role = 'worker'")
    _set_role_check(OLD_ROLES)
