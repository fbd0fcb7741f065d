"""Shared fixtures: clean legacy environment, the Rhetor test server, an HTTP client on the Engram app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from engram.api.app import app

LEGACY_VARIABLES = ("LLM_ADAPTER_URL", "LLM_ADAPTER_WS_PORT", "LLM_PROVIDER", "LLM_MODEL", "RHETOR_PORT")


@pytest.fixture
def rhetor_env(rhetor_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the standard ``RHETOR_*`` variables at the Rhetor test server and drop legacy overrides."""
    for name in LEGACY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    monkeypatch.setenv("RHETOR_WS_URL", rhetor_server.ws_url)
    return rhetor_server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://engram") as http:
        yield http
