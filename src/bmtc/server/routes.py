"""Routes under /api/v1: the atlas (facilities, organizations), screening, analytics and
compliance. Each handler validates its parameters, asks the store or an engine, and returns a
documented model or a problem document; none of them computes anything itself."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from bmtc import analytics_service, compliance_service
from bmtc.accounts.store import AccountStore
from bmtc.analysis.bound import explain
from bmtc.analysis.scenario import ScenarioError
from bmtc.analysis.sourcing import Sourcing
from bmtc.compliance.audit import macr_audit
from bmtc.compliance.bom import Bom
from bmtc.compliance.policy import is_critical, minerals_on
from bmtc.domain.vocab import Stage, Status
from bmtc.io.problems import ImportFailed
from bmtc.io.problems import Problem as FileProblem
from bmtc.pooling.submissions import (
    Forbidden,
    SubmissionIn,
    SubmissionStore,
    Viewer,
    rows_from_workbook,
)
from bmtc.screening.rules import bundled_rule_sets
from bmtc.screening_service import NotFound, screen_party
from bmtc.server.auth import (
    AUTH_RESPONSES,
    SESSION_COOKIE,
    SESSION_HOURS,
    SESSION_SCOPES,
    SIGN_IN_LIMITER,
    AuthError,
    CurrentPrincipal,
    Principal,
    RateLimiter,
    csrf_token,
    rate_limit,
    require,
)
from bmtc.server.models import FacilityOut, Meta, OrganizationOut, Page
from bmtc.server.problems import PROBLEM_RESPONSES, ApiError, not_found
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store

router = APIRouter(prefix="/api/v1", responses={**PROBLEM_RESPONSES, **AUTH_RESPONSES})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Engines that solve LPs or screen the whole registry are rationed per client.
_EXPENSIVE = RateLimiter(rate=2.0, burst=20)
Expensive = [Depends(rate_limit(_EXPENSIVE))]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]
# Dates travel as ISO text only: lax parsing would read "0" as a Unix timestamp.
IsoDate = Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-06-30"])]


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid-request", "The request is not valid",
                       f"{name}: {text!r} is not a calendar date") from None


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _page(rows: list[Any], page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    return {"items": rows[start:start + page_size], "total": len(rows), "page": page,
            "page_size": page_size}


def _refuse(exc: Exception) -> ApiError:
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return ApiError(422, "not-applicable", "The request cannot be answered", str(message))


@router.get("/meta", response_model=Meta)
def meta(request: Request) -> Meta:
    store = _store(request)
    info = store.info()
    return Meta(name=info.name if info else None, version=info.version if info else None,
                as_of=str(info.as_of) if info else None, facilities=store.count_facilities())


@router.get("/facilities", response_model=Page[FacilityOut])
def facilities(
    request: Request,
    stage: Stage | None = None, country: Annotated[str | None, Query(max_length=60)] = None,
    state: Annotated[str | None, Query(max_length=60)] = None, status: Status | None = None,
    material: Annotated[str | None, Query(max_length=40)] = None,
    product: Annotated[str | None, Query(max_length=60)] = None,
    operator: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(pattern=r"^-?(name|country|stage|status|capacity_value|"
                                        r"start_year)$")] = "name",
    page: PageNumber = 1, page_size: PageSize = 50,
) -> dict[str, Any]:
    """Facilities matching every filter given, sorted (`-` for descending) and paged."""
    flt = FacilityFilter(stage=stage.value if stage else None, country=country, state=state,
                         status=status.value if status else None, material=material,
                         product=product, operator=operator)
    try:
        # Sorting and paging happen in the database: a page costs the same whatever the
        # size of the atlas.
        rows, total = _store(request).facility_page(
            flt, sort.lstrip("-"), sort.startswith("-"), (page - 1) * page_size, page_size)
    except ValueError as exc:
        raise _refuse(exc) from None
    return {"items": rows, "total": total, "page": page, "page_size": page_size}


def _as_of(request: Request, entity: str, entity_id: str, as_of: str) -> dict[str, Any]:
    day = _date(as_of, "as_of")
    # The end of the day asked: changes recorded that day are part of it.
    moment = datetime.combine(day, time.max, tzinfo=UTC)
    found = _store(request).record_as_of(entity, entity_id, moment)
    if found is None:
        raise not_found(entity, entity_id)
    record, undone = found
    plain: dict[str, Any] = json.loads(json.dumps(
        {"as_of": day.isoformat(), "record": record, "changes_undone": undone,
         "note": "today's record with every change recorded after that day undone; the "
                 "platform does not record when a record was first loaded"},
        default=_jsonable))
    return plain


@router.get("/facilities/{facility_id}")
def facility(request: Request, facility_id: str,
             as_of: IsoDate | None = None) -> dict[str, Any]:
    """One facility with its operator, owners, status history, changes, funding, sources;
    with `as_of`, the record as the platform held it at the end of that day."""
    if as_of is not None:
        return _as_of(request, "facility", facility_id, as_of)
    card = _store(request).facility_card(facility_id)
    if card is None:
        raise not_found("facility", facility_id)
    plain: dict[str, Any] = json.loads(json.dumps(card, default=_jsonable))
    return plain


@router.get("/organizations", response_model=Page[OrganizationOut])
def organizations(request: Request,
                  country: Annotated[str | None, Query(max_length=60)] = None,
                  member: bool | None = None, page: PageNumber = 1,
                  page_size: PageSize = 50) -> dict[str, Any]:
    try:
        rows = _store(request).organization_rows(country=country, member=member)
    except ValueError as exc:
        raise _refuse(exc) from None
    return _page(rows, page, page_size)


@router.get("/organizations/{org_id}")
def organization(request: Request, org_id: str,
                 as_of: IsoDate | None = None) -> dict[str, Any]:
    """One organization with its owners, holdings, facilities and funding; with `as_of`, the
    record as the platform held it at the end of that day."""
    if as_of is not None:
        return _as_of(request, "organization", org_id, as_of)
    card = _store(request).organization_card(org_id)
    if card is None:
        raise not_found("organization", org_id)
    plain: dict[str, Any] = json.loads(json.dumps(card, default=_jsonable))
    return plain


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


@router.get("/screening/{party}", dependencies=Expensive)
def screening(request: Request, party: str,
              ruleset: Literal["feoc-doe-2024", "pfe-2025"] = "feoc-doe-2024",
              as_of: IsoDate | None = None,
              taxable_year: Annotated[int | None, Query(ge=2025, le=2100)] = None,
              ) -> dict[str, Any]:
    """An explained FEOC or PFE verdict for one organization (id or name)."""
    assert ruleset in bundled_rule_sets()
    try:
        verdict = screen_party(_store(request).load(), party, ruleset,
                               as_of=_date(as_of, "as_of").isoformat() if as_of else None,
                               taxable_year=taxable_year)
    except NotFound:
        raise not_found("organization", party) from None
    except ValueError as exc:
        raise _refuse(exc) from None
    result: dict[str, Any] = verdict.to_json()
    return result


@router.get("/analytics/gap", dependencies=Expensive)
def gap(request: Request, scenario: Annotated[str | None, Query(max_length=80)] = None,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    """Demand in tonnes at every stage against capacity, for a bundled scenario or preset."""
    try:
        chosen = analytics_service.scenario_named(scenario)
        if scenario is not None and scenario not in _bundled_names():
            raise ScenarioError(f"no bundled scenario or demand preset {scenario!r}")
        target = year or chosen.year
        frame, _prepared = analytics_service.gap(_store(request).load(), chosen, [target])
    except (ValueError, KeyError) as exc:
        raise _refuse(exc) from None
    rows = json.loads(frame.to_json(orient="records"))
    return {"scenario": chosen.name, "year": target, "rows": rows}


def _bundled_names() -> set[str]:
    from bmtc.analysis.scenario import bundled_scenarios

    return set(bundled_scenarios()) | set(analytics_service.preset_ids())


@router.get("/analytics/network", dependencies=Expensive)
def network(request: Request, year: Annotated[int, Query(ge=2000, le=2100)],
            sourcing: Literal["na", "non-feoc", "allied"] = "na") -> dict[str, Any]:
    """The most cell GWh North America can make in a year under a sourcing policy."""
    try:
        report, prepared = analytics_service.network(
            _store(request).load(), analytics_service.scenario_named(None), [year],
            Sourcing.named(sourcing))
    except (ValueError, KeyError) as exc:
        raise _refuse(exc) from None
    bound = report.year(year)
    return {"year": year, "sourcing": sourcing, "bound_gwh": bound.cells_gwh,
            "by_family": bound.by_family,
            "explanation": explain(report, year,
                                   analytics_service.unquantified_by_stage(prepared)),
            "binding_stages": json.loads(bound.stages.to_json(orient="records"))}


@router.post("/compliance/macr", dependencies=Expensive)
def macr(request: Request, year: Annotated[int, Query(ge=2025, le=2100)],
         bill: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Material-assistance cost ratio of a bill of materials (the JSON bill template), with
    its audit trail."""
    try:
        bom = Bom.model_validate({**bill, "file": "request body"})
    except ValueError as exc:
        raise ImportFailed([FileProblem("request body", None, None, str(exc))]) from None
    try:
        result, suppliers = compliance_service.check_macr(_store(request).load(), bom, year)
    except ValueError as exc:
        raise _refuse(exc) from None
    return macr_audit(result, bom, suppliers.resolved)


@router.get("/minerals")
def minerals(as_of: IsoDate, name: Annotated[str | None, Query(max_length=80)] = None,
             ) -> dict[str, Any]:
    """Critical-mineral lists in force on a date, or whether one name is on them."""
    day = _date(as_of, "as_of")
    if name is not None:
        return {"as_of": day.isoformat(), "name": name, "lists": [
            {"list": m.edition.id, "listed": m.listed, "matched": m.matched,
             "citation": m.edition.citation, "confidence": m.edition.confidence.value}
            for m in is_critical(name, day)]}
    return {"as_of": day.isoformat(), "lists": [
        {"list": f.edition.id, "citation": f.edition.citation,
         "confidence": f.edition.confidence.value, "names": sorted(f.names)}
        for f in minerals_on(day)]}


@router.get("/me")
def me(principal: CurrentPrincipal) -> dict[str, Any]:
    """Who the request is acting as: role, organization and token scopes."""
    return {"user_id": principal.user_id, "role": principal.role,
            "organization_id": principal.organization_id,
            "scopes": sorted(principal.scopes)}


@router.get("/admin/audit", dependencies=[Depends(require("admin", scope="admin"))])
def audit_log(request: Request, entity: Annotated[str | None, Query(max_length=40)] = None,
              entity_id: Annotated[str | None, Query(max_length=120)] = None,
              page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
    """Every recorded write (who, when, what, before and after); administrators only."""
    entries = AccountStore(_store(request).engine).audit_entries(entity, entity_id)
    rows = [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "entity": e.entity, "entity_id": e.entity_id, "before": e.before,
             "after": e.after} for e in reversed(entries)]
    return _page(rows, page, page_size)


def _viewer(principal: Principal) -> Viewer:
    return Viewer(principal.user_id, principal.role, principal.organization_id,
                  frozenset(principal.scopes))


def _submit(store: SubmissionStore, rows: list[SubmissionIn]) -> dict[str, Any]:
    try:
        return {"ids": store.submit(rows)}
    except Forbidden as exc:
        raise ApiError(403, "forbidden", "Not allowed", str(exc)) from None
    except (LookupError, ValueError) as exc:
        raise ApiError(422, "not-applicable", "The request cannot be answered",
                       str(exc.args[0])) from None


@router.post("/submissions", status_code=201,
             dependencies=[Depends(require("member", scope="submit"))])
def submit(request: Request, principal: CurrentPrincipal,
           rows: Annotated[list[SubmissionIn], Body(max_length=1000)]) -> dict[str, Any]:
    """Submit confidential figures (members, for facilities their organization operates or
    holds). Each row replaces the member's earlier value for the same key."""
    return _submit(SubmissionStore(_store(request).engine, _viewer(principal)), rows)


@router.get("/submissions", dependencies=[Depends(require("member"))])
def submissions_raw(request: Request, principal: CurrentPrincipal,
                    page: PageNumber = 1, page_size: PageSize = 50) -> dict[str, Any]:
    """Raw submitted figures: a member sees its organization's, an administrator all."""
    try:
        rows = SubmissionStore(_store(request).engine, _viewer(principal)).raw()
    except Forbidden as exc:
        raise ApiError(403, "forbidden", "Not allowed", str(exc)) from None
    plain: list[dict[str, Any]] = json.loads(json.dumps(rows, default=str))
    return _page(plain, page, page_size)


class ReleaseIn(BaseModel):
    metric: Literal["capacity", "production"]
    period: str = Field(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
    stage: Stage


@router.post("/admin/releases", status_code=201,
             dependencies=[Depends(require("admin", scope="admin"))])
def release(request: Request, principal: CurrentPrincipal, key: ReleaseIn) -> dict[str, Any]:
    """Freeze the pooled table of one metric, period and stage (administrators). Releases
    are final: a table recomputed after later submissions would reveal them by difference."""
    store = SubmissionStore(_store(request).engine, _viewer(principal))
    try:
        return store.release(key.metric, key.period, key.stage.value)
    except Forbidden as exc:
        raise ApiError(403, "forbidden", "Not allowed", str(exc)) from None
    except FileExistsError as exc:
        raise ApiError(409, "already-released", "Already released", str(exc)) from None
    except ValueError as exc:
        raise _refuse(exc) from None


@router.get("/pooled")
def pooled(request: Request, metric: Literal["capacity", "production"],
           period: Annotated[str, Query(pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")],
           stage: Stage) -> dict[str, Any]:
    """Members' pooled figures by country with a total, as released: a cell that could
    reveal one member's figure is shown as suppressed, with the reason only."""
    store = SubmissionStore(_store(request).engine, Viewer(None, "public", None))
    try:
        return store.released(metric, period, stage.value)
    except LookupError as exc:
        raise not_found("release", str(exc.args[0])) from None


@router.post("/submissions/excel", status_code=201,
             dependencies=[Depends(require("member", scope="submit"))],
             openapi_extra={"requestBody": {"required": True, "content": {
                 XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
async def submit_excel(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Submit figures from the Excel template (sheet `submissions`: facility_id, period,
    metric, country, value, unit); all rows or none."""
    body = await request.body()
    store = SubmissionStore(_store(request).engine, _viewer(principal))

    def parse_and_store() -> dict[str, Any]:
        return _submit(store, rows_from_workbook(body))

    # Parsing and writing block; they run off the event loop so other requests go on.
    return await run_in_threadpool(parse_and_store)


class SignIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)




@router.post("/session", dependencies=[Depends(rate_limit(SIGN_IN_LIMITER, per="client"))])
def sign_in(request: Request, response: Response, credentials: SignIn) -> dict[str, Any]:
    """Sign in from a browser: the session secret goes into an HttpOnly, Secure,
    SameSite=Strict cookie; the answer carries the CSRF token to send on every change."""
    accounts = AccountStore(_store(request).engine)
    user = accounts.authenticate(credentials.email, credentials.password)
    if user is None:
        raise AuthError(401, "unauthorized", "Sign-in failed", "unknown email or wrong password",
                        headers={"WWW-Authenticate": "Bearer"})
    scopes = SESSION_SCOPES.get(user.role, ("read",))
    token = accounts.create_token(user.email, scopes=scopes,
                                  expires=timedelta(hours=SESSION_HOURS), actor=user.id)
    response.set_cookie(SESSION_COOKIE, token.secret, max_age=SESSION_HOURS * 3600,
                        httponly=True, secure=True, samesite="strict", path="/")
    return {"role": user.role, "organization_id": user.organization_id,
            "csrf_token": csrf_token(token.secret)}


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response) -> None:
    """End the browser session. A live session must send its CSRF header; an ended or
    unknown one is simply cleared."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        accounts = AccountStore(_store(request).engine)
        resolved = accounts.resolve_token(secret)
        if resolved is not None:
            if not hmac.compare_digest(request.headers.get("x-csrf-token", ""),
                                       csrf_token(secret)):
                raise AuthError(403, "csrf", "Cross-site request refused",
                                "signing out needs the X-CSRF-Token header given at sign-in")
            accounts.revoke_token(secret, actor=resolved.user.id)
    for path in ("/", "/api"):  # "/api" is where earlier versions set the cookie
        response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, secure=True,
                               samesite="strict")
