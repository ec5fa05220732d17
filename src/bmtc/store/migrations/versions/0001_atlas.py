"""Atlas: sources, organizations, relationships, facilities, status history, funding, changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _source() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("source_id", sa.String(16), sa.ForeignKey("sources.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("publisher", sa.Text),
        sa.Column("as_of", sa.String(10)),
        sa.Column("confidence", sa.String(16), nullable=False),
    )
    op.create_table(
        "dataset_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("country_incorporation", sa.String(2)),
        sa.Column("country_hq", sa.String(2)),
        sa.Column("lei", sa.String(20)),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("website", sa.Text),
        sa.Column("coalition_member", sa.Boolean, nullable=False),
        sa.Column("stages", sa.JSON, nullable=False),
        _source(),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("is_stub", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "relationships",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(120), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("owned_id", sa.String(120), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("equity_pct", sa.String(32)),
        sa.Column("voting_pct", sa.String(32)),
        sa.Column("board_seats_held", sa.Integer),
        sa.Column("board_seats_total", sa.Integer),
        sa.Column("debt_share_pct", sa.String(32)),
        sa.Column("agreement", sa.Text),
        sa.Column("valid_from", sa.String(10)),
        sa.Column("valid_to", sa.String(10)),
        _source(),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_relationships_owner", "relationships", ["owner_id"])
    op.create_index("ix_relationships_owned", "relationships", ["owned_id"])
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column(
            "operator_id", sa.String(120), sa.ForeignKey("organizations.id"), nullable=False
        ),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("source_category", sa.Text),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("chemistries", sa.JSON, nullable=False),
        sa.Column("city", sa.Text),
        sa.Column("state_province", sa.String(8)),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("coordinates_precision", sa.String(8)),
        sa.Column("capacity_value", sa.Float),
        sa.Column("capacity_unit", sa.String(16)),
        sa.Column("capacity_basis", sa.String(40)),
        sa.Column("capacity_year", sa.Integer),
        sa.Column("start_year", sa.Integer),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("status_as_of", sa.String(10), nullable=False),
        _source(),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_facilities_stage_country", "facilities", ["stage", "country"])
    op.create_index("ix_facilities_status", "facilities", ["status"])
    op.create_index("ix_facilities_state", "facilities", ["country", "state_province"])
    op.create_index("ix_facilities_operator", "facilities", ["operator_id"])
    op.create_table(
        "status_events",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("facility_id", sa.String(120), sa.ForeignKey("facilities.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        _source(),
        sa.Column("notes", sa.Text),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index("ix_status_events_facility", "status_events", ["facility_id", "as_of"])
    op.create_table(
        "funding_awards",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column(
            "recipient_id", sa.String(120), sa.ForeignKey("organizations.id"), nullable=False
        ),
        sa.Column("facility_id", sa.String(120), sa.ForeignKey("facilities.id")),
        sa.Column("program", sa.Text, nullable=False),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("instrument", sa.String(24), nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("award_status", sa.String(16), nullable=False),
        sa.Column("announced", sa.String(10)),
        _source(),
        sa.Column("notes", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_funding_facility", "funding_awards", ["facility_id"])
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
        sa.Column("entity_type", sa.String(24), nullable=False),
        sa.Column("entity_id", sa.String(120), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("as_of", sa.String(10)),
        sa.Column("source_id", sa.String(16), sa.ForeignKey("sources.id")),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index("ix_changes_entity", "changes", ["entity_type", "entity_id"])


def downgrade() -> None:
    for table in (
        "changes", "funding_awards", "status_events", "facilities", "relationships",
        "organizations", "imports", "dataset_info", "sources",
    ):
        op.drop_table(table)
