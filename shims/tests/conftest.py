"""Shared fixtures: a clean environment, a private HOME, the Rhetor test server in both generations and as
shipped, a Rhetor whose answers have no text field, a dead port.

Every shim reads its configuration from the environment at construction, so each test starts from an environment
without any ``RHETOR_*``, legacy (``LLM_*``, ``TERMA_*``) or prefixed (``TEKTON_LLM_*``) variable. Retries are
switched off: retrying is the client's behaviour (tested there); here it would only slow the failure tests down.
Shared clients need no cleanup here: each test has its own event loop, whose shutdown closes them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tekton_llm_client.testing import RhetorTestServer, closed_port, listen, serve_asgi

_PREFIXES = ("RHETOR_", "LLM_", "TERMA_", "TEKTON_LLM_", "OLLAMA_")


def pytest_configure(config: pytest.Config) -> None:
    # Constructing a shim warns once per process by design; tests that check the warning use pytest.warns.
    config.addinivalue_line("filterwarnings", "ignore:tekton_llm_shims.*:DeprecationWarning")


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No inherited configuration; HOME (Terma's ``~/.terma``) inside the test's temp dir."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name.endswith("_CONTEXT_ID"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RHETOR_MAX_RETRIES", "0")
    yield home


@pytest.fixture(params=["v1", "classic"])
def rhetor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[RhetorTestServer]:
    """The Rhetor test server in each generation, with ``RHETOR_URL`` pointing at it (as migrated code runs)."""
    with RhetorTestServer(profile=request.param, chunk_delay=0.0) as server:
        monkeypatch.setenv("RHETOR_URL", server.url)
        yield server


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> Iterator[RhetorTestServer]:
    """Rhetor v1 as shipped, what production runs: its HTTP chat routes fail, so the client generates over WS."""
    with RhetorTestServer(profile="v1-as-shipped", chunk_delay=0.0) as server:
        monkeypatch.setenv("RHETOR_URL", server.url)
        yield server


class TextlessRhetor:
    """A Rhetor stub whose chat answers carry no text field at all, or the text in ``answer`` when set.

    The test server always sends a text field, so this reply needs its own server: a two-route app on a real
    socket, with the generation pinned (``RHETOR_API``) so that no detection request is needed.
    """

    def __init__(self, url: str, dialect: str) -> None:
        self.url = url
        self.dialect = dialect
        self.answer: str | None = None
        self.bodies: list[Any] = []

    async def chat(self, request: Request) -> JSONResponse:
        self.bodies.append(await request.json())
        field = "content" if self.dialect == "v1" else "message"
        body: dict[str, Any] = {"model": "stub-model", "context_id": "stub"}
        if self.answer is not None:
            body[field] = self.answer
        return JSONResponse(body)


@pytest.fixture(params=["v1", "classic"])
async def textless(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TextlessRhetor]:
    """``RHETOR_URL`` at a ``TextlessRhetor`` on 127.0.0.1 (port 0), served inside the test's event loop."""
    with listen("127.0.0.1", 0) as sock:
        stub = TextlessRhetor(f"http://127.0.0.1:{sock.getsockname()[1]}", request.param)
        routes = [Route(path, stub.chat, methods=["POST"]) for path in ("/chat", "/api/v1/chat")]
        async with serve_asgi(Starlette(routes=routes), sock, lifespan="off"):
            monkeypatch.setenv("RHETOR_URL", stub.url)
            monkeypatch.setenv("RHETOR_API", stub.dialect)
            monkeypatch.setenv("RHETOR_TRANSPORT", "http")
            yield stub


@pytest.fixture
def rhetor_down(monkeypatch: pytest.MonkeyPatch) -> str:
    """``RHETOR_URL`` pointing at a port nothing listens on: every request is refused."""
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("RHETOR_URL", url)
    return url


class Wire:
    """What a test server received, as the logical fields of each generation request."""

    def __init__(self, server: RhetorTestServer) -> None:
        self.server = server

    def fail(self, status: int = 503) -> None:
        """Every generation request answers an HTTP error (503: a status the client does not reroute over WS)."""
        self.server.faults.fail_status = status
        self.server.faults.fail_times = -1

    def sent(self) -> list[dict[str, Any]]:
        """Generation requests as logical fields (``None`` where the generation has no such field)."""
        result: list[dict[str, Any]] = []
        for request in self.server.requests:
            body = request.body if isinstance(request.body, dict) else {}
            if request.path in ("/api/v1/chat", "/api/v1/chat/stream"):
                result.append({
                    "messages": body.get("messages"),
                    "model": body.get("model"),
                    "provider": None,
                    "temperature": body.get("temperature"),
                    "max_tokens": body.get("max_tokens"),
                    "context_id": None,
                    "task_type": None,
                    "component": None,
                    "stream": request.path.endswith("/stream"),
                })
            elif request.path == "/chat":
                options = body.get("options") or {}
                nested = options.get("options") or {}
                result.append({
                    "messages": body.get("messages"),
                    "model": options.get("model"),
                    "provider": options.get("provider"),
                    "temperature": nested.get("temperature"),
                    "max_tokens": nested.get("max_tokens"),
                    "context_id": body.get("context_id"),
                    "task_type": body.get("task_type"),
                    "component": body.get("component"),
                    "stream": body.get("streaming"),
                })
        return result

    def only(self) -> dict[str, Any]:
        """The single generation request of a test (fails when there were none or several)."""
        requests = self.sent()
        assert len(requests) == 1, requests
        return requests[0]

    def check(self, **expected: Any) -> dict[str, Any]:
        """Compare the single generation request with ``expected``; fields v1 cannot carry are skipped on v1."""
        request = self.only()
        for key, value in expected.items():
            if key in ("provider", "context_id", "task_type", "component") and self.server.profile.startswith("v1"):
                continue
            assert request[key] == value, (key, request[key], value)
        return request


@pytest.fixture
def wire(rhetor: RhetorTestServer) -> Wire:
    """Inspect (and break) the generation traffic of the ``rhetor`` server."""
    return Wire(rhetor)
