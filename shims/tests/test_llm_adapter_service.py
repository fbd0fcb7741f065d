"""The LLM Adapter compatibility service end to end: legacy HTTP and WS protocol in, Rhetor test server behind."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer, closed_port, listen, serve_asgi
from tekton_llm_shims.llm_adapter_service import create_app
from websockets.asyncio.client import ClientConnection, connect


async def serve(rhetor_url: str) -> AsyncIterator[str]:
    """Run the service app with uvicorn on 127.0.0.1, port 0, inside the test's event loop."""
    with listen("127.0.0.1", 0) as sock:
        async with serve_asgi(create_app(rhetor_url), sock) as url:
            yield url


@pytest.fixture
async def service(rhetor: RhetorTestServer) -> AsyncIterator[str]:
    async for url in serve(rhetor.url):
        yield url


@pytest.fixture
async def service_without_rhetor() -> AsyncIterator[str]:
    async for url in serve(f"http://127.0.0.1:{closed_port()}"):
        yield url


async def receive(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=30))  # guards against a hang only


def sse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.strip().split("\n")
        if lines == [""]:
            continue
        assert lines[0] == "event: message", block
        assert lines[1].startswith("data: "), block
        events.append(json.loads(lines[1][len("data: "):]))
    return events


# -- HTTP -------------------------------------------------------------------------------------------------------


async def test_root_and_health(service: str, rhetor: RhetorTestServer) -> None:
    async with httpx.AsyncClient(base_url=service) as http:
        root = (await http.get("/")).json()
        health = (await http.get("/health")).json()

    assert root == {
        "name": "Tekton LLM Adapter",
        "version": "0.1.0",
        "status": "running",
        "endpoints": ["/message", "/stream", "/health"],
        "claude_available": False,
    }
    assert (health["status"], health["version"], health["claude_available"]) == ("healthy", "0.1.0", False)
    assert "simulated" in health["providers"] and isinstance(health["providers"], list)
    assert health["rhetor"] == {"url": rhetor.url, "status": "healthy", "dialect": rhetor.profile}


async def test_providers_and_provider_selection(service: str, rhetor: RhetorTestServer, wire: Any) -> None:
    async with httpx.AsyncClient(base_url=service) as http:
        before = (await http.get("/providers")).json()
        selected = await http.post("/provider", json={"provider_id": "simulated", "model_id": "simulated-advanced"})
        after = (await http.get("/providers")).json()
        answer = (await http.post("/message", json={"message": "hi"})).json()
        invalid = await http.post("/provider", json={"provider_id": "simulated"})

    if rhetor.profile == "classic":
        raw = httpx.get(rhetor.url + "/providers").json()
        assert before == {
            "providers": raw["providers"],
            "current_provider": raw["default_provider"],
            "current_model": raw["default_model"],
        }
    else:
        assert before["providers"]["simulated"]["models"][0] == {"id": "simulated-fast", "name": "Fast Simulation"}
    assert selected.json() == {"success": True, "provider": "simulated", "model": "simulated-advanced"}
    assert (after["current_provider"], after["current_model"]) == ("simulated", "simulated-advanced")
    assert "As the advanced simulation model" in answer["message"]
    wire.check(model="simulated-advanced", provider="simulated")
    assert invalid.status_code == 422


async def test_message(service: str, wire: Any) -> None:
    async with httpx.AsyncClient(base_url=service) as http:
        response = await http.post(
            "/message",
            json={"message": "explain ls", "context_id": "terma", "streaming": False,
                  "options": {"model": "simulated-fast", "temperature": 0.2, "max_tokens": 50}},
        )
        missing = await http.post("/message", json={"context_id": "terma"})

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"message", "context", "model", "finished", "timestamp"}
    assert 'I received your message: "explain ls"' in body["message"]
    assert (body["context"], body["model"], body["finished"]) == ("terma", "simulated-fast", True)
    wire.check(
        messages=[{"role": "user", "content": "explain ls"}],
        model="simulated-fast",
        temperature=0.2,
        max_tokens=50,
        context_id="terma",
        stream=False,
    )
    assert missing.status_code == 422


async def test_message_defaults(service: str, wire: Any) -> None:
    async with httpx.AsyncClient(base_url=service) as http:
        body = (await http.post("/message", json={"message": "hi"})).json()

    assert body["context"] == "ergon"
    wire.check(temperature=0.7, max_tokens=4000, context_id="ergon")


async def test_message_provider_error_is_a_200_error_body(service: str, rhetor: RhetorTestServer) -> None:
    rhetor.faults.error_in_200 = True
    async with httpx.AsyncClient(base_url=service) as http:
        response = await http.post("/message", json={"message": "hi", "context_id": "c1"})

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"error", "context", "timestamp"}
    assert (body["error"], body["context"]) == ("Anthropic Claude is not available.", "c1")


async def test_stream_serves_sse(service: str, wire: Any) -> None:
    async with httpx.AsyncClient(base_url=service) as http:
        response = await http.post("/stream", json={"message": "stream it", "context_id": "agora"})

    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert len(events) > 2
    assert events[-1]["done"] is True and events[-1]["chunk"] == ""
    assert all(e["done"] is False and e["chunk"] and e["context"] == "agora" for e in events[:-1])
    assert 'I received your message: "stream it"' in "".join(e["chunk"] for e in events)
    wire.check(stream=True, context_id="agora")


async def test_stream_error_event(service: str, rhetor: RhetorTestServer) -> None:
    rhetor.faults.error_after_chunks = 1
    async with httpx.AsyncClient(base_url=service) as http:
        response = await http.post("/stream", json={"message": "x"})

    events = sse_events(response.text)
    assert len(events) == 2 and events[0]["chunk"]
    assert (events[1]["done"], events[1]["error"]) == (True, "Anthropic Claude is not available.")


# -- WebSocket envelope -----------------------------------------------------------------------------------------


async def test_ws_register_status_and_silence(service: str) -> None:
    async with connect(service.replace("http://", "ws://") + "/any/path") as ws:
        await ws.send("not json")
        await ws.send(json.dumps({"type": "GENERATE", "source": "X", "payload": {}}))
        await ws.send(json.dumps({"type": "LLM_REQUEST", "source": "X", "payload": {"message": ""}}))
        await ws.send(json.dumps({"type": "REGISTER", "source": "TERMA", "payload": {"client_id": "terma_1"}}))
        registered = await receive(ws)
        await ws.send(json.dumps({"type": "STATUS"}))
        status = await receive(ws)

    assert {k: registered[k] for k in ("type", "source", "target", "payload")} == {
        "type": "RESPONSE",
        "source": "SYSTEM",
        "target": "TERMA",
        "payload": {"status": "registered", "message": "Client registered successfully with LLM Adapter"},
    }
    assert status["target"] == "UI" and status["payload"] == {
        "status": "ok",
        "service": "llm_adapter",
        "version": "0.1.0",
        "claude_available": False,
        "message": "LLM Adapter is running",
    }


async def test_ws_binary_frames_are_read_like_text_ones(service: str) -> None:
    """The original service (websockets) read binary frames too; a frame that is not UTF-8 goes unanswered."""
    async with connect(service.replace("http://", "ws://")) as ws:
        await ws.send(json.dumps({"type": "REGISTER", "source": "TERMA", "payload": {}}).encode())
        await ws.send(b"\xff\xfe not utf-8")
        await ws.send(json.dumps({"type": "STATUS", "source": "TERMA"}).encode())
        registered, status = await receive(ws), await receive(ws)
    assert registered["payload"]["status"] == "registered" and status["payload"]["status"] == "ok"


async def test_ws_llm_request_streaming_and_not(service: str, wire: Any) -> None:
    async with connect(service.replace("http://", "ws://")) as ws:
        await ws.send(json.dumps({"type": "LLM_REQUEST", "source": "TERMA",
                                  "payload": {"message": "stream", "context": "terma"}}))
        streamed = [await receive(ws)]
        while streamed[-1]["payload"] != {"status": "typing", "isTyping": False}:
            streamed.append(await receive(ws))
        await ws.send(json.dumps({"type": "LLM_REQUEST", "source": "TERMA",
                                  "payload": {"message": "whole", "context": "terma", "streaming": False}}))
        whole = [await receive(ws) for _ in range(3)]

    assert streamed[0]["payload"] == {"status": "typing", "isTyping": True} and streamed[0]["source"] == "SYSTEM"
    chunks = streamed[1:-2]
    assert len(chunks) > 1 and all(f["type"] == "UPDATE" and f["source"] == "terma" for f in chunks)
    assert 'I received your message: "stream"' in "".join(f["payload"]["chunk"] for f in chunks)
    assert streamed[-2]["payload"] == {"done": True}
    assert [f["type"] for f in whole] == ["UPDATE", "RESPONSE", "UPDATE"]
    assert 'I received your message: "whole"' in whole[1]["payload"]["message"]
    assert whole[1]["payload"]["finished"] is True and whole[1]["target"] == "TERMA"
    assert [r["stream"] for r in wire.sent()] == [True, False]


# -- Rhetor unavailable -----------------------------------------------------------------------------------------


async def test_everything_answers_when_rhetor_is_down(service_without_rhetor: str) -> None:
    async with httpx.AsyncClient(base_url=service_without_rhetor) as http:
        health = (await http.get("/health")).json()
        providers = (await http.get("/providers")).json()
        message = (await http.post("/message", json={"message": "hi"})).json()
        stream = sse_events((await http.post("/stream", json={"message": "hi"})).text)
    async with connect(service_without_rhetor.replace("http://", "ws://")) as ws:
        await ws.send(json.dumps({"type": "LLM_REQUEST", "source": "T", "payload": {"message": "hi"}}))
        frames = [await receive(ws) for _ in range(3)]

    assert health["status"] == "degraded" and health["rhetor"]["status"] == "unreachable"
    assert health["providers"] == ["anthropic", "simulated"]
    assert providers["current_provider"] == "simulated" and set(providers["providers"]) == {"anthropic", "simulated"}
    assert set(message) == {"error", "context", "timestamp"} and message["context"] == "ergon"
    assert len(stream) == 1 and stream[0]["done"] is True and stream[0]["error"]
    assert [f["type"] for f in frames] == ["UPDATE", "ERROR", "UPDATE"] and frames[1]["payload"]["error"]


async def test_health_never_shows_rhetor_url_credentials(rhetor: RhetorTestServer) -> None:
    async for url in serve(rhetor.url.replace("http://", "http://svc:s3cret@")):
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/health")

    assert response.json()["rhetor"]["url"] == rhetor.url
    assert "s3cret" not in response.text


# -- the command line -------------------------------------------------------------------------------------------


@pytest.mark.rhetor_server(profile="classic")
def test_command_line_serves_http_and_legacy_ws_port(rhetor_server: RhetorTestServer) -> None:
    rhetor = rhetor_server
    with_credentials = rhetor.url.replace("http://", "http://svc:s3cret@")
    process = subprocess.Popen(
        [sys.executable, "-m", "tekton_llm_shims.llm_adapter_service", "--host", "127.0.0.1", "--port", "0",
         "--ws-port", "0", "--rhetor-url", with_credentials, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        info = json.loads(line)
        assert info["rhetor_url"] == rhetor.url and "s3cret" not in line  # stdout is a log: no credentials
        assert info["url"] != info["ws_url"].replace("ws://", "http://")

        answer = httpx.post(info["url"] + "/message", json={"message": "from the CLI"}).json()

        async def over_ws() -> Any:
            async with connect(info["ws_url"]) as ws:
                await ws.send(json.dumps({"type": "REGISTER", "source": "TERMA", "payload": {}}))
                return await receive(ws)

        registered = asyncio.run(over_ws())
    finally:
        process.terminate()
        returncode = process.wait(timeout=30)

    assert 'I received your message: "from the CLI"' in answer["message"]
    assert registered["payload"]["status"] == "registered"
    assert returncode == 0  # SIGTERM is a request to stop, not a crash


def test_the_service_needs_nothing_from_the_clients_testing_package() -> None:
    """A production service: its protocol and sockets come from the client proper, no test double comes along."""
    code = (
        "import sys, tekton_llm_shims.llm_adapter_service.server, tekton_llm_shims.llm_adapter_service.app\n"
        "print(sorted(m for m in sys.modules if m.startswith('tekton_llm_client.testing')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_the_testing_package_re_exports_the_socket_helpers() -> None:
    """Tests import the socket helpers from ``tekton_llm_client.testing``: the very objects the service uses."""
    from tekton_llm_client import _sockets, testing

    assert (testing.listen, testing.closed_port) == (_sockets.listen, _sockets.closed_port)
    assert listen is _sockets.listen
