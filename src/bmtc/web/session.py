"""Who is looking at a page. The dashboard shares the API's session cookie (an HttpOnly,
Secure, SameSite=Strict cookie holding a short-lived token); forms that change anything carry
a CSRF token derived from the session secret, checked here. Pages never raise 401 problem
documents: a missing or ended session is simply a public visitor, sent to the sign-in page
when a page needs more."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import Request

from bmtc.accounts.model import Role, role_rank
from bmtc.server.auth import SESSION_COOKIE, accounts_of, csrf_token


@dataclass(frozen=True)
class WebUser:
    user_id: str | None
    email: str | None
    role: Role
    organization_id: str | None
    csrf: str | None
    scopes: frozenset[str] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def may(self, role: str, scope: str | None = None) -> bool:
        """At least `role`, and (like the API) holding `scope` on this session's token."""
        return role_rank(self.role) >= role_rank(role) and (scope is None
                                                             or scope in self.scopes)


PUBLIC = WebUser(user_id=None, email=None, role="public", organization_id=None, csrf=None)


def web_user(request: Request) -> WebUser:
    cached: WebUser | None = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    user = PUBLIC
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        resolved = accounts_of(request).resolve_token(secret)
        if resolved is not None:
            account = resolved.user
            user = WebUser(user_id=account.id, email=account.email, role=account.role,
                           organization_id=account.organization_id,
                           csrf=csrf_token(secret), scopes=frozenset(resolved.scopes))
    request.state.web_user = user
    return user


class NeedsSignIn(Exception):
    """Raised by a page for a visitor without the role it needs."""

    def __init__(self, role: str, next_path: str, signed_in: bool):
        super().__init__(role)
        self.role, self.next_path, self.signed_in = role, next_path, signed_in


def require_role(request: Request, role: Role, scope: str | None = None) -> WebUser:
    user = web_user(request)
    if not user.may(role, scope):
        raise NeedsSignIn(role, request.url.path, user.signed_in)
    return user


def sign_in_location(next_path: str) -> str:
    return "/login?next=" + quote(safe_next(next_path))


def safe_next(next_path: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (open redirect)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or (
            urlsplit(next_path).netloc) or any(c == "\\" or ord(c) < 32 for c in next_path):
        return "/"
    return next_path


def check_form(request: Request, user: WebUser, submitted_token: str | None) -> bool:
    """A form that changes something must come from a signed-in page of this site."""
    return bool(user.csrf and submitted_token
                and hmac.compare_digest(user.csrf, submitted_token))


def same_origin(request: Request) -> bool:
    """For the sign-in form, which has no session yet: the browser's Origin (or Referer)
    must be this site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", "") and parts.scheme in ("http", "https")
