"""Confidential member submissions (figures per facility and period).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(120), nullable=False),
        sa.Column("facility_id", sa.String(120), sa.ForeignKey("facilities.id"),
                  nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(24), nullable=False),
        sa.Column("submitted_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("superseded_at", TS),
    )
    op.create_index("ix_submissions_cell", "submissions", ["metric", "period"])
    op.create_index("ix_submissions_org", "submissions", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_submissions_org", "submissions")
    op.drop_index("ix_submissions_cell", "submissions")
    op.drop_table("submissions")
