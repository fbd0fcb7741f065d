"""URL and dialect resolution, the auth handshake, secrecy of the token, JSON-only frames and callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client.models import StreamingChunk
from tekton_llm_client.testing import RhetorTestServer, closed_port
from tekton_llm_client.ws_client import TektonLLMWebSocketClient, http_base_for_ws_url

MakeServer = Callable[..., RhetorTestServer]
MakeWS = Callable[..., TektonLLMWebSocketClient]
TOKEN = "tok-3f9a-very-secret"


def test_url_defaults_to_localhost() -> None:
    assert TektonLLMWebSocketClient("c").url == "ws://localhost:8003/ws"


def test_url_from_rhetor_ws_url_then_rhetor_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RHETOR_URL", "https://rhetor.example:9000/prefix")
    assert TektonLLMWebSocketClient("c").url == "wss://rhetor.example:9000/prefix/ws"
    monkeypatch.setenv("RHETOR_WS_URL", "ws://other:1/ws")
    assert TektonLLMWebSocketClient("c").url == "ws://other:1/ws"
    assert TektonLLMWebSocketClient("c", "ws://explicit:2/ws").url == "ws://explicit:2/ws"


def test_http_urls_are_accepted_and_converted() -> None:
    assert TektonLLMWebSocketClient("c", "http://h:8003").url == "ws://h:8003/ws"
    assert TektonLLMWebSocketClient("c", "https://h/base/").url == "wss://h/base/ws"
    assert TektonLLMWebSocketClient("c", "http://h:8003/ws").url == "ws://h:8003/ws"
    assert http_base_for_ws_url("wss://h:1/p/ws") == "https://h:1/p"


def test_invalid_arguments_are_configuration_errors() -> None:
    with pytest.raises(exc.ConfigurationError):
        TektonLLMWebSocketClient("c", dialect="v2")  # type: ignore[arg-type]
    with pytest.raises(exc.ConfigurationError):
        TektonLLMWebSocketClient("c", reconnect_interval=-1)


@pytest.mark.parametrize("profile", ["v1", "classic"])
async def test_auto_dialect_asks_health_once(make_server: MakeServer, make_ws: MakeWS, profile: str) -> None:
    server = make_server(profile)
    ws = make_ws(server.ws_url)
    assert ws.dialect is None
    await ws.generate("which one?")
    await ws.generate("still")
    assert ws.dialect == profile
    assert server.attempts("/health") == 1


async def test_rhetor_api_env_pins_the_dialect(
    make_server: MakeServer, make_ws: MakeWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RHETOR_API", "classic")
    server = make_server("classic")
    ws = make_ws(server.ws_url)
    assert ws.dialect == "classic"
    await ws.connect()
    assert server.attempts("/health") == 0


async def test_bearer_token_is_sent_on_the_handshake_and_never_shown(
    make_server: MakeServer, make_ws: MakeWS, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, auth_token=TOKEN)
    with caplog.at_level(logging.DEBUG):
        await ws.generate("secret?")
        await ws.close()
    [handshake] = [r for r in server.requests if r.method == "WEBSOCKET"]
    assert handshake.path == "/ws"
    assert handshake.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(ws) and TOKEN not in str(vars(ws).get("url"))
    # Every client-side log line, websockets' own DEBUG handshake lines included (the server's are not ours).
    client_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("uvicorn")]
    assert any("Authorization: <redacted>" in line for line in client_lines)
    assert not any(TOKEN in line for line in client_lines)


@pytest.mark.parametrize("dialect", ["v1", "auto"])
async def test_token_from_env_and_absent_from_connection_errors(
    make_ws: MakeWS, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, dialect: str
) -> None:
    monkeypatch.setenv("RHETOR_AUTH_TOKEN", TOKEN)
    ws = make_ws(f"ws://user:{TOKEN}@127.0.0.1:{closed_port()}/ws?token={TOKEN}", dialect=dialect)
    with caplog.at_level(logging.DEBUG), pytest.raises(exc.ConnectionError) as caught:
        await ws.connect()  # auto: the health probe fails first, then the socket
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert TOKEN not in repr(ws)
    lines = [r.getMessage() for r in caplog.records]
    assert not any(TOKEN in line for line in lines)
    if dialect == "auto":
        assert any("cannot detect the Rhetor generation at http://127.0.0.1:" in line for line in lines)


async def test_no_auth_header_without_token(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    await make_ws(server.ws_url, dialect="v1").connect()
    [handshake] = [r for r in server.requests if r.method == "WEBSOCKET"]
    assert "authorization" not in handshake.headers


async def test_only_json_frames_are_ever_sent(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.InvalidRequestError):
        await ws.generate("nan", options={"temperature": float("nan")})
    with pytest.raises(exc.InvalidRequestError):
        await ws.generate("obj", options={"model": object()})
    # Nothing reached the wire, and the server's read loop is alive (a non-JSON frame would have killed it).
    assert server.ws_frames == []
    assert (await ws.generate("ok")).startswith('I received your message: "ok"')
    assert [f.is_json for f in server.ws_frames] == [True]


async def test_sync_and_async_callbacks_see_chunks_errors_and_closes(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    chunks: list[StreamingChunk] = []
    errors: list[exc.TektonLLMError] = []
    closes: list[int | None] = []

    async def on_error(error: exc.TektonLLMError) -> None:
        errors.append(error)

    ws = make_ws(server.ws_url, dialect="v1", on_message=chunks.append, on_error=on_error, on_close=closes.append)
    text = await ws.generate("cb")
    assert "".join(c.chunk for c in chunks) == text and chunks[-1].done
    server.faults.error_in_200 = True
    with pytest.raises(exc.ProviderError):
        await ws.generate("cb2")
    assert len(errors) == 1 and errors[0].message == "Anthropic Claude is not available."
    await ws.close()
    assert closes == [1000]


async def test_a_failing_callback_does_not_break_the_request(
    make_server: MakeServer, make_ws: MakeWS, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")

    def explode(chunk: StreamingChunk) -> None:
        raise RuntimeError("callback bug")

    ws = make_ws(server.ws_url, dialect="v1", on_message=explode)
    with caplog.at_level(logging.ERROR, logger="tekton_llm_client"):
        assert (await ws.generate("still works")).startswith('I received your message: "still works"')
    assert "callback" in caplog.text


async def test_async_with_connects_and_closes(make_server: MakeServer) -> None:
    server = make_server("v1")
    async with TektonLLMWebSocketClient("c", server.ws_url, dialect="v1") as ws:
        assert ws.connected
    assert not ws.connected
    # A closed client can be used again: it reconnects on demand.
    try:
        assert (await ws.generate("again")).startswith('I received your message: "again"')
    finally:
        await ws.close()


async def test_reconnects_are_paced_by_the_clients_one_retry_policy(refusing_ws: Any) -> None:
    """Each failed connect raises at once; the next one waits the policy's backoff (base ``reconnect_interval``,
    doubling), through the policy's own ``sleep`` — no second backoff anywhere."""
    ws = TektonLLMWebSocketClient("c", f"ws://127.0.0.1:{refusing_ws.port}/ws", dialect="v1", reconnect_interval=1000)
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    ws.retry_policy.sleep = record
    ws.retry_policy.rand = lambda: 1.0
    try:
        for _ in range(3):
            with pytest.raises(exc.ServiceUnavailableError):
                await ws.connect()
    finally:
        await ws.close()
    assert refusing_ws.handshakes == 3
    assert len(waits) == 2 and waits[0] == pytest.approx(1.0, abs=0.05) and waits[1] == pytest.approx(2.0, abs=0.05)
