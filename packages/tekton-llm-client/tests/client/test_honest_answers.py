"""Issue 12 §2: answers are honest in every shape — errors named by the SSE event, no transport switch on a
transient failure, the original HTTP error when no WebSocket is there, fallback answers marked everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tekton_llm_client import LocalFallbackAdapter, TektonLLMClient
from tekton_llm_client import exceptions as exc
from tekton_llm_client.adapters import FALLBACK_TEXT
from tekton_llm_client.models import Usage
from tekton_llm_client.testing import closed_port

from .conftest import RawRequest, RawServers

SHIPPED_CHAT = b'{"detail":"ModelRouter.route_request() got an unexpected keyword argument \'messages\'"}'


def _chunk(text: str) -> str:
    return f"data: {json.dumps({'content': text, 'done': False})}\n\n"


async def test_v1_error_event_after_a_chunk_is_a_typed_error_keeping_the_partial_text(
    raw_server: RawServers, make_client: Any
) -> None:
    server = await raw_server.start(
        lambda _r: raw_server.event_stream(
            _chunk("partial "), 'event: error\ndata: {"message": "upstream overloaded"}\n\n'
        )
    )
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    stream = client.generate_text("overload me", streaming=True)
    chunks = []
    with pytest.raises(exc.IncompleteStreamError) as info:
        async for chunk in stream:
            chunks.append(chunk)
    assert info.value.partial_text == "partial "
    assert isinstance(info.value.__cause__, exc.ProviderError)
    assert info.value.__cause__.message == "upstream overloaded"
    assert [c.chunk for c in chunks] == ["partial ", ""]
    assert chunks[-1].done and chunks[-1].error == "upstream overloaded"


async def test_v1_error_event_first_is_a_provider_error(raw_server: RawServers, make_client: Any) -> None:
    server = await raw_server.start(lambda _r: raw_server.event_stream("event: error\ndata: overloaded, try later\n\n"))
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    with pytest.raises(exc.ProviderError, match="overloaded, try later"):
        await client.generate_text("x", streaming=True).text()


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_transient_500_of_a_healthy_v1_server_does_not_switch_transports(
    make_server: Any, make_client: Any, streaming: bool
) -> None:
    server = make_server("v1")
    path = "/api/v1/chat/stream" if streaming else "/api/v1/chat"
    server.faults.fail_status, server.faults.fail_times, server.faults.fail_paths = 500, 1, {path}
    client = make_client(server.url, max_retries=1)
    first = await client.generate_text("after one 500", streaming=streaming)
    text = await first.text() if streaming else first.content
    assert text.startswith('I received your message: "after one 500"')
    assert client.transport == "http"
    assert server.attempts(path) == 2
    second = await client.generate_text("next", streaming=streaming)
    assert (await second.text() if streaming else second.content).startswith('I received your message: "next"')
    assert server.attempts(path) == 3
    assert not [r for r in server.requests if r.method == "WEBSOCKET"]


async def test_as_shipped_v1_without_a_websocket_reports_the_http_error_and_stays_on_http(
    raw_server: RawServers, make_client: Any
) -> None:
    def reply(request: RawRequest) -> list[bytes]:
        if request.path == "/api/v1/chat":
            return raw_server.response(500, SHIPPED_CHAT)
        return raw_server.response(404, b'{"detail":"Not Found"}')  # no /ws here: the handshake is refused

    server = await raw_server.start(reply)
    client = make_client(server.url, api="v1", max_retries=2)
    for _ in range(2):
        with pytest.raises(exc.ServerError) as info:
            await client.generate_text("as shipped, no socket")
        assert info.value.status_code == 500
        assert info.value.message.startswith("ModelRouter.route_request() got an unexpected keyword argument")
        assert f"(WebSocket {server.url.replace('http', 'ws')}/ws also tried" in info.value.message
        assert client.transport == "http"
    # Not retried (the WebSocket could not fix it), and "no WebSocket here" is remembered: /ws is asked once.
    assert server.paths("POST") == ["/api/v1/chat", "/api/v1/chat"]
    assert server.paths("GET") == ["/ws"]


async def test_no_websocket_is_remembered_only_for_the_breaker_cooldown(
    raw_server: RawServers, make_client: Any
) -> None:
    def reply(request: RawRequest) -> list[bytes]:
        if request.path == "/api/v1/chat":
            return raw_server.response(500, SHIPPED_CHAT)
        return raw_server.response(404, b'{"detail":"Not Found"}')

    server = await raw_server.start(reply)
    client = make_client(server.url, api="v1", max_retries=2, breaker_cooldown=0.0)
    for _ in range(2):
        with pytest.raises(exc.ServerError, match="also tried"):
            await client.generate_text("a WebSocket may have been deployed since")
    assert server.paths("POST") == ["/api/v1/chat", "/api/v1/chat"]  # still never retried
    assert server.paths("GET") == ["/ws", "/ws"]  # the memory expired: /ws asked again


async def test_a_500_merely_mentioning_route_request_is_transient_not_as_shipped(
    raw_server: RawServers, make_client: Any
) -> None:
    server = await raw_server.start(
        lambda _r: raw_server.response(500, b'{"detail":"upstream route_request timed out"}')
    )
    client = make_client(server.url, api="v1", max_retries=1)
    with pytest.raises(exc.ServerError) as info:
        await client.generate_text("transient")
    assert "WebSocket" not in info.value.message
    assert server.paths("POST") == ["/api/v1/chat", "/api/v1/chat"]  # retried like any 500
    assert server.paths("GET") == []  # and no WebSocket handshake


async def test_as_shipped_stream_fingerprint_switches_when_the_websocket_is_there(
    make_server: Any, make_client: Any
) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url)
    assert (await client.generate_text("switch", streaming=True).text()).startswith('I received your message: "sw')
    assert client.transport == "ws"


async def test_usage_reaches_every_openai_shape(raw_server: RawServers, make_client: Any) -> None:
    body = {"content": "counted", "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 5}}
    server = await raw_server.start(lambda _r: raw_server.response(200, json.dumps(body).encode()))
    client = make_client(server.url, api="v1", transport="http")
    completion = await client.chat_completion([{"role": "user", "content": "count"}])
    assert completion.usage == Usage(3, 5, 8)
    assert (completion.fallback, completion.error) == (False, None)
    answer = await client.chat([{"role": "user", "content": "count"}])
    assert answer["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert (answer["fallback"], answer["error"]) == (False, None)


@pytest.fixture
def everything_down(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    return f"http://127.0.0.1:{closed_port()}"


async def test_openai_shapes_mark_the_local_fallback(everything_down: str) -> None:
    async with TektonLLMClient("honest", rhetor_url=everything_down, max_retries=0) as client:  # fallback on
        answer = await client.chat([{"role": "user", "content": "anyone?"}])
        assert answer["choices"][0]["message"]["content"] == FALLBACK_TEXT
        assert answer["fallback"] is True and answer["error"] == "LLM service unavailable"
        completion = await client.chat_completion([{"role": "user", "content": "anyone?"}])
        assert completion.fallback is True and completion.error == "LLM service unavailable"
        items = [c async for c in client.stream_chat_completion([{"role": "user", "content": "anyone?"}])]
        assert "".join(c.choices[0].delta.content or "" for c in items) == FALLBACK_TEXT
        assert all(c.fallback for c in items)
        assert items[-1].choices[0].finish_reason == "stop" and items[-1].error == "LLM service unavailable"


async def test_streamed_local_fallback_chunk_carries_the_error(everything_down: str) -> None:
    async with TektonLLMClient("honest", rhetor_url=everything_down, max_retries=0) as client:
        chunks = [c async for c in client.generate_text("anyone?", streaming=True)]
        assert [(c.chunk, c.done, c.fallback, c.error) for c in chunks] == [
            (FALLBACK_TEXT, True, True, "LLM service unavailable")
        ]


async def test_local_fallback_adapter_is_strict_and_honest() -> None:
    with pytest.raises(TypeError):
        LocalFallbackAdapter(fallback_model=["typo"])  # type: ignore[call-arg]
    adapter = LocalFallbackAdapter(fallback_models=["m2"], max_retries=2, timeout=60)
    assert await adapter.is_available() is False
    assert adapter.get_provider_info()["available"] is False


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({}, {"RHETOR_TIMEOUT": "nan"}, "RHETOR_TIMEOUT"),
        ({"timeout": float("inf")}, {}, "timeout"),
        ({}, {"RHETOR_IDLE_TIMEOUT": "nan"}, "RHETOR_IDLE_TIMEOUT"),
        ({"rhetor_url": "ftp://rhetor:21"}, {}, "http:// or https://"),
        ({"rhetor_url": "http://"}, {}, "no host"),
        ({}, {"RHETOR_URL": "http://"}, "no host"),
        ({"ws_url": "ftp://rhetor:21/ws"}, {}, "ws://"),
        ({}, {"OLLAMA_URL": "localhost:11434"}, "OLLAMA_URL"),
    ],
)
def test_configuration_is_checked_at_construction(
    kwargs: dict[str, Any], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(exc.ConfigurationError, match=message):
        TektonLLMClient("checked", **kwargs)
