"""Shared fixtures: a private HOME for Terma's config file, the Rhetor test server, Terma on a real socket."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

# Legacy variables a developer's shell may export; they would change which service the adapter picks.
LEGACY_VARIABLES = ("LLM_ADAPTER_URL", "LLM_ADAPTER_WS_URL", "LLM_PROVIDER", "LLM_MODEL", "RHETOR_PORT")


@pytest.fixture(autouse=True)
def terma_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Terma writes ``~/.terma/config.json`` on first use: keep it inside the test's temp dir."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in [*LEGACY_VARIABLES, *(n for n in os.environ if n.startswith("TERMA_"))]:
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture
def rhetor_env(rhetor_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the standard ``RHETOR_*`` variables at the Rhetor test server (what migrated code reads)."""
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    monkeypatch.setenv("RHETOR_WS_URL", rhetor_server.ws_url)
    return rhetor_server


@pytest.fixture
async def terma_ws_base() -> AsyncIterator[str]:
    """Serve the Terma app with uvicorn on 127.0.0.1 (port 0) inside the test's event loop."""
    from terma.api.app import app

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
