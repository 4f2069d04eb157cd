"""Report runs hold a lease: ``report_runs.lease_until``, renewed while the run works.

A run killed mid-way used to stay ``running`` until it was two hours old, and its slot was
never run again. A running run now renews its lease every few seconds; one whose lease has
expired is taken as interrupted and re-run by a conditional UPDATE (one winner, so still
exactly once per slot with several schedulers on one database). Rows written before this
revision have no lease and fall back to the old age limit.

Revision ID: 0006_run_lease
Revises: 0005_structures
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0006_run_lease"
down_revision = "0005_structures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_runs") as batch:
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_runs") as batch:
        batch.drop_column("lease_until")
