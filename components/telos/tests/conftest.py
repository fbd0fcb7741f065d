"""Shared fixtures: clean legacy environment and the Rhetor test server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from telos.api import app as telos_app

LEGACY_VARIABLES = ("LLM_ADAPTER_URL", "LLM_ADAPTER_WS_PORT", "LLM_PROVIDER", "LLM_MODEL", "RHETOR_PORT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Legacy variables from a developer's shell would change the adapter's defaults; the store starts empty."""
    for name in LEGACY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    telos_app.requirements.clear()
    yield
    telos_app.requirements.clear()


@pytest.fixture
def rhetor_env(rhetor_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the standard ``RHETOR_*`` variables at the Rhetor test server (what migrated code reads)."""
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    monkeypatch.setenv("RHETOR_WS_URL", rhetor_server.ws_url)
    return rhetor_server
