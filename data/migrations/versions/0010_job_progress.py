"""Progress of long work: ``job_progress``, one row per job of any kind.

Batch forecasts, structure forecasts, report runs and source refreshes record the items
done out of their total, the items that failed (with code and message) and when they
started, while they run; REST job and run records show it, with an estimated time left.

Revision ID: 0010_job_progress
Revises: 0009_delivery_log
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0010_job_progress"
down_revision = "0009_delivery_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_progress",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(100), nullable=False),
        sa.Column("n_total", sa.Integer(), nullable=False),
        sa.Column("n_done", sa.Integer(), nullable=False),
        sa.Column("n_failed", sa.Integer(), nullable=False),
        sa.Column("n_retried", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "job_id", name="pk_job_progress"),
    )


def downgrade() -> None:
    op.drop_table("job_progress")
