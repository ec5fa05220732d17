"""Screening: who an organization is (persons, governments, places of business), what a
relationship lets the holder do (officers, contract rights), and list memberships.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("country_principal_place", sa.String(2)))
        batch.add_column(sa.Column("government_level", sa.String(16)))
        batch.add_column(
            sa.Column("nationalities", sa.JSON, nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("residence", sa.String(2)))
        batch.add_column(sa.Column("us_person", sa.Boolean))
        batch.add_column(sa.Column("senior_political_figure", sa.Boolean))
        batch.add_column(sa.Column("publicly_traded", sa.Boolean))
        batch.add_column(
            sa.Column("activity_countries", sa.JSON, nullable=False, server_default="[]")
        )
    with op.batch_alter_table("relationships") as batch:
        batch.add_column(
            sa.Column("officer_rights", sa.JSON, nullable=False, server_default="[]")
        )
        batch.add_column(
            sa.Column("control_rights", sa.JSON, nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("effective_control", sa.Boolean))
    op.create_table(
        "list_memberships",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("list_id", sa.String(40), nullable=False),
        sa.Column("org_id", sa.String(120), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("listed_name", sa.Text),
        sa.Column("listed_from", sa.String(10)),
        sa.Column("listed_to", sa.String(10)),
        sa.Column("source_id", sa.String(16), sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_list_memberships_org", "list_memberships", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_list_memberships_org", "list_memberships")
    op.drop_table("list_memberships")
    with op.batch_alter_table("relationships") as batch:
        for name in ("effective_control", "control_rights", "officer_rights"):
            batch.drop_column(name)
    with op.batch_alter_table("organizations") as batch:
        for name in (
            "activity_countries", "publicly_traded", "senior_political_figure", "us_person",
            "residence", "nationalities", "government_level", "country_principal_place",
        ):
            batch.drop_column(name)
