"""The legacy LLM Adapter profile (two ports) and the fake Ollama."""

from __future__ import annotations

import json

import httpx
import pytest
from tekton_llm_client.testing import OllamaTestServer, RhetorTestServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

adapter = pytest.mark.rhetor_server(profile="adapter")


@adapter
def test_adapter_http(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    assert (
        rhetor_server.ws_url == f"ws://127.0.0.1:{rhetor_server.ws_port}"
        and rhetor_server.ws_port != rhetor_server.port
    )
    health = httpx.get(base + "/health").json()
    assert health["providers"] == ["anthropic", "simulated"] and health["claude_available"] is False
    assert httpx.get(base + "/").json()["name"] == "Tekton LLM Adapter"
    assert httpx.get(base + "/providers").json()["current_provider"] == "simulated"
    answer = httpx.post(base + "/message", json={"message": "hi", "context_id": "terma"}).json()
    assert answer["message"] == (
        'I received your message: "hi". This is a simulated response as I\'m not connected to an LLM. To use a real '
        "LLM, you should configure the adapter with a valid ANTHROPIC_API_KEY."
    )
    assert (answer["context"], answer["model"], answer["finished"]) == ("terma", "simulated", True)
    assert httpx.post(base + "/message", json={"message": "hi"}).json()["context"] == "ergon"
    assert httpx.post(base + "/message", json={}).status_code == 422
    assert httpx.post(base + "/chat", json={"messages": []}).status_code == 404
    broken = httpx.post(base + "/stream", json={"message": "hi"})
    assert (broken.status_code, broken.content) == (200, b"")
    rhetor_server.faults.error_in_200 = True
    failed = httpx.post(base + "/message", json={"message": "hi"})
    assert failed.status_code == 200 and set(failed.json()) == {"error", "context", "timestamp"}


@adapter
async def test_adapter_ws_streams_five_character_chunks(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps({"type": "REGISTER", "source": "terma", "payload": {"client_id": "t"}}))
        registered = await ws_json(ws)
        assert registered["payload"]["message"] == "Client registered successfully with LLM Adapter"
        await ws.send(
            json.dumps({"type": "LLM_REQUEST", "source": "terma", "payload": {"message": "hi", "context": "terma"}})
        )
        frames = [await ws_json(ws)]
        while frames[-1]["payload"].get("isTyping") is not False:
            frames.append(await ws_json(ws))
    assert frames[0]["payload"] == {"status": "typing", "isTyping": True} and frames[0]["source"] == "SYSTEM"
    chunks = [f["payload"]["chunk"] for f in frames if "chunk" in f["payload"]]
    assert all(len(c) == 5 for c in chunks[:-1]) and "".join(chunks).startswith('I received your message: "hi".')
    assert frames[-2]["payload"] == {"done": True} and frames[-2]["source"] == "terma"


@adapter
async def test_adapter_ws_is_silent_on_what_it_does_not_understand(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        for frame in ("not json", json.dumps({"type": "GENERATE"}), json.dumps({"type": "LLM_REQUEST", "payload": {}})):
            await ws.send(frame)
        # Frames are answered in order, so the first reply after the STATUS probe proves the three got none.
        await ws.send(json.dumps({"type": "STATUS", "source": "x"}))
        assert (await ws_json(ws))["payload"]["service"] == "llm_adapter"
    assert [r.method for r in rhetor_server.requests] == ["WEBSOCKET"]
    assert [f.is_json for f in rhetor_server.ws_frames] == [False, True, True, True]


@adapter
async def test_adapter_ws_reads_binary_frames_like_text_ones(rhetor_server: RhetorTestServer, ws_json) -> None:
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps({"type": "REGISTER", "source": "TERMA", "payload": {}}).encode())
        await ws.send(b"\xff\xfe not utf-8")
        await ws.send(json.dumps({"type": "STATUS", "source": "TERMA"}).encode())
        assert (await ws_json(ws))["payload"]["status"] == "registered"
        assert (await ws_json(ws))["payload"]["status"] == "ok"  # the undecodable frame went unanswered


@adapter
async def test_adapter_ws_non_streaming_error_and_drop(rhetor_server: RhetorTestServer, ws_json) -> None:
    request = {"type": "LLM_REQUEST", "source": "terma", "payload": {"message": "hi", "streaming": False}}
    async with connect(rhetor_server.ws_url) as ws:
        await ws.send(json.dumps(request))
        kinds = [(await ws_json(ws))["type"] for _ in range(3)]
        assert kinds == ["UPDATE", "RESPONSE", "UPDATE"]
        rhetor_server.faults.error_in_200 = True
        await ws.send(json.dumps(request))
        frames = [await ws_json(ws) for _ in range(3)]
        assert frames[1] == {**frames[1], "type": "ERROR", "payload": {"error": "Anthropic Claude is not available."}}
        rhetor_server.faults.error_in_200 = False
        rhetor_server.faults.close_after_chunks = 1
        await ws.send(json.dumps({**request, "payload": {"message": "hi"}}))
        assert (await ws_json(ws))["payload"]["isTyping"] is True
        assert (await ws_json(ws))["payload"]["chunk"] == "I rec"
        with pytest.raises(ConnectionClosed):
            await ws_json(ws)


def test_ollama_routes_and_streaming(ollama_server: OllamaTestServer) -> None:
    base = ollama_server.url
    assert httpx.get(base + "/api/version").json()["version"]
    assert [m["name"] for m in httpx.get(base + "/api/tags").json()["models"]] == ["llama3:latest"]
    body = {"model": "llama3", "messages": [{"role": "user", "content": "Hello local model"}]}
    with httpx.stream("POST", base + "/api/chat", json=body) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert all(set(line) >= {"model", "created_at", "message", "done"} for line in lines)
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True]
    assert "".join(line["message"]["content"] for line in lines) == 'Ollama received: "Hello local model"'
    final = lines[-1]
    assert final["done_reason"] == "stop" and final["eval_count"] == 5 and final["prompt_eval_count"] == 3
    single = httpx.post(base + "/api/chat", json={**body, "stream": False}).json()
    assert single["message"] == {"role": "assistant", "content": 'Ollama received: "Hello local model"'}
    assert single["done"] is True
    assert httpx.post(base + "/api/chat", json={"messages": []}).status_code == 400
    assert ollama_server.attempts("/api/chat") == 3
    assert [r.body for r in ollama_server.requests if r.path == "/api/chat"][1] == {**body, "stream": False}


@pytest.mark.ollama_server(models=("mistral:7b", "llama3:latest"))
def test_ollama_fail_status_uses_ollama_error_shape(ollama_server: OllamaTestServer) -> None:
    assert [m["name"] for m in httpx.get(ollama_server.url + "/api/tags").json()["models"]] == [
        "mistral:7b",
        "llama3:latest",
    ]
    ollama_server.faults.fail_status = 500
    body = {"model": "mistral:7b", "messages": [{"role": "user", "content": "x"}], "stream": False}
    failed = httpx.post(ollama_server.url + "/api/chat", json=body)
    assert (failed.status_code, failed.json()) == (500, {"error": "Internal Server Error"})
    assert httpx.post(ollama_server.url + "/api/chat", json=body).status_code == 200
