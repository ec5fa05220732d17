"""Security headers on every response, added as the response starts. A plain ASGI wrapper
rather than an `@app.middleware("http")` function, which would copy every response through
an extra task and stream."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp,
                 policy_for: Callable[[str], str | None] | None = None) -> None:
        self.app = app
        # Pages that run their own scripts get a policy of their own, chosen by path.
        self.policy_for = policy_for or (lambda _path: None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page_policy = self.policy_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if page_policy is not None:
                    headers["Content-Security-Policy"] = page_policy
            await send(message)

        await self.app(scope, receive, send_with_headers)
