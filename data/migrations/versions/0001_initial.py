"""Initial schema: series, series_tags, vintages, observations, forecasts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("series_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", name="pk_series"),
    )
    op.create_table(
        "series_tags",
        sa.Column("series_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.series_id"],
            name="fk_series_tags_series_id_series",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "key", name="pk_series_tags"),
    )
    op.create_index("ix_series_tags_key_value", "series_tags", ["key", "value"])
    op.create_table(
        "vintages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.String(100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("release", sa.String(200), nullable=True),
        sa.Column("n_obs", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.series_id"], name="fk_vintages_series_id_series", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_vintages"),
        sa.UniqueConstraint("series_id", "number", name="uq_vintages_series_id_number"),
    )
    op.create_index("ix_vintages_series_id_created_at", "vintages", ["series_id", "created_at"])
    op.create_table(
        "observations",
        sa.Column("vintage_id", sa.Integer(), nullable=False),
        sa.Column("ds", sa.String(16), nullable=False),
        sa.Column("y", sa.Float(), nullable=True),
        # No foreign key to vintages: on PostgreSQL its per-row check made a 1.2M-row COPY
        # 7x slower. Observations are only written in the transaction that creates their
        # vintage, and Store.delete_series deletes them explicitly.
        sa.PrimaryKeyConstraint("vintage_id", "ds", name="pk_observations"),
    )
    op.create_table(
        "forecasts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("series_id", sa.String(100), nullable=True),
        sa.Column("vintage_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("frame", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forecasts"),
    )
    op.create_index("ix_forecasts_series_id", "forecasts", ["series_id"])
    op.create_index("ix_forecasts_model", "forecasts", ["model"])
    op.create_index("ix_forecasts_created_at", "forecasts", ["created_at"])


def downgrade() -> None:
    op.drop_table("forecasts")
    op.drop_table("observations")
    op.drop_table("vintages")
    op.drop_table("series_tags")
    op.drop_table("series")
