"""v1 WebSocket ``/ws`` over a raw ``websockets`` client: frame sequences, error frames and the silent death."""

from __future__ import annotations

import asyncio
import json

import pytest
from tekton_llm_client.testing import RhetorTestServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

REQUEST = {"messages": [{"role": "user", "content": "Hello over WS"}], "context_id": "test:ws1"}


async def test_chunks_then_stream_complete(rhetor_server: RhetorTestServer, read_v1) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        frames = await read_v1(ws)
    assert frames[-1] == {"type": "stream_complete"}
    chunks = frames[:-1]
    assert "".join(c["content"] for c in chunks).startswith('I received your message: "Hello over WS". I see')
    assert [len(c["content"]) for c in chunks[:-1]] == [10] * (len(chunks) - 1)
    assert set(chunks[0]) == {"content", "done", "error", "context_id", "model", "provider", "timestamp"}
    assert all(c["done"] is False and c["context_id"] == "test:ws1" for c in chunks)


async def test_system_prompt_model_and_default_context(rhetor_server: RhetorTestServer, read_v1) -> None:
    request = {
        "messages": [{"role": "user", "content": "x"}],
        "system_prompt": "Be kind.",
        "model": "simulated-standard",
    }
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(request))
        chunks = (await read_v1(ws))[:-1]
    assert {c["model"] for c in chunks} == {"simulated-standard"}
    assert {c["context_id"] for c in chunks} == {"websocket-default"}
    assert len(chunks[0]["content"]) == 5
    assert "".join(c["content"] for c in chunks).endswith('\n\nThe system prompt was: "Be kind."')


async def test_error_frames_keep_the_socket_usable(rhetor_server: RhetorTestServer, ws_json, read_v1) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps({"messages": []}))
        assert await ws_json(ws) == {
            "error": "No messages provided. At least one message is required.",
            "type": "error",
        }
        await ws.send(json.dumps("hello"))
        assert await ws_json(ws) == {"error": "'str' object has no attribute 'get'", "type": "error"}
        await ws.send(json.dumps(REQUEST))
        assert (await read_v1(ws))[-1] == {"type": "stream_complete"}


async def test_non_json_frame_kills_the_read_loop_silently(rhetor_server: RhetorTestServer) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send("this is not json")
        await ws.send(json.dumps(REQUEST))
        await ws.send(json.dumps(REQUEST))  # a probe: the server reads a socket's frames one after another
        frames = await asyncio.to_thread(rhetor_server.recorder.wait_frames, 3)
        # Once it read the probe it was done with the first request: nothing was sent for it, or before it.
        assert rhetor_server.recorder.frames_sent(frames[0].connection) == 0
        await (await ws.ping())  # the socket is still open ...
        assert ws.close_code is None  # ... and no close frame came either
    assert [f.is_json for f in rhetor_server.ws_frames] == [False, True, True]


async def test_not_initialized_error_frame(rhetor_server: RhetorTestServer, ws_json, read_v1) -> None:
    rhetor_server.faults.not_initialized = True
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        assert await ws_json(ws) == {"error": "Rhetor not initialized", "type": "error"}
        rhetor_server.faults.not_initialized = False
        await ws.send(json.dumps(REQUEST))
        assert (await read_v1(ws))[-1] == {"type": "stream_complete"}


async def test_provider_unavailable_gives_one_empty_chunk(rhetor_server: RhetorTestServer, read_v1) -> None:
    rhetor_server.faults.provider_unavailable = True
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        frames = await read_v1(ws)
    assert len(frames) == 2 and frames[0]["content"] == "" and frames[1] == {"type": "stream_complete"}


async def test_provider_error_chunk_after_k_chunks(rhetor_server: RhetorTestServer, read_v1) -> None:
    rhetor_server.faults.error_after_chunks = 2
    rhetor_server.faults.error_message = "boom"
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        frames = await read_v1(ws)
    assert [f.get("content") for f in frames[:2]] == ["I received", " your mess"]
    error = frames[2]
    assert (error["error"], error["context"], error["done"]) == ("boom", "test:ws1", True)
    assert "context_id" not in error and frames[3] == {"type": "stream_complete"}


async def test_error_in_200_is_an_immediate_provider_error_chunk(rhetor_server: RhetorTestServer, read_v1) -> None:
    rhetor_server.faults.error_in_200 = True
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        frames = await read_v1(ws)
    assert frames[0]["error"] == "Anthropic Claude is not available." and frames[1] == {"type": "stream_complete"}


async def test_close_after_k_chunks_drops_without_terminator(rhetor_server: RhetorTestServer, ws_json) -> None:
    rhetor_server.faults.close_after_chunks = 3
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        received = [await ws_json(ws) for _ in range(3)]
        with pytest.raises(ConnectionClosed) as closed:
            await ws_json(ws)
    assert all("content" in f for f in received)
    assert closed.value.rcvd is None  # cut: no close frame from the server


async def test_malformed_frame_then_the_stream_continues(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.malformed_after_chunks = 1
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        first, bad, third = [await ws.recv() for _ in range(3)]
        while json.loads(await ws.recv()) != {"type": "stream_complete"}:
            pass  # read everything, or the client's full queue stalls its closing handshake
    assert json.loads(first)["content"] == "I received"
    with pytest.raises(ValueError):
        json.loads(bad)
    assert json.loads(third)["content"] == " your mess"


async def test_requests_on_one_socket_are_answered_in_turn(rhetor_server: RhetorTestServer, read_v1) -> None:
    rhetor_server.faults.chunk_delay = 0.005
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps({"messages": [{"role": "user", "content": "one"}], "context_id": "a"}))
        await ws.send(json.dumps({"messages": [{"role": "user", "content": "two"}], "context_id": "b"}))
        first, second = await read_v1(ws), await read_v1(ws)
    assert {f.get("context_id") for f in first[:-1]} == {"a"}
    assert {f.get("context_id") for f in second[:-1]} == {"b"}


async def test_stall_pauses_data_then_resumes(rhetor_server: RhetorTestServer, ws_json, read_v1) -> None:
    rhetor_server.faults.stall_after_chunks = 1
    rhetor_server.faults.stall_seconds = 1.0
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        assert (await ws_json(ws))["content"] == "I received"
        await (await ws.ping())  # the connection answers during the stall (a loopback round trip, not 1 s) ...
        connection = rhetor_server.ws_frames[0].connection
        assert rhetor_server.recorder.frames_sent(connection) == 1  # ... while the data after chunk 1 waits
        rest = await read_v1(ws)
    assert rest[0]["content"] == " your mess" and rest[-1] == {"type": "stream_complete"}


async def test_reply_fault_replaces_the_text_with_a_callable(rhetor_server: RhetorTestServer, read_v1) -> None:
    rhetor_server.faults.reply = lambda request: "echo:" + request["messages"][-1]["content"]
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(REQUEST))
        frames = await read_v1(ws)
    assert "".join(f.get("content", "") for f in frames) == "echo:Hello over WS"
