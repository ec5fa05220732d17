"""One error model for the whole API: RFC 9457 problem details (`application/problem+json`).

Every refusal — a missing record, a bad parameter, a rule that does not apply to the date
asked — is a problem with a stable `type`, a human `title`, the `status`, a `detail` naming
what was wrong, and for validation errors the location of each bad field.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from bmtc.io.problems import ImportFailed

PROBLEM_JSON = "application/problem+json"
# Problem types are relative URIs (RFC 9457 §3.1.1) resolved against the server itself.
BASE = "/problems/"
log = logging.getLogger("bmtc.server")


class FieldError(BaseModel):
    loc: list[str]
    msg: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []


class ApiError(Exception):
    """A refusal the handlers turn into a problem document."""

    def __init__(self, status: int, kind: str, title: str, detail: str | None = None,
                 errors: list[FieldError] | None = None):
        super().__init__(detail or title)
        self.status, self.kind, self.title = status, kind, title
        self.detail, self.errors = detail, errors or []


def not_found(what: str, key: str) -> ApiError:
    return ApiError(404, "not-found", f"No such {what}", f"no {what} {key!r}")


def _respond(request: Request, status: int, kind: str, title: str, detail: str | None,
             errors: list[FieldError] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type=BASE + kind, title=title, status=status, detail=detail,
                   instance=request.url.path, errors=errors or [])
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status, exc.kind, exc.title, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(loc=[str(p) for p in e.get("loc", ())], msg=str(e.get("msg")))
                  for e in exc.errors()]
        return _respond(request, 422, "invalid-request", "The request is not valid",
                        "; ".join(f"{'.'.join(e.loc)}: {e.msg}" for e in errors), errors)

    @app.exception_handler(ImportFailed)
    async def _bad_file(request: Request, exc: ImportFailed) -> JSONResponse:
        errors = [FieldError(loc=[str(p.file), str(p.row or ""), str(p.column or "")],
                             msg=p.reason) for p in exc.problems]
        return _respond(request, 422, "invalid-document", "The document is not valid",
                        "; ".join(str(p) for p in exc.problems), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Headers such as Allow on a 405 belong to the answer (RFC 9110). Starlette lists
        # the methods of the first route it matched; a path served by several routes (GET
        # and POST on one collection) must list them all.
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed(request))
        return _respond(request, exc.status_code, "http-" + str(exc.status_code),
                        str(exc.detail), None, headers=headers)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the database refuses as such (PostgreSQL takes no NUL character in text,
        # say): the request is at fault, and nothing was written.
        return _respond(request, 422, "invalid-request", "The request is not valid",
                        "a value in the request cannot be used by the database (for example a "
                        "NUL character in a text field)")

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        # The database went away (a restart, a failover): nothing was committed, and the
        # pool reconnects on the next request, so the client is told to retry.
        log.warning("database unavailable on %s: %s", request.url.path, exc.orig)
        return _respond(request, 503, "database-unavailable", "Database unavailable",
                        "the request was not carried out; retry shortly",
                        headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The cause goes to the log, never to the client.
        log.exception("unhandled error on %s", request.url.path)
        return _respond(request, 500, "internal-error", "Internal server error",
                        "the error was logged")


def _allowed(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _child = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for status, text in ((400, "Malformed request"), (404, "Not found"),
                         (409, "Conflict"), (413, "Request body too large"),
                         (422, "Invalid request"),
                         (503, "Database unavailable; retry"))
}
