"""A scripted raw HTTP server on 127.0.0.1 for shapes the Rhetor test server does not produce."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest


@dataclass
class RawRequest:
    """One request as the raw server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RawServer:
    """Answers each request with the byte strings ``reply(request)`` returns, then closes the connection."""

    reply: Callable[[RawRequest], list[bytes]]
    url: str = ""
    requests: list[RawRequest] = field(default_factory=list)

    def paths(self, method: str) -> list[str]:
        """Paths requested with ``method``, in order."""
        return [r.path for r in self.requests if r.method == method]


class RawServers:
    """Starts raw servers (``await start(reply)``) and builds their replies."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []

    @staticmethod
    def response(status: int, body: bytes, content_type: str = "application/json") -> list[bytes]:
        """A complete ``Connection: close`` response."""
        head = f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        return [(head + "Connection: close\r\n\r\n").encode(), body]

    @staticmethod
    def event_stream(*events: str) -> list[bytes]:
        """A 200 ``text/event-stream`` whose body is ``events`` (each written and flushed on its own), then EOF."""
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        return [head, *(e.encode() for e in events)]

    async def start(self, reply: Callable[[RawRequest], list[bytes]]) -> RawServer:
        raw = RawServer(reply)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                return
            method, path, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = RawRequest(method, path, headers, body)
            raw.requests.append(request)
            for part in reply(request):
                writer.write(part)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers.append(server)
        raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return raw


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServers]:
    """Raw servers started on demand; stopped at teardown."""
    servers = RawServers()
    yield servers
    for server in servers.servers:
        server.close()
        await server.wait_closed()
