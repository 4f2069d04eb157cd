"""Delivery log of report runs: ``report_deliveries``, one row per run and channel.

A finished run is sent by e-mail and/or to a webhook (``reports.delivery``); each
channel's outcome (sent or failed, attempts, a secret-free error) is recorded here and shown
with the run record (REST) and by ``tradecast report show --run``.

Revision ID: 0009_delivery_log
Revises: 0006_run_lease
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0009_delivery_log"
down_revision = "0008_source_refresh"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("report_name", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_deliveries"),
    )
    op.create_index("ix_report_deliveries_run_id", "report_deliveries", ["run_id"])
    op.create_index("ix_report_deliveries_report_name", "report_deliveries", ["report_name"])


def downgrade() -> None:
    op.drop_index("ix_report_deliveries_report_name", table_name="report_deliveries")
    op.drop_index("ix_report_deliveries_run_id", table_name="report_deliveries")
    op.drop_table("report_deliveries")
