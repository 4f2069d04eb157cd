"""Batch jobs hold a lease like report runs: ``api_jobs.lease_until`` replaces ``heartbeat_at``.

A batch job recorded when its owner last renewed its claim (``heartbeat_at``) and a report
run when its claim ends (``lease_until``); the two were read with two settings. Every durable
job now stores the end of its lease, renewed every third of ``TRADECAST_JOB_LEASE_SECONDS``,
and is taken over once it has passed. An active job keeps its claim: its lease is set to end
30 seconds after its last heartbeat (the old default for taking a job over).

Revision ID: 0011_job_lease
Revises: 0010_job_progress
Create Date: 2026-12-08
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0011_job_lease"
down_revision = "0010_job_progress"
branch_labels = None
depends_on = None

#: The old default of TRADECAST_JOB_STALE_SECONDS: how long a heartbeat kept a job claimed.
_OLD_STALE = timedelta(seconds=30)


def _jobs(column: str) -> sa.TableClause:
    return sa.table("api_jobs", sa.column("id", sa.String(32)), sa.column(column, UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table("api_jobs") as batch:
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
    bind = op.get_bind()
    beats, leases = _jobs("heartbeat_at"), _jobs("lease_until")
    for job_id, beat in bind.execute(sa.select(beats.c.id, beats.c.heartbeat_at)).all():
        bind.execute(sa.update(leases).where(leases.c.id == job_id).values(lease_until=beat + _OLD_STALE))
    with op.batch_alter_table("api_jobs") as batch:
        batch.alter_column("lease_until", existing_type=UTCDateTime(), nullable=False)
        batch.drop_column("heartbeat_at")


def downgrade() -> None:
    with op.batch_alter_table("api_jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
    bind = op.get_bind()
    leases, beats = _jobs("lease_until"), _jobs("heartbeat_at")
    for job_id, until in bind.execute(sa.select(leases.c.id, leases.c.lease_until)).all():
        bind.execute(sa.update(beats).where(beats.c.id == job_id).values(heartbeat_at=until - _OLD_STALE))
    with op.batch_alter_table("api_jobs") as batch:
        batch.alter_column("heartbeat_at", existing_type=UTCDateTime(), nullable=False)
        batch.drop_column("lease_until")
