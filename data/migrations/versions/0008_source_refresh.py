"""Official-source connectors: ``source_fetches`` and ``source_refreshes``.

``source_fetches`` records, per vintage written by a connector, the source, the query,
the retrieval time and the source's publication and last-update dates. ``source_refreshes``
holds source queries fetched on a cron schedule (a new vintage only when the data changed).

Revision ID: 0008_source_refresh
Revises: 0006_run_lease
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0008_source_refresh"
down_revision = "0007_published_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_fetches",
        sa.Column("vintage_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("retrieved_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("last_updated", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("vintage_id", name="pk_source_fetches"),
    )
    op.create_index("ix_source_fetches_series_id", "source_fetches", ["series_id"])
    op.create_table(
        "source_refreshes",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("series_id", sa.String(100), nullable=True),
        sa.Column("schedule", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_fire", UTCDateTime(), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.String(16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_source_refreshes"),
    )


def downgrade() -> None:
    op.drop_table("source_refreshes")
    op.drop_index("ix_source_fetches_series_id", table_name="source_fetches")
    op.drop_table("source_fetches")
