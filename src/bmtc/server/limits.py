"""A cap on request bodies: a client sending more than the platform will read gets 413
(problem+json) before the body is parsed, whether it declares its length or streams it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bmtc.server.problems import BASE, PROBLEM_JSON

MAX_BODY_BYTES = 2 * 1024 * 1024
TOO_LARGE_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<title>Upload too large · bmtc</title>"
                  "<link rel=\"stylesheet\" href=\"/static/bmtc/bmtc.css\"></head><body>"
                  "<main id=\"main\"><h1>Upload too large</h1>"
                  "<p class=\"error\" role=\"alert\">{detail}.</p>"
                  "<p><a href=\"/\">Back to the overview</a></p></main></body></html>")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        # The body is read (up to the limit) before the application sees it, so an
        # oversized stream is refused as such rather than failing later as bad JSON.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        path = scope.get("path", "")
        detail = f"the body may be at most {self.limit} bytes"
        if path.startswith("/api/"):
            body: dict[str, Any] = {
                "type": BASE + "too-large", "title": "Request body too large", "status": 413,
                "detail": detail, "instance": path, "errors": []}
            payload, media = json.dumps(body).encode(), PROBLEM_JSON
        else:
            # A dashboard form: the visitor gets a page, with a way back.
            payload = TOO_LARGE_PAGE.format(detail=detail).encode()
            media = "text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", media.encode()),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
