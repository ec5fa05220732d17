"""The HTTP protocol the server runs: uvicorn's httptools implementation (a C parser) with
Nagle's algorithm switched off on every connection. With several workers uvicorn creates the
listening socket itself, and asyncio then leaves TCP_NODELAY unset on accepted connections,
so each answer on a kept-alive connection waits for the client's delayed ACK (about 40 ms)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
