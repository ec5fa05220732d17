"""Dashboard pages: the material-assistance cost ratio of an uploaded bill of materials, and
the sample bill to start from.

The upload form carries no CSRF token and needs no sign-in: checking a bill stores nothing and
changes nothing, and the answer goes only to the page that asked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from bmtc.compliance_service import pfe_verdicts
from bmtc.domain.dataset import Dataset
from bmtc.io.problems import ImportFailed
from bmtc.server.limits import MAX_BODY_BYTES
from bmtc.views.compliance import (
    ACCEPTED,
    SAMPLE_BILL,
    SAMPLE_YEAR,
    macr_audit_of,
    macr_years,
    read_upload,
    sample_csv,
    sample_json,
    sample_xlsx,
)
from bmtc.web.compute import computed
from bmtc.web.templating import render

router = APIRouter(include_in_schema=False)
SAMPLES = {
    "json": ("application/json", sample_json),
    "csv": ("text/csv; charset=utf-8", sample_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             sample_xlsx),
}


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    return render(request, "compliance/page.html", status_code=status_code,
                  years=macr_years(), accepted=",".join(ACCEPTED), max_bytes=MAX_BODY_BYTES,
                  sample=sample_json().decode("utf-8"), sample_year=SAMPLE_YEAR,
                  sample_name=SAMPLE_BILL["product"]["name"], **context)


@router.get("/compliance")
def compliance_page(request: Request) -> Response:
    return _page(request, year=SAMPLE_YEAR)


@router.get("/compliance/sample.{fmt}")
def compliance_sample(fmt: str) -> Response:
    if fmt not in SAMPLES:
        return Response("Sample bills come as .json, .csv or .xlsx.\n", status_code=404,
                        media_type="text/plain; charset=utf-8")
    media_type, build = SAMPLES[fmt]
    return Response(build(), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="module-45x.{fmt}"'})


@router.post("/compliance")
async def compliance_upload(request: Request) -> Response:
    try:
        # The context closes the spooled upload as soon as the page is rendered.
        async with request.form(max_files=1, max_fields=10) as form:
            return await _check(request, form)
    except HTTPException as exc:
        return _page(request, 400, problems=[f"The upload could not be read: {exc.detail}"])


async def _check(request: Request, form: FormData) -> Response:
    year, problems = _year(form.get("year"))
    upload = form.get("bill")
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems.append("Choose a bill of materials file (.json, .csv or .xlsx).")
    if problems or not isinstance(upload, UploadFile):
        return _page(request, 422, problems=problems, year=year)
    # The body limit stops large requests before they reach here; reading one byte past
    # the cap keeps the page honest if it is ever served without that guard.
    content = await upload.read(MAX_BODY_BYTES + 1)
    if len(content) > MAX_BODY_BYTES:
        return _page(request, 413, year=year, problems=[
            f"The file is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB."])
    name = upload.filename or "bill"
    try:
        # Reading a workbook and screening suppliers block; they run off the event loop.
        audit = await run_in_threadpool(_audit, request, name, content, year)
    except ImportFailed as exc:
        return _page(request, 422, year=year, file=name,
                     problems=[str(p) for p in exc.problems])
    except ValueError as exc:
        return _page(request, 422, year=year, file=name, problems=[str(exc)])
    return _page(request, year=year, file=name, audit=audit)


def _year(value: object) -> tuple[int, list[str]]:
    allowed = macr_years()
    try:
        year = int(str(value))
    except ValueError:
        return SAMPLE_YEAR, [f"Year: choose one of {allowed[0]}-{allowed[-1]}."]
    if year not in allowed:
        return SAMPLE_YEAR, [f"Year: choose one of {allowed[0]}-{allowed[-1]}."]
    return year, []


def _audit(request: Request, name: str, content: bytes, year: int) -> dict[str, Any]:
    bill = read_upload(name, content)
    # Suppliers take their verdict from screening every party for the taxable year; that
    # is kept per year until the atlas changes, so each upload costs only its own lines.
    dataset, verdicts = computed(request,
        ("web-pfe-verdicts", year), lambda loaded: _with_verdicts(loaded, year))
    return macr_audit_of(dataset, bill, year, verdicts)


def _with_verdicts(dataset: Dataset, year: int) -> tuple[Dataset, dict[str, str]]:
    return dataset, pfe_verdicts(dataset, year)
