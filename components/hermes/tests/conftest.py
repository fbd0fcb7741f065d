"""Shared fixtures: clean legacy environment, the Rhetor test server, a fresh LLM adapter, Hermes on a socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from hermes.api import llm_endpoints

LEGACY_VARIABLES = ("LLM_ADAPTER_URL", "LLM_PROVIDER", "LLM_MODEL", "RHETOR_PORT")


@pytest.fixture
def rhetor_env(rhetor_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the standard ``RHETOR_*`` variables at the Rhetor test server and drop legacy overrides.

    Hermes keeps one adapter per process; each test gets a fresh one built after the environment is set, so
    provider choices and connections never leak from one test into the next.
    """
    for name in LEGACY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    monkeypatch.setenv("RHETOR_WS_URL", rhetor_server.ws_url)
    fresh_adapter = type(llm_endpoints.llm_adapter)()
    monkeypatch.setattr(llm_endpoints, "llm_adapter", fresh_adapter)
    return rhetor_server


@pytest.fixture
async def hermes_ws_base() -> AsyncIterator[str]:
    """Serve the Hermes app with uvicorn on 127.0.0.1 (port 0) inside the test's event loop."""
    from hermes.api.app import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY from asyncio
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        sock.close()
