"""Transport selection: v1 as shipped answers 500 on HTTP chat, so ``auto`` moves generation to the WebSocket."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tekton_llm_client import exceptions as exc

ECHO = "I received your message:"


async def test_auto_switches_to_ws_once_with_one_warning(
    make_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url)
    caplog.set_level(logging.WARNING, logger="tekton_llm_client")
    first = await client.generate_text("hello as shipped")
    assert first.content.startswith(f'{ECHO} "hello as shipped"')
    assert client.transport == "ws"
    second = await client.generate_text("again")
    assert second.content.startswith(f'{ECHO} "again"')
    streamed = [c async for c in client.generate_text("stream as shipped", streaming=True)]
    assert "".join(c.chunk for c in streamed).startswith(f'{ECHO} "stream as shipped"') and streamed[-1].done
    assert server.attempts("/api/v1/chat") == 1  # HTTP tried once, never again
    assert server.attempts("/api/v1/chat/stream") == 0
    warnings = [r for r in caplog.records if "WebSocket" in r.getMessage()]
    assert len(warnings) == 1
    frames = [f.data for f in server.ws_frames if f.is_json]
    assert [m["content"] for m in frames[0]["messages"]] == ["hello as shipped"]


async def test_auto_switch_from_a_stream(make_server: Any, make_client: Any) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url)
    text = await client.generate_text("stream first", streaming=True).text()
    assert text.startswith(f'{ECHO} "stream first"')
    assert client.transport == "ws"
    assert server.attempts("/api/v1/chat/stream") == 1


async def test_http_pinned_reports_the_shipped_fault(make_server: Any, make_client: Any) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url, transport="http", max_retries=1)
    with pytest.raises(exc.ServerError) as info:
        await client.generate_text("pinned")
    assert "route_request" in info.value.message
    assert server.attempts("/api/v1/chat") == 2


@pytest.mark.parametrize("profile", ["v1", "classic"])
async def test_ws_pinned(make_server: Any, make_client: Any, profile: str) -> None:
    server = make_server(profile)
    client = make_client(server.url, transport="ws", auth_token="tok-123", model_id="simulated-advanced")
    response = await client.generate_text("over ws", system_prompt="Short answers")
    assert response.content.startswith(f'{ECHO} "over ws"') and response.model == "simulated-advanced"
    chunks = [c async for c in client.generate_text("ws stream", streaming=True)]
    assert chunks[-1].done and "".join(c.chunk for c in chunks).startswith(f'{ECHO} "ws stream"')
    handshakes = [r for r in server.requests if r.method == "WEBSOCKET"]
    assert handshakes and handshakes[0].headers["authorization"] == "Bearer tok-123"
    assert not [r for r in server.requests if r.path in ("/api/v1/chat", "/chat")]


async def test_ws_not_initialized_falls_back(
    make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tekton_llm_client.testing import closed_port

    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server = make_server("v1-as-shipped")
    server.faults.not_initialized = True
    client = make_client(server.url, use_fallback=True, max_retries=1)
    response = await client.generate_text("not ready")
    assert response.fallback is True
