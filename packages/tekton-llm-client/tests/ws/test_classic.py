"""The WebSocket client against the classic (envelope) and LLM Adapter test servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_client.ws_client import TektonLLMWebSocketClient

MakeServer = Callable[..., RhetorTestServer]
MakeWS = Callable[..., TektonLLMWebSocketClient]

ADVANCED_CHAT_SUFFIX = (
    "\n\nAs the advanced simulation model, I would typically maintain better context across a conversation thread."
)


def _types(server: RhetorTestServer) -> list[tuple[int, str]]:
    return [(f.connection, f.data["type"]) for f in server.ws_frames]


async def test_connect_registers_then_generate_sends_a_non_streaming_llm_request(
    make_server: MakeServer, make_ws: MakeWS, message_answer: Callable[[str], str]
) -> None:
    server = make_server("classic")
    async with make_ws(server.ws_url, dialect="classic", component_id="terma") as ws:
        assert await ws.generate("Hello classic", context_id="terma:c1") == message_answer("Hello classic")
    register, request = (f.data for f in server.ws_frames)
    assert register["type"] == "REGISTER" and register["source"] == "terma"
    assert register["payload"] == {"component_id": "terma"}
    assert request["type"] == "LLM_REQUEST"
    assert request["payload"] == {
        "message": "Hello classic",
        "context": "terma:c1",
        "task_type": "default",
        "streaming": False,
        "component": "terma",
    }
    assert set(request) == {"type", "source", "target", "timestamp", "payload"}


async def test_chat_sends_chat_request_with_nested_options(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("classic")
    ws = make_ws(server.ws_url, dialect="classic")
    messages = [{"role": "system", "content": "Sys."}, {"role": "user", "content": "q"}]
    options = {"model": "simulated-advanced", "provider": "simulated", "temperature": 0.1, "max_tokens": 9}
    text = await ws.chat(messages, context_id="demo:c2", options=options)
    assert text == chat_answer("q", 2, "Sys.", suffix=ADVANCED_CHAT_SUFFIX)
    payload = server.ws_frames[1].data["payload"]
    assert server.ws_frames[1].data["type"] == "CHAT_REQUEST"
    assert payload["messages"] == messages  # no system-prompt field exists: the system message travels as-is
    assert payload["streaming"] is False
    assert payload["options"] == {
        "provider": "simulated",
        "model": "simulated-advanced",
        "options": {"temperature": 0.1, "max_tokens": 9},
    }


async def test_streaming_uses_updates_and_the_typing_off_frame_never_leaks(
    make_server: MakeServer, make_ws: MakeWS, message_answer: Callable[[str], str]
) -> None:
    server = make_server("classic")
    ws = make_ws(server.ws_url, dialect="classic")
    for prompt in ("one", "two", "three"):
        chunks = [c async for c in ws.stream(prompt, context_id="demo:s")]
        assert "".join(c.chunk for c in chunks) == message_answer(prompt)
        assert chunks[-1].done and chunks[-1].chunk == ""
        assert {c.context_id for c in chunks} == {"demo:s"}
    assert _types(server) == [(1, "REGISTER")] + [(1, "LLM_REQUEST")] * 3
    assert all(f.data["payload"]["streaming"] is True for f in server.ws_frames[1:])


async def test_system_prompt_turns_a_prompt_into_a_chat_request(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("classic")
    ws = make_ws(server.ws_url, dialect="classic")
    assert await ws.generate("p", system_prompt="Terse.") == chat_answer("p", 2, "Terse.")
    frame = server.ws_frames[1].data
    assert frame["type"] == "CHAT_REQUEST"
    assert frame["payload"]["messages"][0] == {"role": "system", "content": "Terse."}


@pytest.mark.parametrize("streaming", [True, False])
async def test_provider_errors_fail_the_request_but_keep_the_socket(
    make_server: MakeServer, make_ws: MakeWS, streaming: bool, message_answer: Callable[[str], str]
) -> None:
    server = make_server("classic")
    server.faults.error_in_200 = True
    ws = make_ws(server.ws_url, dialect="classic")
    with pytest.raises(exc.ProviderError) as caught:
        if streaming:
            _ = [c async for c in ws.stream("x")]
        else:
            await ws.generate("x")
    assert caught.value.message == "Anthropic Claude is not available."
    server.faults.error_in_200 = False
    assert await ws.generate("y") == message_answer("y")
    assert {connection for connection, _ in _types(server)} == {1}


async def test_as_shipped_error_discards_the_socket_and_the_next_request_reconnects(
    make_server: MakeServer, make_ws: MakeWS
) -> None:
    server = make_server("classic-as-shipped")
    errors: list[exc.TektonLLMError] = []
    ws = make_ws(server.ws_url, dialect="classic", on_error=errors.append)
    for _ in range(2):
        with pytest.raises(exc.ProviderError) as caught:
            await ws.generate("doomed")
        assert "get_system_prompt" in caught.value.message
    assert _types(server) == [(1, "REGISTER"), (1, "LLM_REQUEST"), (2, "REGISTER"), (2, "LLM_REQUEST")]
    assert [type(e) for e in errors] == [exc.ProviderError, exc.ProviderError]


async def test_not_initialized_at_register_is_service_unavailable(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("classic")
    server.faults.not_initialized = True
    ws = make_ws(server.ws_url, dialect="classic")
    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await ws.connect()
    assert caught.value.message == "Rhetor components not initialized"
    assert not ws.connected


async def test_close_mid_stream_is_incomplete(
    make_server: MakeServer, make_ws: MakeWS, message_answer: Callable[[str], str]
) -> None:
    server = make_server("classic")
    server.faults.close_after_chunks = 3
    ws = make_ws(server.ws_url, dialect="classic")
    with pytest.raises(exc.IncompleteStreamError) as caught:
        _ = [c async for c in ws.stream("abc")]
    assert caught.value.partial_text == message_answer("abc")[:30]


async def test_status_returns_the_server_payload(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("classic")
    ws = make_ws(server.ws_url, dialect="classic")
    status = await ws.status()
    assert status["service"] == "rhetor" and status["message"] == "Rhetor LLM Manager is running"
    assert _types(server) == [(1, "REGISTER"), (1, "STATUS")]


async def test_status_is_unsupported_on_v1(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.UnsupportedOperation):
        await ws.status()
    assert server.ws_frames == []


async def test_llm_adapter_service_socket_without_path(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("adapter")
    assert server.ws_url.count("/") == 2  # ws://host:port, no /ws path
    ws = make_ws(server.ws_url)  # auto: a socket without a path is the LLM Adapter service
    expected = (
        'I received your message: "hey". This is a simulated response as I\'m not connected to an LLM. '
        "To use a real LLM, you should configure the adapter with a valid ANTHROPIC_API_KEY."
    )
    assert await ws.generate("hey", options={"temperature": 0.3}) == expected
    assert "".join([c.chunk async for c in ws.stream("hey")]) == expected
    assert ws.dialect == "adapter"
    register, first, second = (f.data for f in server.ws_frames)
    assert register["type"] == "REGISTER" and register["payload"]["client_id"] == "demo"
    assert first["type"] == "LLM_REQUEST"
    assert first["payload"] == {
        "message": "hey", "context": "default", "streaming": False, "options": {"temperature": 0.3},
    }
    assert second["payload"]["streaming"] is True
