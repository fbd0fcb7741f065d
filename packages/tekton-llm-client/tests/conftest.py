"""Fixtures for the client suite: real Rhetor test servers on 127.0.0.1 and clients that are always closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tekton_llm_client import TektonLLMClient
from tekton_llm_client.testing import RhetorTestServer

pytest_plugins = ["pytester"]  # the plugin's own fixtures are tested in inner pytest runs


@pytest.fixture
def make_server() -> Iterator[Callable[..., RhetorTestServer]]:
    """Start servers on demand (several per test are fine); all are stopped at teardown."""
    started: list[RhetorTestServer] = []

    def factory(profile: str = "v1", **kwargs: Any) -> RhetorTestServer:
        kwargs.setdefault("chunk_delay", 0.0)
        server = RhetorTestServer(profile=profile, **kwargs)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(params=["v1", "classic"])
def server(request: pytest.FixtureRequest, make_server: Callable[..., RhetorTestServer]) -> RhetorTestServer:
    """One server per generation (the test runs once for each)."""
    return make_server(request.param)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., TektonLLMClient]]:
    """Clients with fast retries and no fallback unless asked; closed at teardown."""
    clients: list[TektonLLMClient] = []

    def factory(url: str, **kwargs: Any) -> TektonLLMClient:
        kwargs.setdefault("use_fallback", False)
        kwargs.setdefault("timeout", 5)
        client = TektonLLMClient(kwargs.pop("component_id", "test"), rhetor_url=url, **kwargs)
        client.retry_policy.backoff_base = 0.001
        client.retry_policy.backoff_cap = 0.002
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RHETOR_*/OLLAMA_* variable of the machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith(("RHETOR_", "OLLAMA_", "TEKTON_LLM_")) or name.endswith("_CONTEXT_ID"):
            monkeypatch.delenv(name, raising=False)


@dataclass
class RefusingServer:
    """A server that answers every WebSocket handshake with 503, counting them."""

    port: int = 0
    handshakes: int = 0


@pytest.fixture
async def refusing_ws() -> AsyncIterator[RefusingServer]:
    refusing = RefusingServer()

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        refusing.handshakes += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    refusing.port = server.sockets[0].getsockname()[1]
    try:
        yield refusing
    finally:
        server.close()
        await server.wait_closed()
