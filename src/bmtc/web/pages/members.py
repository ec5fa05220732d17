"""Pages for members and administrators: submitting confidential figures, and the audit log,
accounts and pooled releases. The data layer (SubmissionStore) decides what each may see or
do; these pages only collect the form and show the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from bmtc.accounts.store import AccountStore
from bmtc.domain.vocab import Stage
from bmtc.pooling.submissions import (
    POOLABLE,
    Forbidden,
    SubmissionIn,
    SubmissionStore,
    Viewer,
)
from bmtc.web.session import NeedsSignIn, WebUser, check_form, require_role
from bmtc.web.templating import render, store_of

router = APIRouter(include_in_schema=False)
METRICS = ("capacity", "production", "utilisation", "sourcing_share")
AUDIT_ROWS = 100


def _member(request: Request) -> WebUser:
    """Submitting is for members, who speak for an organization; analysts rank above
    members but have no organization to submit for."""
    user = require_role(request, "member", scope="submit")
    if user.organization_id is None and user.role != "admin":
        raise NeedsSignIn("member", request.url.path, signed_in=True)
    return user


def _viewer(user: WebUser) -> Viewer:
    return Viewer(user.user_id, user.role, user.organization_id, user.scopes)


def _submissions(request: Request, user: WebUser) -> SubmissionStore:
    return SubmissionStore(store_of(request).engine, _viewer(user))


def _own_facilities(request: Request, user: WebUser) -> list[dict[str, Any]]:
    if user.organization_id is None:
        return []
    dataset = store_of(request).atlas()
    return [{"id": f.id, "name": f.name, "stage": f.stage.value}
            for f in dataset.facilities if f.operator_id == user.organization_id]


def _submit_page(request: Request, user: WebUser, status_code: int = 200,
                 **context: Any) -> Response:
    try:
        rows = _submissions(request, user).raw()
    except Forbidden as exc:
        rows, context["problems"] = [], [str(exc)]
    return render(request, "members/submit.html", status_code=status_code, rows=rows,
                  metrics=METRICS, facilities=_own_facilities(request, user),
                  **{"problems": [], "saved": None, **context})


@router.get("/submit")
def submit_form(request: Request) -> Response:
    return _submit_page(request, _member(request))


@router.post("/submit")
def submit(request: Request, facility_id: Annotated[str, Form(max_length=120)],
           period: Annotated[str, Form(max_length=10)],
           metric: Annotated[str, Form(max_length=24)],
           value: Annotated[str, Form(max_length=40)],
           unit: Annotated[str, Form(max_length=24)],
           country: Annotated[str, Form(max_length=60)] = "",
           csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    user = _member(request)
    if not check_form(request, user, csrf_token):
        return _submit_page(request, user, 403, problems=["The form has expired or was not "
                                                          "sent from this site; reload it."])
    try:
        row = SubmissionIn(facility_id=facility_id, period=period, metric=metric,
                           country=country or None, value=value, unit=unit)
        ids = _submissions(request, user).submit([row])
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _submit_page(request, user, 422, problems=problems)
    except Forbidden as exc:
        return _submit_page(request, user, 403, problems=[str(exc)])
    except (LookupError, ValueError) as exc:
        return _submit_page(request, user, 422, problems=[str(exc)])
    return _submit_page(request, user, saved=ids[0])


def _admin_page(request: Request, user: WebUser, status_code: int = 200,
                **context: Any) -> Response:
    accounts = AccountStore(store_of(request).engine)
    entries = accounts.audit_entries()[-AUDIT_ROWS:][::-1]
    return render(request, "members/admin.html", status_code=status_code,
                  users=accounts.list_users(), entries=entries, metrics=POOLABLE,
                  stages=[s.value for s in Stage],
                  **{"problems": [], "released": None, **context})


@router.get("/admin")
def admin(request: Request) -> Response:
    return _admin_page(request, require_role(request, "admin", scope="admin"))


@router.post("/admin/release")
def release(request: Request, metric: Annotated[str, Form(max_length=24)],
            period: Annotated[str, Form(max_length=10)],
            stage: Annotated[str, Form(max_length=24)],
            csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    user = require_role(request, "admin", scope="admin")
    if not check_form(request, user, csrf_token):
        return _admin_page(request, user, 403, problems=["The form has expired or was not "
                                                         "sent from this site; reload it."])
    if metric not in POOLABLE or stage not in {s.value for s in Stage}:
        return _admin_page(request, user, 422, problems=[f"unknown metric or stage: "
                                                         f"{metric!r}, {stage!r}"])
    try:
        table = _submissions(request, user).release(metric, period, stage)
    except Forbidden as exc:
        return _admin_page(request, user, 403, problems=[str(exc)])
    except (LookupError, ValueError) as exc:
        return _admin_page(request, user, 422, problems=[str(exc)])
    return _admin_page(request, user, released=table)
