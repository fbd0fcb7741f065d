"""The WebSocket client against the v1 test server: bare JSON requests, ``content`` chunks, ``stream_complete``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client._request import LLMRequest
from tekton_llm_client.models import StreamingChunk
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_client.ws_client import TektonLLMWebSocketClient

MakeServer = Callable[..., RhetorTestServer]
MakeWS = Callable[..., TektonLLMWebSocketClient]


async def test_generate_returns_the_whole_answer_and_sends_a_bare_v1_frame(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    text = await ws.generate("Hello over WS", context_id="demo:ws1")
    assert text == chat_answer("Hello over WS", 1)
    [frame] = server.ws_frames
    assert frame.is_json
    assert frame.data == {
        "messages": [{"role": "user", "content": "Hello over WS"}],
        "task_type": "chat",
        "context_id": "demo:ws1",
        "component": "demo",
    }


async def test_stream_yields_chunks_then_one_empty_done_chunk(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    chunks = [chunk async for chunk in ws.stream("Stream me", context_id="demo:s")]
    assert all(isinstance(c, StreamingChunk) for c in chunks)
    assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].chunk == ""
    text_chunks = chunks[:-1]
    assert "".join(c.chunk for c in text_chunks) == chat_answer("Stream me", 1)
    assert [len(c.chunk) for c in text_chunks[:-1]] == [10] * (len(text_chunks) - 1)
    assert {(c.model, c.provider, c.context_id) for c in chunks} == {("simulated-fast", "simulated", "demo:s")}
    assert len({c.request_id for c in chunks}) == 1


async def test_chat_takes_the_leading_system_message_as_system_prompt(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    messages = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "second"},
    ]
    text = await ws.chat(messages)
    assert text == chat_answer("second", 3, "Be kind.")
    frame = server.ws_frames[0].data
    assert frame["system_prompt"] == "Be kind."
    assert [m["role"] for m in frame["messages"]] == ["user", "assistant", "user"]


async def test_chat_stream_true_is_one_await_then_async_iteration(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    stream = await ws.chat([{"role": "user", "content": "hi"}], stream=True)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.chunk for c in chunks) == chat_answer("hi", 1)
    assert chunks[-1].done


async def test_options_map_to_v1_fields_and_choose_the_model(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    chunks = [
        c
        async for c in ws.stream(
            "x", options={"model": "simulated-standard", "temperature": 0.2, "max_tokens": 50, "task_type": "code"}
        )
    ]
    frame = server.ws_frames[0].data
    assert (frame["model"], frame["temperature"], frame["max_tokens"], frame["task_type"]) == (
        "simulated-standard", 0.2, 50, "code",
    )
    assert "provider" not in frame  # v1 has no provider field
    assert {c.model for c in chunks} == {"simulated-standard"}
    assert len(chunks[0].chunk) == 5  # the standard model's chunk size


async def test_stream_request_ends_with_exactly_one_done_event(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    request = LLMRequest(messages=[{"role": "user", "content": "raw"}], system_prompt="Short.", component="demo")
    events = [event async for event in ws.stream_request(request)]
    assert [e.done for e in events].count(True) == 1 and events[-1].done and events[-1].text == ""
    assert "".join(e.text for e in events) == chat_answer("raw", 1, "Short.")
    assert server.ws_frames[0].data["system_prompt"] == "Short."


async def test_provider_error_chunk_fails_the_request_and_keeps_the_socket(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    server.faults.error_after_chunks = 2
    server.faults.error_message = "provider exploded"
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.IncompleteStreamError) as caught:
        await ws.generate("one")
    assert caught.value.partial_text == chat_answer("one", 1)[:20]
    assert isinstance(caught.value.__cause__, exc.ProviderError)
    assert caught.value.__cause__.message == "provider exploded"
    server.faults.error_after_chunks = None
    assert (await ws.generate("two")).startswith('I received your message: "two"')
    # stream_complete after the error chunk was consumed, so the same socket served the next request.
    assert [f.connection for f in server.ws_frames] == [1, 1]


async def test_request_error_frame_not_initialized_is_service_unavailable(
    make_server: MakeServer, make_ws: MakeWS
) -> None:
    server = make_server("v1")
    server.faults.not_initialized = True
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await ws.generate("early")
    assert caught.value.message == "Rhetor not initialized"
    assert caught.value.retryable and caught.value.unavailable
    server.faults.not_initialized = False
    assert (await ws.generate("later")).startswith('I received your message: "later"')
    assert [f.connection for f in server.ws_frames] == [1, 1]


async def test_all_empty_answer_is_an_empty_answer_error(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    server.faults.provider_unavailable = True
    errors: list[Exception] = []
    ws = make_ws(server.ws_url, dialect="v1", on_error=errors.append)
    with pytest.raises(exc.EmptyAnswerError) as caught:
        await ws.generate("anyone there?")
    assert caught.value.details == {"reason": "empty_answer"} and caught.value.unavailable
    with pytest.raises(exc.EmptyAnswerError):
        _ = [c async for c in ws.stream("anyone there?")]
    assert [type(e) for e in errors] == [exc.EmptyAnswerError, exc.EmptyAnswerError]


async def test_provider_error_after_text_ends_the_stream_like_the_client_does(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    """MIGRATION §10: a stream that broke after text ends with a chunk carrying ``error``, then
    ``IncompleteStreamError`` with the partial text — in the public WebSocket client as in ``TektonLLMClient``."""
    server = make_server("v1")
    server.faults.error_after_chunks = 2
    server.faults.error_message = "provider exploded"
    seen: list[StreamingChunk] = []
    errors: list[Exception] = []
    ws = make_ws(server.ws_url, dialect="v1", on_message=seen.append, on_error=errors.append)
    chunks: list[StreamingChunk] = []
    with pytest.raises(exc.IncompleteStreamError) as caught:
        async for chunk in ws.stream("partial"):
            chunks.append(chunk)
    partial = chat_answer("partial", 1)[:20]
    assert caught.value.partial_text == partial
    assert "".join(c.chunk for c in chunks) == partial
    assert chunks[-1].done and chunks[-1].chunk == "" and chunks[-1].error == "provider exploded"
    assert [c.done for c in chunks].count(True) == 1
    assert [c.error for c in seen] == [c.error for c in chunks]
    assert errors == [caught.value]


async def test_stream_request_flags_an_empty_answer_for_the_caller(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    server.faults.provider_unavailable = True
    ws = make_ws(server.ws_url, dialect="v1")
    request = LLMRequest(messages=[{"role": "user", "content": "empty?"}])
    events = [event async for event in ws.stream_request(request)]
    assert len(events) == 1
    assert events[0].done and events[0].text == "" and events[0].raw == {"empty_answer": True}
    server.faults.provider_unavailable = False
    events = [event async for event in ws.stream_request(request)]
    assert events[-1].raw is None and "".join(e.text for e in events)
    assert [f.connection for f in server.ws_frames] == [1, 1]


async def test_close_mid_answer_is_incomplete_with_partial_text_then_reconnects(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    server.faults.close_after_chunks = 2
    ws = make_ws(server.ws_url, dialect="v1")
    received: list[str] = []
    with pytest.raises(exc.IncompleteStreamError) as caught:
        async for chunk in ws.stream("cut me"):
            received.append(chunk.chunk)
    assert caught.value.partial_text == chat_answer("cut me", 1)[:20] == "".join(received)
    server.faults.close_after_chunks = None
    assert await ws.generate("again") == chat_answer("again", 1)
    assert [f.connection for f in server.ws_frames] == [1, 2]


async def test_close_before_any_text_is_a_connection_error(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    server.faults.close_after_chunks = 0
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.ConnectionError) as caught:
        await ws.generate("nothing")
    assert not isinstance(caught.value, exc.IncompleteStreamError)
    assert caught.value.retryable


async def test_frame_timeout_before_text_is_a_read_timeout_and_discards_the_socket(
    make_server: MakeServer, make_ws: MakeWS
) -> None:
    server = make_server("v1")
    server.faults.first_byte_delay = 1.0
    ws = make_ws(server.ws_url, dialect="v1", frame_timeout=0.1)
    with pytest.raises(exc.TimeoutError) as caught:
        await ws.generate("slow")
    assert caught.value.kind == "read"
    server.faults.first_byte_delay = 0.0
    assert (await ws.generate("fast")).startswith('I received your message: "fast"')
    assert [f.connection for f in server.ws_frames] == [1, 2]


async def test_stall_after_text_is_incomplete(make_server: MakeServer, make_ws: MakeWS) -> None:
    server = make_server("v1")
    server.faults.stall_after_chunks = 1
    server.faults.stall_seconds = 1.0
    ws = make_ws(server.ws_url, dialect="v1", frame_timeout=0.1)
    with pytest.raises(exc.IncompleteStreamError) as caught:
        await ws.generate("stall")
    assert caught.value.partial_text == "I received"


async def test_non_json_server_frame_is_a_protocol_error_and_the_socket_is_replaced(
    make_server: MakeServer, make_ws: MakeWS
) -> None:
    server = make_server("v1")
    server.faults.malformed_after_chunks = 1
    ws = make_ws(server.ws_url, dialect="v1")
    with pytest.raises(exc.IncompleteStreamError) as caught:  # after one chunk of text: the partial text is kept
        await ws.generate("garbled")
    assert isinstance(caught.value.__cause__, exc.ProtocolError) and caught.value.partial_text
    server.faults.malformed_after_chunks = None
    assert (await ws.generate("clean")).startswith('I received your message: "clean"')
    assert [f.connection for f in server.ws_frames] == [1, 2]


async def test_concurrent_requests_queue_on_one_socket_in_call_order(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1", chunk_delay=0.002)
    ws = make_ws(server.ws_url, dialect="v1")
    prompts = [f"prompt {i}" for i in range(4)]
    answers = await asyncio.gather(*(ws.generate(p) for p in prompts))
    # Each caller got its own answer: no frame of one answer leaked into another.
    assert answers == [chat_answer(p, 1) for p in prompts]
    frames = server.ws_frames
    assert {f.connection for f in frames} == {1}
    assert [f.data["messages"][0]["content"] for f in frames] == prompts


async def test_an_abandoned_stream_releases_the_socket_for_the_next_request(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    ws = make_ws(server.ws_url, dialect="v1")
    stream = ws.stream("long answer")
    first = await anext(stream)
    assert first.chunk == "I received"
    await stream.aclose()
    # The rest of the abandoned answer must not be read as the next answer.
    assert await ws.generate("next") == chat_answer("next", 1)
    assert [f.connection for f in server.ws_frames] == [1, 2]


async def test_reconnects_after_a_server_side_close(
    make_server: MakeServer, make_ws: MakeWS, chat_answer: Callable[..., str]
) -> None:
    server = make_server("v1")
    closes: list[int | None] = []
    ws = make_ws(server.ws_url, dialect="v1", on_close=closes.append)
    assert await ws.generate("before") == chat_answer("before", 1)
    server.stop()  # closes every connection from the server side
    for _ in range(200):
        if closes:
            break
        await asyncio.sleep(0.01)
    assert len(closes) == 1
    assert not ws.connected
    server.start()  # same port
    assert await ws.generate("after") == chat_answer("after", 1)
    handshakes = [r for r in server.requests if r.method == "WEBSOCKET"]
    assert len(handshakes) == 2


async def test_connection_refused_is_a_connection_error(make_ws: MakeWS) -> None:
    from tekton_llm_client.testing import closed_port

    ws = make_ws(f"ws://127.0.0.1:{closed_port()}/ws", dialect="v1")
    with pytest.raises(exc.ConnectionError) as caught:
        await ws.generate("anyone?")
    assert caught.value.unavailable
    with pytest.raises(exc.ConnectionError):
        await ws.connect()
