"""Generation in both Rhetor generations over real sockets: non-streaming, streaming, wire shapes."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import CompletionResponse, StreamingChunk, TextStream

CHAT_TEXT = 'I received your message: "{msg}". I see a conversation with {n} messages.'


async def test_generate_text_returns_simulated_answer(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    response = await client.generate_text("Hello Rhetor")
    assert isinstance(response, CompletionResponse)
    assert response.content.startswith(CHAT_TEXT.format(msg="Hello Rhetor", n=1))
    assert response.model == "simulated-fast"
    assert response.fallback is False
    assert response.success is True
    assert response.request_id
    assert client.dialect == server.profile


async def test_stream_order_done_and_join_equal_non_streaming(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    whole = (await client.generate_text("Stream me please")).content
    seen: list[StreamingChunk] = []
    stream = client.generate_text("Stream me please", streaming=True, callback=seen.append)
    assert isinstance(stream, TextStream)
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].done is True
    assert all(not c.done for c in chunks[:-1])
    assert "".join(c.chunk for c in chunks) == whole
    assert len(chunks) > 5  # 10-character chunks
    assert [c.chunk for c in seen] == [c.chunk for c in chunks]
    assert stream._model_info["model"] == "simulated-fast"


async def test_stream_can_be_awaited_then_iterated(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    stream = await client.generate_text("await me", streaming=True)
    text = "".join([str(c) async for c in stream])
    assert text.startswith(CHAT_TEXT.format(msg="await me", n=1))


async def test_async_callback_is_awaited(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    got: list[str] = []

    async def callback(chunk: StreamingChunk) -> None:
        got.append(chunk.chunk)

    stream = client.generate_text("cb", streaming=True, callback=callback)
    text = await stream.text()
    assert "".join(got) == text


async def test_system_prompt_and_history_reach_the_model(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    response = await client.generate_text(
        "third", system_prompt="Be terse", chat_history=[{"role": "user", "content": "first"},
                                                         {"role": "assistant", "content": "second"}]
    )
    assert 'I received your message: "third"' in response.content
    body = [r for r in server.requests if r.method == "POST"][-1].body
    assert body["messages"][0] == {"role": "system", "content": "Be terse"}
    assert [m["content"] for m in body["messages"][1:]] == ["first", "second", "third"]


async def test_generate_chat_response_leading_system_message(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    response = await client.generate_chat_response(
        [{"role": "system", "content": "You are Hermes"}, {"role": "user", "content": "ping"}]
    )
    assert 'I received your message: "ping"' in response.content
    body = [r for r in server.requests if r.method == "POST"][-1].body
    # Both generations take the system prompt as a leading system message; v1's simulated answer also echoes it.
    assert body["messages"][0] == {"role": "system", "content": "You are Hermes"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    if server.profile == "v1":
        assert 'The system prompt was: "You are Hermes"' in response.content


async def test_v1_wire_shape(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, model_id="simulated-advanced")
    response = await client.generate_text("shape", options={"temperature": 0.2, "max_tokens": 50})
    assert response.model == "simulated-advanced"
    body = [r for r in server.requests if r.path == "/api/v1/chat"][-1].body
    assert body["model"] == "simulated-advanced"
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert "options" not in body and "provider" not in body and "context_id" not in body


async def test_classic_wire_shape_nests_options(make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    client = make_client(server.url, provider_id="simulated", model_id="simulated-advanced", component_id="hermes")
    response = await client.generate_text("shape", options={"temperature": 0.2, "max_tokens": 50})
    assert response.model == "simulated-advanced"
    body = [r for r in server.requests if r.path == "/chat"][-1].body
    assert body["options"] == {"provider": "simulated", "model": "simulated-advanced",
                               "options": {"temperature": 0.2, "max_tokens": 50}}
    assert body["streaming"] is False
    assert body["component"] == "hermes"
    assert body["context_id"] == "hermes"


async def test_generate_batch_bounds_concurrency(make_server: Any, make_client: Any) -> None:
    server = make_server("v1", chunk_delay=0.0)
    server.faults.first_byte_delay = 0.05
    client = make_client(server.url, api="v1")
    results = await client.generate_batch([f"p{i}" for i in range(9)], concurrency=3)
    assert [r.index for r in results] == list(range(9))
    assert all(r.ok for r in results)
    assert 'I received your message: "p4"' in results[4].response.content  # type: ignore[union-attr]
    assert 1 <= server.max_concurrency("/api/v1/chat") <= 3


@pytest.mark.parametrize("bad", [[], [{"role": "system", "content": "only system"}]])
async def test_no_user_message_is_a_clear_error(server: Any, make_client: Any, bad: list[Any]) -> None:
    from tekton_llm_client import InvalidRequestError

    client = make_client(server.url)
    with pytest.raises(InvalidRequestError):
        await client.generate_chat_response(bad)
