"""Vintages carry a publication date: ``vintages.published_at``, apart from the time stored.

A release loaded today of figures an office published last year keeps its publication date,
so reads ``as_of`` a date see what had been published by then. Rows written before this
revision have no publication date; reads fall back to their stored time (``created_at``).

Revision ID: 0007_published_at
Revises: 0006_run_lease
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0007_published_at"
down_revision = "0006_run_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vintages") as batch:
        batch.add_column(sa.Column("published_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vintages") as batch:
        batch.drop_column("published_at")
