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
from bmtc.domain.percent import parse_percent
from bmtc.domain.vocab import HOLDING_KINDS
from bmtc.pooling.disclosure import Table, load_rules, publish
from bmtc.store.schema import facilities, pooled_releases, relationships, submissions

Metric = Literal["capacity", "production", "utilisation", "sourcing_share"]
# Pooled tables add values up; utilisation and sourcing shares are ratios, so they are kept
# for their submitter and not summed across members.
POOLABLE: tuple[Metric, ...] = ("capacity", "production")
MAX_ROWS = 1000
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
    """Who is asking: enough of the principal for the data layer to decide, token scopes
    included (a read-only administrator token does not open every member's raw figures)."""

    user_id: str | None
    role: str
    organization_id: str | None
    scopes: frozenset[str] = frozenset()


# The one unit each pooled figure is given in, by stage: figures in other units are refused
# at submission, so that no member can block or probe a table with an odd unit.
UNITS = {"cell": "GWh/yr", "module_pack": "GWh/yr", "separator": "m2/yr"}
DEFAULT_UNIT = "t/yr"
# Pooled tables always list the same countries, so the list itself reveals nothing.
COUNTRIES = ("US", "CA", "MX")


def unit_for(metric: str, stage: str) -> str | None:
    if metric in ("capacity", "production"):
        return UNITS.get(stage, DEFAULT_UNIT)
    return {"utilisation": "share", "sourcing_share": "share"}.get(metric)


class Forbidden(PermissionError):
    pass


class SubmissionStore:
    def __init__(self, engine: Engine, viewer: Viewer):
        self.engine, self.viewer = engine, viewer

    def _facility(self, conn: Any, facility_id: str) -> tuple[str, str]:
        row = conn.execute(select(facilities.c.operator_id, facilities.c.stage)
                           .where(facilities.c.id == facility_id)).first()
        if row is None:
            raise LookupError(f"no facility {facility_id!r}")
        return str(row[0]), str(row[1])

    def _may_submit_for(self, conn: Any, operator_id: str, today: str) -> bool:
        """The member's organization operates the facility, or holds its operator now: a
        holding still in force that is a joint venture or a majority stake."""
        org = self.viewer.organization_id
        if operator_id == org:
            return True
        holdings = conn.execute(select(relationships).where(
            relationships.c.owner_id == org, relationships.c.owned_id == operator_id,
            relationships.c.kind.in_([k.value for k in HOLDING_KINDS]))).mappings().all()
        for holding in holdings:
            if holding["valid_to"] is not None and str(holding["valid_to"]) < today:
                continue
            if holding["kind"] == "joint_venture":
                return True
            stake = holding["voting_pct"] or holding["equity_pct"]
            if stake and parse_percent(str(stake)).low > 50:
                return True
        return False

    def submit(self, rows: Sequence[SubmissionIn]) -> list[str]:
        """Store the rows in one transaction (all or none); each replaces the member's
        earlier value for the same facility, period, metric and country."""
        if self.viewer.role != "member" or not self.viewer.organization_id \
                or not self.viewer.user_id or "submit" not in self.viewer.scopes:
            raise Forbidden("only members of an organization, with the submit scope, submit "
                            "figures")
        if len(rows) > MAX_ROWS:
            raise ValueError(f"at most {MAX_ROWS} rows per submission, not {len(rows)}")
        org, now, ids = self.viewer.organization_id, datetime.now(UTC), []
        today = now.date().isoformat()
        with self.engine.begin() as conn:
            for row in rows:
                operator, stage = self._facility(conn, row.facility_id)
                if not self._may_submit_for(conn, operator, today):
                    raise Forbidden(f"{org} neither operates nor holds {row.facility_id}")
                unit = unit_for(row.metric, stage)
                if row.unit != unit:
                    raise ValueError(f"{row.metric} of a {stage} facility is given in "
                                     f"{unit}, not {row.unit!r}")
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
        if self.viewer.role == "admin" and "admin" in self.viewer.scopes:
            pass
        elif self.viewer.role in ("member", "admin") and self.viewer.organization_id \
                and "read" in self.viewer.scopes:
            query = query.where(submissions.c.organization_id == self.viewer.organization_id)
        else:
            raise Forbidden("raw submissions are visible only to their submitter and to "
                            "administrators")
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def release(self, metric: Metric, period: str, stage: str) -> dict[str, Any]:
        """Compute the pooled table once and freeze it (administrators). A release is final:
        re-publishing a key would let anyone read a correction or a newcomer's figure off
        the change, so later submissions for a released key stay unpublished."""
        if self.viewer.role != "admin" or "admin" not in self.viewer.scopes \
                or not self.viewer.user_id:
            raise Forbidden("only administrators release pooled tables")
        if metric not in POOLABLE:
            raise ValueError(f"{metric} is a ratio and is not pooled; pool one of "
                             f"{', '.join(POOLABLE)}")
        unit = unit_for(metric, stage) or ""
        query = (select(submissions.c.organization_id, submissions.c.value,
                        facilities.c.country)
                 .join(facilities, facilities.c.id == submissions.c.facility_id)
                 .where(submissions.c.metric == metric, submissions.c.period == period,
                        submissions.c.superseded_at.is_(None), submissions.c.unit == unit,
                        facilities.c.stage == stage))
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            key = (pooled_releases.c.metric == metric, pooled_releases.c.period == period,
                   pooled_releases.c.stage == stage)
            if conn.execute(select(pooled_releases.c.id).where(*key)).first() is not None:
                raise FileExistsError(f"{metric} for {stage} in {period} is already released")
            cells: dict[tuple[str, ...], list[tuple[str, float]]] = {}
            for row in conn.execute(query).all():
                if row.country in COUNTRIES:
                    cells.setdefault((row.country,), []).append((row.organization_id,
                                                                 row.value))
            publication = publish(Table.build([COUNTRIES], cells), load_rules())
            published = [{"country": k[0], "value": c.value, "suppressed": c.value is None,
                          "reason": c.reason} for k, c in publication.cells.items()]
            release_id = uuid.uuid4().hex
            conn.execute(pooled_releases.insert().values(
                id=release_id, metric=metric, period=period, stage=stage, unit=unit,
                cells=published, released_by=self.viewer.user_id, released_at=now))
            record_audit(conn, actor=self.viewer.user_id, action="pooled.release",
                         entity="pooled_release", entity_id=release_id, before=None,
                         after={"metric": metric, "period": period, "stage": stage},
                         at=now)
        return self.released(metric, period, stage)

    def released(self, metric: str, period: str, stage: str) -> dict[str, Any]:
        """A frozen release, as stored; open to every viewer."""
        with self.engine.connect() as conn:
            row = conn.execute(select(pooled_releases).where(
                pooled_releases.c.metric == metric, pooled_releases.c.period == period,
                pooled_releases.c.stage == stage)).mappings().first()
        if row is None:
            raise LookupError(f"{metric} for {stage} in {period} has not been released")
        return {"metric": metric, "period": period, "stage": stage, "unit": row["unit"],
                "released_at": row["released_at"].isoformat(), "cells": row["cells"]}


SHEET = "submissions"
TEMPLATE_COLUMNS = ("facility_id", "period", "metric", "country", "value", "unit")


MAX_UNPACKED_BYTES = 8 * 1024 * 1024


def _check_archive(data: bytes, file: str) -> None:
    """Refuse a workbook that would unpack to more than the template ever needs (a zip bomb),
    before any spreadsheet library sees it."""
    import io
    import zipfile

    from bmtc.io.problems import ImportFailed, Problem

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFailed([Problem(file, None, None, "is not an Excel workbook")]) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFailed([Problem(file, None, None, f"unpacks to {unpacked} bytes; at most "
                                    f"{MAX_UNPACKED_BYTES} are read")])


def rows_from_workbook(data: bytes, file: str = "upload.xlsx") -> list[SubmissionIn]:
    """Rows of the `submissions` sheet of an Excel template, all or nothing; each problem
    names the sheet row and column. The sheet is streamed row by row (a cell placed far
    away costs nothing) and at most MAX_ROWS rows are taken."""
    import io

    from openpyxl import load_workbook
    from pydantic import ValidationError

    from bmtc.io.problems import ImportFailed, Problem

    _check_archive(data, file)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a malformed workbook
        raise ImportFailed([Problem(file, None, None,
                                    f"is not a readable Excel workbook: {exc}")]) from None
    try:
        if SHEET not in book.sheetnames:
            raise ImportFailed([Problem(file, None, None, f"has no sheet {SHEET!r}")])
        lines = book[SHEET].iter_rows(max_col=len(TEMPLATE_COLUMNS) + 4, values_only=True)
        header = [str(c).strip().lower() if c is not None else "" for c in next(lines, ())]
        missing = [c for c in TEMPLATE_COLUMNS if c not in header and c != "country"]
        if missing:
            raise ImportFailed([Problem(file, 1, None,
                                        "missing columns: " + ", ".join(missing))])
        rows: list[SubmissionIn] = []
        problems: list[Problem] = []
        for number, cells in enumerate(lines, start=2):
            values: dict[str, Any] = {h: c for h, c in zip(header, cells, strict=False)
                                      if h in TEMPLATE_COLUMNS and c not in ("", None)}
            if not values:
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise ImportFailed([Problem(file, number, None,
                                            f"more than {MAX_ROWS} rows")])
            if isinstance(values.get("period"), float | int):
                values["period"] = str(int(values["period"]))
            try:
                rows.append(SubmissionIn.model_validate(values))
            except ValidationError as exc:
                problems += [Problem(file, number,
                                     ".".join(str(p) for p in e["loc"]) or None, e["msg"],
                                     SHEET) for e in exc.errors()]
    finally:
        book.close()
    if problems:
        raise ImportFailed(problems)
    return rows
