"""Signing in and out from the dashboard. The session is the API's: an ordinary short-lived
token in an HttpOnly, Secure, SameSite=Strict cookie."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from bmtc.server.auth import (
    SESSION_COOKIE,
    SESSION_HOURS,
    SESSION_SCOPES,
    SIGN_IN_LIMITER,
    accounts_of,
    rate_limit,
)
from bmtc.web.session import check_form, safe_next, same_origin, web_user
from bmtc.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "account/login.html", next=safe_next(next), problem=None)


@router.post("/login", dependencies=[Depends(rate_limit(SIGN_IN_LIMITER, per="client"))])
def login(request: Request, email: Annotated[str, Form(max_length=254)],
          password: Annotated[str, Form(max_length=1024)],
          next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    target = safe_next(next)
    if not same_origin(request):
        return render(request, "account/login.html", status_code=403, next=target,
                      problem="The sign-in form must be sent from this site.")
    accounts = accounts_of(request)
    user = accounts.authenticate(email, password)
    if user is None:
        return render(request, "account/login.html", status_code=401, next=target,
                      problem="Unknown email or wrong password.")
    token = accounts.create_token(user.email, scopes=SESSION_SCOPES.get(user.role, ("read",)),
                                  expires=timedelta(hours=SESSION_HOURS), actor=user.id)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token.secret, max_age=SESSION_HOURS * 3600,
                        httponly=True, secure=True, samesite="strict", path="/")
    return response


@router.post("/logout")
def logout(request: Request,
           csrf_token: Annotated[str | None, Form(max_length=128)] = None) -> Response:
    user = web_user(request)
    response = RedirectResponse("/", status_code=303)
    secret = request.cookies.get(SESSION_COOKIE)
    if user.user_id is not None and secret:
        if not check_form(request, user, csrf_token):
            return render(request, "error.html", status_code=403,
                          title="Cross-site request refused", problems=[])
        accounts_of(request).revoke_token(secret, actor=user.user_id)
    for path in ("/", "/api"):  # "/api" is where earlier versions set the cookie
        response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, secure=True,
                               samesite="strict")
    return response
