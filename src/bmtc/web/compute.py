"""Sharing the CPU among dashboard visitors. Analyses are cached per atlas version, so only a
request that has to compute something new costs much; those run at most `SLOTS` at a time per
process, and one at a time per client. A client asking for a second new computation while its
first is running is told to retry (429) rather than queueing work without bound."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Request

from bmtc.server.auth import AuthError
from bmtc.web.templating import store_of

T = TypeVar("T")
SLOTS = 2
WAIT_S = 30.0


class ComputeGate:
    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        with self._lock:
            if client in self._busy:
                raise AuthError(429, "rate-limited", "Too many requests",
                                "an earlier analysis of yours is still running; retry shortly",
                                headers={"Retry-After": "2"})
            self._busy.add(client)
        try:
            if not self._slots.acquire(timeout=WAIT_S):
                raise AuthError(503, "busy", "The platform is busy",
                                "every analysis slot is taken; retry shortly",
                                headers={"Retry-After": "5"})
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._busy.discard(client)


def _gate(request: Request) -> ComputeGate:
    state: Any = request.app.state
    gate: ComputeGate | None = getattr(state, "compute_gate", None)
    if gate is None:
        gate = state.compute_gate = ComputeGate()
    return gate


def computed(request: Request, key: tuple[Any, ...], compute: Callable[[Any], T]) -> T:
    """A memoised view of the atlas; a cache miss waits for a compute slot."""
    client = request.client.host if request.client else "unknown"
    gate = _gate(request)
    return store_of(request).memoised(key, compute, admit=lambda: gate.admit(client))
