"""Who is calling, and may they: bearer-token authentication, role and scope checks, and a
rate limiter, as FastAPI dependencies.

A request without credentials is anonymous (role `public`); one with a bad token is refused
rather than treated as anonymous, so a revoked token never silently downgrades. A route
states what it needs with `require(role)`, `require(scope=...)` or both: the role says who the
user is, the scopes narrow what this particular token may do.

Refusals are problem documents (see `problems`) carrying the headers the HTTP specifications
ask for: `WWW-Authenticate: Bearer` on 401 (RFC 6750), `Retry-After` on 429 (RFC 6585).
`install(app)` registers the handler that keeps those headers.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from bmtc.accounts.model import ROLES, SCOPES, Role, Scope, role_rank
from bmtc.accounts.store import AccountStore
from bmtc.server import problems
from bmtc.server.problems import ApiError


@dataclass(frozen=True)
class Principal:
    user_id: str | None
    role: Role
    organization_id: str | None
    scopes: frozenset[Scope]

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Principal(user_id=None, role="public", organization_id=None, scopes=frozenset())


class AuthError(ApiError):
    """An ApiError whose answer must carry headers (WWW-Authenticate, Retry-After)."""

    def __init__(self, status: int, kind: str, title: str, detail: str | None = None, *,
                 headers: dict[str, str] | None = None):
        super().__init__(status, kind, title, detail)
        self.headers = headers or {}


def install(app: FastAPI) -> None:
    """Answer AuthErrors as problem documents with their headers. Without it, the ApiError
    handler of `problems.install` would answer them and drop the headers; handlers are chosen
    by the exception's class, so the order of the two calls does not matter."""

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONResponse:
        return problems._respond(request, exc.status, exc.kind, exc.title, exc.detail,
                                 exc.errors, headers=exc.headers)


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": problems.Problem, "content": {problems.PROBLEM_JSON: {}},
             "description": text}
    for status, text in ((401, "Not authenticated"), (403, "Not allowed"),
                         (429, "Too many requests"))
}


def _unauthorized(detail: str, error: str | None = None) -> AuthError:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return AuthError(401, "unauthorized", "Authentication required", detail,
                     headers={"WWW-Authenticate": challenge})


def accounts_of(request: Request) -> AccountStore:
    state = request.app.state
    accounts: AccountStore | None = getattr(state, "accounts", None)
    if accounts is None:
        accounts = AccountStore(state.store.engine)
        state.accounts = accounts
    return accounts


def current_principal(request: Request) -> Principal:
    """The caller: the owner of the bearer token, or ANONYMOUS without an Authorization
    header."""
    header = request.headers.get("authorization")
    if header is None:
        return session_principal(request) or ANONYMOUS
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorized("use 'Authorization: Bearer <token>'", "invalid_request")
    resolved = accounts_of(request).resolve_token(credentials.strip())
    if resolved is None:
        raise _unauthorized("the token is unknown, revoked or expired, or its user is disabled",
                            "invalid_token")
    user = resolved.user
    return Principal(user_id=user.id, role=user.role, organization_id=user.organization_id,
                     scopes=frozenset(resolved.scopes))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(role: Role | None = None, *,
            scope: Scope | None = None) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers with at least `role` and holding `scope`:
    anonymous callers get 401, authenticated ones without the rights 403."""
    if role is None and scope is None:
        raise ValueError("require() needs a role, a scope or both")
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if scope is not None and scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def dependency(principal: CurrentPrincipal) -> Principal:
        if role is not None and role_rank(principal.role) < role_rank(role):
            if not principal.authenticated:
                raise _unauthorized(f"this needs the {role} role; authenticate with a token")
            raise AuthError(403, "forbidden", "Not allowed",
                            f"this needs the {role} role; the caller is {principal.role}")
        if scope is not None and scope not in principal.scopes:
            if not principal.authenticated:
                raise _unauthorized(f"this needs a token with the {scope} scope")
            raise AuthError(403, "forbidden", "Not allowed",
                            f"this needs a token with the {scope} scope",
                            headers={"WWW-Authenticate":
                                     f'Bearer error="insufficient_scope", scope="{scope}"'})
        return principal

    return dependency


class RateLimiter:
    """Token buckets, one per key: `burst` requests at once, refilled at `rate` per second.

    At most `max_keys` buckets are kept; the least recently used goes first. Such a bucket has
    been idle longest and has most likely refilled, so forgetting it loses little.
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be positive, burst and max_keys at least 1")
        self.rate, self.burst, self.max_keys, self._clock = rate, float(burst), max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        # Synchronous dependencies run on a thread pool.
        self._lock = threading.Lock()

    def hit(self, key: str, cost: float = 1.0) -> float:
        """Take `cost` from the key's bucket: 0.0 if allowed, else the seconds to wait."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    @property
    def tracked_keys(self) -> int:
        return len(self._buckets)


def _too_many(wait: float) -> AuthError:
    seconds = max(1, math.ceil(wait))
    return AuthError(429, "rate-limited", "Too many requests",
                     f"retry in {seconds} s", headers={"Retry-After": str(seconds)})


def _client(request: Request) -> str:
    # Buckets belong to one application: two apps in one process (tests, say) never share.
    return f"{id(request.app)}:client:" + (request.client.host if request.client else "unknown")


def rate_limit(limiter: RateLimiter, *,
               per: Literal["client", "principal"] = "principal") -> Callable[..., None]:
    """A dependency charging one request to the caller's bucket, 429 when it is empty.

    `per="client"` keys on the client address and reads no credentials (for log-in);
    `per="principal"` keys on the user, or on the address for anonymous callers. Behind a
    reverse proxy the address is the proxy's unless uvicorn trusts its forwarded headers.
    """
    if per == "client":
        def by_client(request: Request) -> None:
            wait = limiter.hit(_client(request))
            if wait:
                raise _too_many(wait)

        return by_client

    def by_principal(request: Request, principal: CurrentPrincipal) -> None:
        key = (f"{id(request.app)}:user:{principal.user_id}" if principal.user_id
               else _client(request))
        wait = limiter.hit(key)
        if wait:
            raise _too_many(wait)

    return by_principal


# Browser sessions -------------------------------------------------------------------------
# A session is an ordinary short-lived token kept in an HttpOnly cookie. Because a browser
# sends cookies on cross-site requests too, every unsafe request authenticated by the cookie
# must also carry X-CSRF-Token, a value derived from the secret that a page on another site
# cannot read or compute.

SESSION_COOKIE = "bmtc_session"
# One bucket per client for every sign-in form (API and dashboard), so a guesser cannot
# double the rate by alternating between them.
SIGN_IN_LIMITER = RateLimiter(rate=0.2, burst=5)
SESSION_SCOPES: dict[str, tuple[Scope, ...]] = {"member": ("read", "submit"),
                                                "admin": ("read", "admin")}
CSRF_HEADER = "x-csrf-token"
SESSION_HOURS = 8
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(secret: str) -> str:
    return hashlib.sha256(f"csrf:{secret}".encode()).hexdigest()


def session_principal(request: Request) -> Principal | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    resolved = accounts_of(request).resolve_token(secret)
    if resolved is None:
        raise _unauthorized("the session has ended; sign in again", "invalid_token")
    if request.method in UNSAFE and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, ""), csrf_token(secret)):
        raise AuthError(403, "csrf", "Cross-site request refused",
                        f"a request signed in by cookie must send the {CSRF_HEADER} header "
                        "given at sign-in")
    user = resolved.user
    return Principal(user_id=user.id, role=user.role, organization_id=user.organization_id,
                     scopes=frozenset(resolved.scopes))
