"""Issue 12 §3: credentials embedded in a URL leave the URL when the configuration is resolved, travel as an explicit
``Authorization`` header (a bearer token wins), and appear in no repr, log line (ours, httpx's, httpcore's,
websockets') or exception text."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from tekton_llm_client import ClientSettings, LLMSettings, TektonLLMClient, TektonLLMWebSocketClient
from tekton_llm_client import exceptions as exc
from tekton_llm_client.config import resolve_config
from tekton_llm_client.testing import OllamaTestServer, closed_port

SECRET = "sk-ant-9f3c1e-url-secret"
TOKEN = "bearer-7d2a-token"
BASIC = "Basic " + base64.b64encode(f"svc:{SECRET}".encode()).decode()


def _with_credentials(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://svc:{SECRET}@{rest}"


def _client_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line except the test server's own (uvicorn logs the headers it received at DEBUG)."""
    return "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records if not r.name.startswith("uvicorn"))


def _leaks(*texts: str) -> list[str]:
    encoded = BASIC.split()[1]
    return [t for t in texts if SECRET in t or encoded in t or TOKEN in t]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG: ours, httpx, httpcore and websockets."""
    caplog.set_level(logging.DEBUG)
    for name in ("tekton_llm_client", "httpx", "httpcore", "websockets", "websockets.client"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_credentials_leave_the_url_and_every_repr() -> None:
    url = _with_credentials("http://rhetor.example:8003/prefix")
    config = resolve_config("c", rhetor_url=url, env={})
    assert config.base_url == "http://rhetor.example:8003/prefix"
    assert config.ws_url == "ws://rhetor.example:8003/prefix/ws"
    assert config.authorization() == BASIC and config.authorization(ws=True) == BASIC
    settings = ClientSettings(component_id="c", base_url=url, llm=LLMSettings(rhetor_url=url))
    client = TektonLLMClient(settings=settings)
    texts = [
        repr(config),
        str(config),
        repr(settings),
        str(settings),
        repr(settings.llm),
        str(settings.llm),
        repr(client),
        client.rhetor_url,
    ]
    assert _leaks(*texts) == []
    assert client.config.authorization() == BASIC


def test_a_bearer_token_wins_over_url_credentials() -> None:
    config = resolve_config("c", rhetor_url=_with_credentials("http://h:1"), auth_token=TOKEN, env={})
    assert config.authorization() == f"Bearer {TOKEN}" and config.authorization(ws=True) == f"Bearer {TOKEN}"
    env_config = resolve_config("c", env={"RHETOR_URL": _with_credentials("http://h:1")})
    assert env_config.base_url == "http://h:1" and env_config.authorization() == BASIC


async def test_http_sends_basic_auth_and_logs_no_secret(
    make_server: Any, make_client: Any, debug_logs: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    client = make_client(_with_credentials(server.url), api="v1", transport="http", max_retries=0)
    response = await client.generate_text("with url credentials")
    assert response.content.startswith('I received your message: "with url credentials"')
    assert server.requests[-1].headers["authorization"] == BASIC
    streamed = await client.generate_text("streamed", streaming=True).text()
    assert streamed.startswith('I received your message: "streamed"')
    assert server.requests[-1].headers["authorization"] == BASIC
    server.faults.fail_status, server.faults.fail_times = 401, 1
    with pytest.raises(exc.AuthenticationError) as info:
        await client.generate_text("rejected")
    assert any("HTTP Request: POST" in r.getMessage() for r in debug_logs.records)  # httpx did log requests
    assert _leaks(_client_logs(debug_logs), str(info.value), repr(info.value)) == []


async def test_bearer_token_is_the_only_authorization_sent(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(_with_credentials(server.url), api="v1", transport="http", auth_token=TOKEN)
    await client.generate_text("token wins")
    assert server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


async def test_websocket_sends_basic_auth_and_logs_no_secret(
    make_server: Any, make_client: Any, debug_logs: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    client = make_client(_with_credentials(server.url), api="v1", transport="ws")
    assert (await client.generate_text("over ws")).content.startswith('I received your message: "over ws"')
    handshake = next(r for r in server.requests if r.method == "WEBSOCKET")
    assert handshake.headers["authorization"] == BASIC
    assert any(r.name.startswith("websockets") for r in debug_logs.records)  # the library did log the handshake
    assert _leaks(_client_logs(debug_logs)) == []


async def test_public_websocket_client_takes_credentials_out_of_its_url(
    make_server: Any, debug_logs: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    ws = TektonLLMWebSocketClient("c", _with_credentials(server.ws_url), dialect="v1", reconnect_interval=0)
    try:
        assert (await ws.generate("public")).startswith('I received your message: "public"')
    finally:
        await ws.close()
    assert next(r for r in server.requests if r.method == "WEBSOCKET").headers["authorization"] == BASIC
    assert _leaks(_client_logs(debug_logs), repr(ws), ws.url) == []


@pytest.mark.parametrize("transport", ["http", "ws"])
async def test_connection_errors_name_no_secret(
    make_client: Any, debug_logs: pytest.LogCaptureFixture, transport: str
) -> None:
    client = make_client(
        _with_credentials(f"http://127.0.0.1:{closed_port()}"), api="v1", transport=transport, max_retries=0
    )
    with pytest.raises(exc.ConnectionError) as info:
        await client.generate_text("nobody home")
    assert "127.0.0.1" in str(info.value)
    assert _leaks(str(info.value), repr(info.value), _client_logs(debug_logs)) == []


async def test_ollama_url_credentials_are_basic_auth_and_in_no_log_or_repr(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    with OllamaTestServer() as ollama:
        monkeypatch.setenv("OLLAMA_URL", _with_credentials(ollama.url))
        client = make_client(f"http://127.0.0.1:{closed_port()}", use_fallback=True, max_retries=0)
        assert client.config.ollama_url == ollama.url
        response = await client.generate_text("via ollama")
        assert response.provider == "ollama" and response.content == 'Ollama received: "via ollama"'
        assert ollama.requests[-1].headers["authorization"] == BASIC
    assert any("HTTP Request: POST" in r.getMessage() and "/api/chat" in r.getMessage() for r in debug_logs.records)
    assert _leaks(_client_logs(debug_logs), repr(client.config), str(client.config), repr(client)) == []
    assert client.config.ollama_authorization() == BASIC
