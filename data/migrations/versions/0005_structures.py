"""Stored structures: table ``structures`` (hierarchies and compositions over stored series).

Revision ID: 0005_structures
Revises: 0004_vintage_identity
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.tables import UTCDateTime

revision = "0005_structures"
down_revision = "0004_vintage_identity"
branch_labels = None
depends_on = None

_TABLE = "structures"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(32), nullable=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_structures"),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
