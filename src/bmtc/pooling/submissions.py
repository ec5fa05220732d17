"""Confidential member submissions, with who may see what enforced here, in the data layer.

A member submits figures for facilities its organization operates or holds; a correction
supersedes the earlier row (nothing is deleted). Raw rows are visible only to the submitting
organization's members and to administrators; everyone else sees only pooled tables that
have passed disclosure control (`bmtc.pooling.disclosure`). Every write is in the audit log.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, select, update

from bmtc.accounts.store import record_audit
from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import HOLDING_KINDS
from bmtc.pooling.disclosure import Publication, Table, load_rules, publish
from bmtc.store.schema import facilities, relationships, submissions

Metric = Literal["capacity", "production", "utilisation", "sourcing_share"]
# Pooled tables add values up; utilisation and sourcing shares are ratios, so they are kept
# for their submitter and not summed across members.
POOLABLE: tuple[Metric, ...] = ("capacity", "production")
_PERIOD = re.compile(r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    facility_id: str = Field(min_length=1, max_length=120)
    period: str = Field(description="YYYY, YYYY-Qn or YYYY-MM")
    metric: Metric
    country: str | None = Field(default=None, description="Origin country of a sourcing "
                                                          "share (ISO alpha-2)")
    value: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=24)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not _PERIOD.match(value):
            raise ValueError("period must be YYYY, YYYY-Qn or YYYY-MM")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else normalize_country(value)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: enough of the principal for the data layer to decide."""

    user_id: str | None
    role: str
    organization_id: str | None


class Forbidden(PermissionError):
    pass


class SubmissionStore:
    def __init__(self, engine: Engine, viewer: Viewer):
        self.engine, self.viewer = engine, viewer

    def _may_submit_for(self, conn: Any, facility_id: str) -> bool:
        org = self.viewer.organization_id
        row = conn.execute(select(facilities.c.operator_id)
                           .where(facilities.c.id == facility_id)).first()
        if row is None:
            raise LookupError(f"no facility {facility_id!r}")
        if row[0] == org:
            return True
        held = conn.execute(select(relationships.c.id).where(
            relationships.c.owner_id == org, relationships.c.owned_id == row[0],
            relationships.c.kind.in_([k.value for k in HOLDING_KINDS]))).first()
        return held is not None

    def submit(self, rows: Sequence[SubmissionIn]) -> list[str]:
        """Store the rows in one transaction (all or none); each replaces the member's
        earlier value for the same facility, period, metric and country."""
        if self.viewer.role != "member" or not self.viewer.organization_id \
                or not self.viewer.user_id:
            raise Forbidden("only members of an organization submit figures")
        org, now, ids = self.viewer.organization_id, datetime.now(UTC), []
        with self.engine.begin() as conn:
            for row in rows:
                if not self._may_submit_for(conn, row.facility_id):
                    raise Forbidden(f"{org} neither operates nor holds {row.facility_id}")
                same = [submissions.c.organization_id == org,
                        submissions.c.facility_id == row.facility_id,
                        submissions.c.period == row.period,
                        submissions.c.metric == row.metric,
                        submissions.c.superseded_at.is_(None),
                        (submissions.c.country == row.country) if row.country
                        else submissions.c.country.is_(None)]
                conn.execute(update(submissions).where(*same).values(superseded_at=now))
                new_id = uuid.uuid4().hex
                values = {"id": new_id, "organization_id": org, **row.model_dump(),
                          "submitted_by": self.viewer.user_id, "submitted_at": now}
                conn.execute(submissions.insert().values(**values))
                # The audit log records that a figure was given, not the figure itself: the
                # log is readable by administrators of the platform, the value is the member's.
                record_audit(conn, actor=self.viewer.user_id, action="submission.add",
                             entity="submission", entity_id=new_id, before=None,
                             after={"facility_id": row.facility_id, "period": row.period,
                                    "metric": row.metric, "organization_id": org},
                             at=now)
                ids.append(new_id)
        return ids

    def raw(self, include_superseded: bool = False) -> list[dict[str, Any]]:
        """Raw rows this viewer may see: its organization's, or all for an administrator."""
        query = select(submissions).order_by(submissions.c.submitted_at, submissions.c.id)
        if not include_superseded:
            query = query.where(submissions.c.superseded_at.is_(None))
        if self.viewer.role == "admin":
            pass
        elif self.viewer.role == "member" and self.viewer.organization_id:
            query = query.where(submissions.c.organization_id == self.viewer.organization_id)
        else:
            raise Forbidden("raw submissions are visible only to their submitter and to "
                            "administrators")
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def pooled(self, metric: Metric, period: str, stage: str) -> tuple[Publication, str]:
        """The metric by facility country, with a total, for one stage and period, after
        disclosure control; and the unit it is in. Open to every viewer."""
        if metric not in POOLABLE:
            raise ValueError(f"{metric} is a ratio and is not pooled; pool one of "
                             f"{', '.join(POOLABLE)}")
        query = (select(submissions.c.organization_id, submissions.c.value,
                        submissions.c.unit, facilities.c.country)
                 .join(facilities, facilities.c.id == submissions.c.facility_id)
                 .where(submissions.c.metric == metric, submissions.c.period == period,
                        submissions.c.superseded_at.is_(None), facilities.c.stage == stage))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        units = sorted({r.unit for r in rows})
        if len(units) > 1:
            raise ValueError(f"{metric} for {stage} in {period} was submitted in several "
                             f"units ({', '.join(units)}); they are not added together")
        countries = sorted({r.country for r in rows}) or ["US", "CA", "MX"]
        cells: dict[tuple[str, ...], list[tuple[str, float]]] = {}
        for row in rows:
            cells.setdefault((row.country,), []).append((row.organization_id, row.value))
        table = Table.build([countries], cells)
        return publish(table, load_rules()), units[0] if units else ""


SHEET = "submissions"
TEMPLATE_COLUMNS = ("facility_id", "period", "metric", "country", "value", "unit")


def rows_from_workbook(data: bytes, file: str = "upload.xlsx") -> list[SubmissionIn]:
    """Rows of the `submissions` sheet of an Excel template, all or nothing; each problem
    names the sheet row and column."""
    import io

    from pydantic import ValidationError
    from python_calamine import CalamineWorkbook

    from bmtc.io.problems import ImportFailed, Problem

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own types for corrupt files
        raise ImportFailed([Problem(file, None, None,
                                    f"is not a readable Excel workbook: {exc}")]) from None
    if SHEET not in book.sheet_names:
        raise ImportFailed([Problem(file, None, None, f"has no sheet {SHEET!r}")])
    table = book.get_sheet_by_name(SHEET).to_python(skip_empty_area=False)
    if not table:
        raise ImportFailed([Problem(file, None, None, "the sheet is empty")])
    header = [str(c).strip().lower() for c in table[0]]
    missing = [c for c in TEMPLATE_COLUMNS if c not in header and c != "country"]
    if missing:
        raise ImportFailed([Problem(file, 1, None, "missing columns: " + ", ".join(missing))])
    rows, problems = [], []
    for number, cells in enumerate(table[1:], start=2):
        values = {h: c for h, c in zip(header, cells, strict=False)
                  if h in TEMPLATE_COLUMNS and c not in ("", None)}
        if not values:
            continue
        if isinstance(values.get("period"), float | int):
            values["period"] = str(int(values["period"]))  # type: ignore[arg-type]
        try:
            rows.append(SubmissionIn.model_validate(values))
        except ValidationError as exc:
            problems += [Problem(file, number, ".".join(str(p) for p in e["loc"]) or None,
                                 e["msg"], SHEET) for e in exc.errors()]
    if problems:
        raise ImportFailed(problems)
    return rows
