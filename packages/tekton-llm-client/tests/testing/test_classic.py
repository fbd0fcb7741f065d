"""Classic profile (HTTP and typed-envelope WebSocket) over raw httpx / websockets clients."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.rhetor_server(profile="classic")

MESSAGE_TEXT = (
    'I received your message: "Hello classic". This is a simulated response as no real LLM is available. Please '
    "configure Rhetor with valid API keys for Anthropic, OpenAI, or ensure Ollama is running for local LLM access."
    "\n\nAs the fast simulation model, I would typically provide quicker but potentially less detailed responses."
)
SHIPPED = "'PromptEngine' object has no attribute 'get_system_prompt'"


def test_health_providers_and_set_provider(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    assert httpx.get(base + "/health").json() == {
        "status": "healthy",
        "version": "0.1.0",
        "providers": {"anthropic": False, "openai": False, "ollama": False, "simulated": True},
    }
    providers = httpx.get(base + "/providers").json()
    assert providers["default_provider"] == "simulated"
    assert set(providers["providers"]["simulated"]) == {"name", "available", "models"}
    assert httpx.post(base + "/provider", json={"provider_id": "simulated", "model_id": "simulated-fast"}).json() == {
        "success": True,
        "provider": "simulated",
        "model": "simulated-fast",
    }
    assert httpx.get(base + "/providers").json()["default_model"] == "simulated-fast"
    bad_model = httpx.post(base + "/provider", json={"provider_id": "simulated", "model_id": "nope"})
    assert (bad_model.status_code, bad_model.json()["detail"]) == (
        400,
        "Model nope not available from provider simulated",
    )
    bad_provider = httpx.post(base + "/provider", json={"providerId": "nope", "modelId": "x"})
    assert bad_provider.json() == {"detail": "Provider nope not found"}
    assert httpx.post(base + "/api/v1/chat", json={}).status_code == 404
    assert httpx.get(base + "/api/v1/discovery").status_code == 404


def test_message_answer_and_nested_options(rhetor_server: RhetorTestServer) -> None:
    data = httpx.post(rhetor_server.url + "/message", json={"message": "Hello classic", "context_id": "demo:c1"}).json()
    assert data.pop("timestamp")
    assert data == {
        "message": MESSAGE_TEXT,
        "model": "simulated-fast",
        "provider": "simulated",
        "finished": True,
        "simulated": True,
        "context": "demo:c1",
    }
    advanced = httpx.post(
        rhetor_server.url + "/message",
        json={"message": "m", "options": {"model": "simulated-advanced", "options": {"temperature": 0.2}}},
    ).json()
    assert advanced["model"] == "simulated-advanced" and advanced["context"] == "default"
    assert httpx.post(rhetor_server.url + "/message", json={}).status_code == 422


def test_chat_json_and_error_in_200(rhetor_server: RhetorTestServer) -> None:
    body = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "context_id": "x:1"}
    data = httpx.post(rhetor_server.url + "/chat", json=body).json()
    assert data["message"].startswith('I received your message: "b". I see a conversation with 2 messages.')
    rhetor_server.faults.error_in_200 = True
    failed = httpx.post(rhetor_server.url + "/chat", json=body)
    assert failed.status_code == 200
    assert set(failed.json()) == {"error", "timestamp", "context"}
    assert failed.json()["error"] == "Anthropic Claude is not available."
    message = httpx.post(rhetor_server.url + "/message", json={"message": "m"}).json()
    assert message["context"] == "default" and "error" in message


def test_stream_names_every_event_and_ends_with_done(rhetor_server: RhetorTestServer, sse_blocks) -> None:
    with httpx.stream(
        "POST", rhetor_server.url + "/stream", json={"message": "Hello classic", "context_id": "d:s1"}
    ) as r:
        raw = r.read()
    blocks = sse_blocks(raw)
    assert all(lines[0] == "event: message" and lines[1].startswith("data: ") for lines in blocks)
    chunks = [json.loads(lines[1][6:]) for lines in blocks]
    assert chunks[-1]["done"] is True and chunks[-1]["chunk"] == ""
    assert "".join(c["chunk"] for c in chunks) == MESSAGE_TEXT
    assert all(c["context"] == "d:s1" and "context_id" not in c for c in chunks)
    assert b"[DONE]" not in raw


def test_chat_streaming_and_error_chunk(rhetor_server: RhetorTestServer, sse) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "streaming": True}
    rhetor_server.faults.error_after_chunks = 1
    events = sse(httpx.post(rhetor_server.url + "/chat", json=body).content)
    assert events[0]["chunk"] == "I received"
    assert set(events[1]) == {"error", "context", "timestamp", "done"} and events[1]["done"] is True
    assert len(events) == 2


def test_stream_abort_after_k_chunks(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.close_after_chunks = 2
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", rhetor_server.url + "/stream", json={"message": "m"}) as response:
            assert response.status_code == 200
            for part in response.iter_raw():
                received += part
    assert received.count(b"event: message") == 2 and b'"done": true' not in received


def test_contexts_record_exchanges_and_quirks(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    httpx.post(base + "/message", json={"message": "Hello classic", "context_id": "demo:c1"})
    read = httpx.get(base + "/contexts/demo:c1").json()
    assert read["count"] == 2 and [m["role"] for m in read["messages"]] == ["user", "assistant"]
    assert "metadata" not in read["messages"][0]
    meta = httpx.get(base + "/contexts/demo:c1", params={"include_metadata": "true"}).json()
    assert meta["messages"][1]["metadata"]["model"] == "simulated-fast"
    assert httpx.get(base + "/contexts/fresh").json() == {"context_id": "fresh", "count": 0, "messages": []}
    listed = httpx.get(base + "/contexts").json()
    assert {c["id"] for c in listed["contexts"]} == {"demo:c1", "fresh"}
    found = httpx.post(base + "/contexts/demo:c1/search", params={"query": "CONFIGURE"}).json()
    assert found["count"] == 1 and found["results"][0]["role"] == "assistant"
    assert httpx.delete(base + "/contexts/unknown").json() == {"success": True, "context_id": "unknown"}


def test_budget_routes(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    assert set(httpx.get(base + "/budget").json()) == {"daily", "weekly", "monthly"}
    limit = httpx.post(base + "/budget/limit", json={"period": "daily", "limit_amount": 5.0})
    assert limit.json() == {
        "success": True,
        "period": "daily",
        "limit_amount": 5.0,
        "provider": "all",
        "enforcement": "warn",
    }
    bad = httpx.get(base + "/budget/usage", params={"period": "yearly"})
    assert (bad.status_code, bad.json()) == (
        400,
        {"detail": "Invalid period: yearly. Must be one of: daily, weekly, monthly"},
    )
    assert httpx.get(base + "/budget/usage").json() == {"period": "daily", "provider": None, "count": 0, "usage": []}
    assert httpx.get(base + "/templates").status_code == 500


@pytest.mark.rhetor_server(profile="classic-as-shipped")
def test_as_shipped_http(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    for path, body in (
        ("/message", {"message": "m"}),
        ("/chat", {"messages": [{"role": "user", "content": "m"}]}),
        ("/stream", {"message": "m"}),
    ):
        response = httpx.post(base + path, json=body)
        assert (response.status_code, response.json()) == (500, {"detail": SHIPPED})
    root = httpx.get(base + "/")
    assert (root.status_code, root.text) == (500, "Internal Server Error")
    assert httpx.get(base + "/health").status_code == 200


# --- WebSocket -------------------------------------------------------------------------------------------------


def _frame(kind: str, payload: dict[str, object], source: str = "demo") -> str:
    return json.dumps({"type": kind, "source": source, "target": "rhetor", "timestamp": "t", "payload": payload})


async def test_ws_register_status_and_unsupported_type(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps({"type": "REGISTER", "payload": {}}))
        registered = await ws_json(ws)
        assert (registered["type"], registered["source"], registered["target"]) == ("RESPONSE", "SYSTEM", "UNKNOWN")
        assert registered["payload"]["status"] == "registered"
        await ws.send(_frame("GENERATE", {}))
        assert await ws_json(ws) == {"type": "ERROR", "payload": {"error": "Unsupported request type: GENERATE"}}
        await ws.send(_frame("STATUS", {}))
        status = await ws_json(ws)
        assert status["target"] == "demo" and status["payload"]["service"] == "rhetor"


async def test_ws_streaming_chat_sequence(rhetor_server: RhetorTestServer, read_classic) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(_frame("CHAT_REQUEST", {"messages": [{"role": "user", "content": "hi"}], "context": "demo:ws"}))
        frames = await read_classic(ws)
    payloads = [f["payload"] for f in frames]
    assert payloads[0] == {"status": "typing", "isTyping": True, "context": "demo:ws"}
    assert payloads[-1] == {"status": "typing", "isTyping": False, "context": "demo:ws"}
    done = payloads[-2]
    assert (done["chunk"], done["done"]) == ("", True)
    text = "".join(p["chunk"] for p in payloads[1:-2])
    assert text.startswith('I received your message: "hi". I see a conversation with 1 messages.')
    assert {(f["type"], f["source"], f["target"]) for f in frames} == {("UPDATE", "LLM", "demo")}


async def test_ws_non_streaming_request_and_provider_error(rhetor_server: RhetorTestServer, read_classic) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(_frame("LLM_REQUEST", {"message": "Hello classic", "streaming": False}))
        frames = await read_classic(ws)
        assert [f["type"] for f in frames] == ["UPDATE", "RESPONSE", "UPDATE"]
        assert frames[1]["payload"]["message"] == MESSAGE_TEXT and frames[1]["payload"]["context"] == "default"
        rhetor_server.faults.provider_unavailable = True
        await ws.send(_frame("LLM_REQUEST", {"message": "m"}))
        failed = await read_classic(ws)
    assert failed[1]["payload"]["error"] == "Anthropic Claude is not available." and failed[1]["payload"]["done"]
    assert failed[2]["payload"]["isTyping"] is False


async def test_ws_non_json_frame_gives_error_then_dead_socket(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send("not json")
        error = await ws_json(ws)
        assert error["type"] == "ERROR" and set(error) == {"type", "payload"}
        await ws.send(_frame("STATUS", {}))
        await ws.send(_frame("STATUS", {}))  # a probe: the server reads a socket's frames one after another
        frames = await asyncio.to_thread(rhetor_server.recorder.wait_frames, 3)
        # Once it read the probe it was done with the first STATUS, and nothing went out after the ERROR frame.
        assert rhetor_server.recorder.frames_sent(frames[0].connection) == 1


async def test_ws_not_initialized_sends_error_and_closes(rhetor_server: RhetorTestServer, ws_json) -> None:
    rhetor_server.faults.not_initialized = True
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(_frame("STATUS", {}))
        assert await ws_json(ws) == {"type": "ERROR", "payload": {"error": "Rhetor components not initialized"}}
        with pytest.raises(ConnectionClosed):
            await ws_json(ws)
        assert ws.close_code == 1000


@pytest.mark.rhetor_server(profile="classic-as-shipped")
async def test_ws_as_shipped_llm_request_kills_socket(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(_frame("LLM_REQUEST", {"message": "m"}))
        assert await ws_json(ws) == {"type": "ERROR", "payload": {"error": SHIPPED}}
        await ws.send(_frame("REGISTER", {}))
        await ws.send(_frame("REGISTER", {}))  # a probe, read only once the server is done with the first
        frames = await asyncio.to_thread(rhetor_server.recorder.wait_frames, 3)
        assert rhetor_server.recorder.frames_sent(frames[0].connection) == 1  # the ERROR, nothing since
