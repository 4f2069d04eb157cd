"""Batch-job table api_jobs, now part of the one Alembic history (see data/tables.py).

Databases made before this revision already have ``api_jobs``: the REST service created it
with its own ``MetaData.create_all`` at start-up. The upgrade then keeps that table and its
rows; it only creates the table (and its status index) where it is missing.

Revision ID: 0003_jobs
Revises: 0002_reports
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0003_jobs"
down_revision = "0002_reports"
branch_labels = None
depends_on = None

_TABLE = "api_jobs"
_INDEX = "ix_api_jobs_status"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(_TABLE):
        op.create_table(
            _TABLE,
            sa.Column("id", sa.String(32), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("request", sa.Text(), nullable=False),
            sa.Column("result", sa.Text(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("n_items", sa.Integer(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("owner", sa.String(32), nullable=True),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False),
            sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_api_jobs"),
        )
    if _INDEX not in {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(_TABLE)}:
        op.create_index(_INDEX, _TABLE, ["status"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name=_TABLE)
    op.drop_table(_TABLE)
