"""Fixtures for the client suite: real Rhetor test servers on 127.0.0.1 and clients that are always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
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
