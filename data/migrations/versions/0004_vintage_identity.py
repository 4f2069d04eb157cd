"""Vintage ids never repeat: ``AUTOINCREMENT`` for ``vintages.id`` on SQLite.

Without it SQLite hands the largest id out again once its row is deleted, so deleting a
series and uploading new data under the same id gave the new vintage the old vintage's id:
caches keyed on it answered with the old forecast, and archived forecasts pointed at data
they were not made from. PostgreSQL's sequence never repeats a value, so this revision
changes nothing there.

The upgrade rebuilds the table (SQLite cannot add ``AUTOINCREMENT`` in place) and starts
the counter above every vintage id still recorded anywhere, including the archive's
``forecasts.vintage_id`` of series deleted before the upgrade.

Revision ID: 0004_vintage_identity
Revises: 0003_jobs
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_vintage_identity"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None

_TABLE = "vintages"


def _has_autoincrement(bind: sa.Connection) -> bool:
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": _TABLE}
    ).scalar_one()
    return "AUTOINCREMENT" in str(sql).upper()


def _rebuild(*, autoincrement: bool) -> None:
    with op.batch_alter_table(_TABLE, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if not _has_autoincrement(bind):
        _rebuild(autoincrement=True)
    top = bind.execute(
        sa.text(
            "SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM vintages"
            " UNION ALL SELECT MAX(vintage_id) FROM forecasts"
            " UNION ALL SELECT MAX(vintage_id) FROM observations)"
        )
    ).scalar()
    if top is not None:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": _TABLE})
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"), {"name": _TABLE, "seq": top}
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and _has_autoincrement(bind):
        _rebuild(autoincrement=False)
