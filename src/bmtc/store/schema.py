"""Relational schema of the store (SQLAlchemy Core). Migrations in `migrations/` create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def _source_fk() -> Column[str]:
    return Column("source_id", String(16), ForeignKey("sources.id"), nullable=False)


sources = Table(
    "sources",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("url", Text, nullable=False),
    Column("publisher", Text),
    Column("as_of", String(10)),
    Column("confidence", String(16), nullable=False),
)

dataset_info = Table(
    "dataset_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(16), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("counts", JSON, nullable=False),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("country_incorporation", String(2)),
    Column("country_hq", String(2)),
    Column("country_principal_place", String(2)),
    Column("government_level", String(16)),
    Column("nationalities", JSON, nullable=False),
    Column("residence", String(2)),
    Column("us_person", Boolean),
    Column("senior_political_figure", Boolean),
    Column("publicly_traded", Boolean),
    Column("activity_countries", JSON, nullable=False),
    Column("lei", String(20)),
    Column("aliases", JSON, nullable=False),
    Column("website", Text),
    Column("coalition_member", Boolean, nullable=False),
    Column("stages", JSON, nullable=False),
    _source_fk(),
    Column("verified", Boolean, nullable=False),
    Column("notes", Text),
    # A stub is an organization known only as a facility's operator name.
    Column("is_stub", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

relationships = Table(
    "relationships",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("owner_id", String(120), ForeignKey("organizations.id"), nullable=False),
    Column("owned_id", String(120), ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("equity_pct", String(32)),
    Column("voting_pct", String(32)),
    Column("board_seats_held", Integer),
    Column("board_seats_total", Integer),
    Column("debt_share_pct", String(32)),
    Column("agreement", Text),
    Column("officer_rights", JSON, nullable=False),
    Column("control_rights", JSON, nullable=False),
    Column("effective_control", Boolean),
    Column("valid_from", String(10)),
    Column("valid_to", String(10)),
    _source_fk(),
    Column("verified", Boolean, nullable=False),
    Column("notes", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_relationships_owner", "owner_id"),
    Index("ix_relationships_owned", "owned_id"),
)

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("name", Text, nullable=False),
    Column("operator_id", String(120), ForeignKey("organizations.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("source_category", Text),
    Column("products", JSON, nullable=False),
    Column("chemistries", JSON, nullable=False),
    Column("city", Text),
    Column("state_province", String(8)),
    Column("country", String(2), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("coordinates_precision", String(8)),
    Column("capacity_value", Float),
    Column("capacity_unit", String(16)),
    Column("capacity_basis", String(40)),
    Column("capacity_year", Integer),
    Column("start_year", Integer),
    Column("status", String(24), nullable=False),
    Column("status_as_of", String(10), nullable=False),
    _source_fk(),
    Column("verified", Boolean, nullable=False),
    Column("notes", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_facilities_stage_country", "stage", "country"),
    Index("ix_facilities_status", "status"),
    Index("ix_facilities_state", "country", "state_province"),
    Index("ix_facilities_operator", "operator_id"),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("facility_id", String(120), ForeignKey("facilities.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("as_of", String(10), nullable=False),
    _source_fk(),
    Column("notes", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_status_events_facility", "facility_id", "as_of"),
)

funding_awards = Table(
    "funding_awards",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("recipient_id", String(120), ForeignKey("organizations.id"), nullable=False),
    Column("facility_id", String(120), ForeignKey("facilities.id")),
    Column("program", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("instrument", String(24), nullable=False),
    Column("amount", Float),
    Column("currency", String(3), nullable=False),
    Column("award_status", String(16), nullable=False),
    Column("announced", String(10)),
    _source_fk(),
    Column("notes", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_funding_facility", "facility_id"),
)

list_memberships = Table(
    "list_memberships",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("list_id", String(40), nullable=False),
    Column("org_id", String(120), ForeignKey("organizations.id"), nullable=False),
    Column("listed_name", Text),
    Column("listed_from", String(10)),
    Column("listed_to", String(10)),
    _source_fk(),
    Column("notes", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_list_memberships_org", "org_id"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Column("entity_type", String(24), nullable=False),
    Column("entity_id", String(120), nullable=False),
    Column("field", String(40), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("as_of", String(10)),
    Column("source_id", String(16), ForeignKey("sources.id")),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_changes_entity", "entity_type", "entity_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    # Stored lower-cased, so uniqueness is case-insensitive on every backend.
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", Text),
    Column("role", String(16), nullable=False),
    # Deliberately no foreign key: an atlas re-import may replace organizations.
    Column("organization_id", String(120)),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("role IN ('public', 'member', 'analyst', 'admin')", name="ck_users_role"),
    CheckConstraint("role <> 'member' OR organization_id IS NOT NULL",
                    name="ck_users_member_org"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    # SHA-256 of the secret: the secret itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(8), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
    Index("ix_api_tokens_prefix", "prefix"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("entity", String(24), nullable=False),
    Column("entity_id", String(120), nullable=False),
    Column("before", Text),
    Column("after", Text),
    Index("ix_audit_log_entity", "entity", "entity_id"),
    Index("ix_audit_log_at", "at"),
)

# Confidential member figures: one row per value; a correction supersedes the row it replaces
# (superseded_at), so nothing submitted is ever lost.
submissions = Table(
    "submissions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(120), nullable=False),
    Column("facility_id", String(120), ForeignKey("facilities.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("metric", String(24), nullable=False),
    Column("country", String(2)),
    Column("value", Float, nullable=False),
    Column("unit", String(24), nullable=False),
    Column("submitted_by", String(32), ForeignKey("users.id"), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
    Index("ix_submissions_cell", "metric", "period"),
    Index("ix_submissions_org", "organization_id"),
)

# Frozen publications of pooled tables: computed once, served as stored, never recomputed,
# so that no later submission or correction can be read off as a change in a published cell.
pooled_releases = Table(
    "pooled_releases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("metric", String(24), nullable=False),
    Column("period", String(7), nullable=False),
    Column("stage", String(24), nullable=False),
    Column("unit", String(24), nullable=False),
    Column("cells", JSON, nullable=False),
    Column("released_by", String(32), ForeignKey("users.id"), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Index("ux_pooled_releases_key", "metric", "period", "stage", unique=True),
)
