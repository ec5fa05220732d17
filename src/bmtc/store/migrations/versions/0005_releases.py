"""Frozen releases of pooled tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pooled_releases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("stage", sa.String(24), nullable=False),
        sa.Column("unit", sa.String(24), nullable=False),
        sa.Column("cells", sa.JSON, nullable=False),
        sa.Column("released_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_pooled_releases_key", "pooled_releases",
                    ["metric", "period", "stage"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_pooled_releases_key", "pooled_releases")
    op.drop_table("pooled_releases")
