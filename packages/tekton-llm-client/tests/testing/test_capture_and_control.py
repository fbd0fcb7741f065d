"""Request capture and the cross-process control API (``/_testing/*``)."""

from __future__ import annotations

import asyncio
import json

import httpx
from tekton_llm_client.testing import RhetorTestServer
from websockets.asyncio.client import connect


def test_requests_are_recorded_in_order_with_headers_query_and_body(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    httpx.get(base + "/health", params={"probe": "1"})
    httpx.post(base + "/api/v1/chat", json={"messages": []}, headers={"Authorization": "Bearer tok-123"})
    httpx.post(base + "/api/v1/chat", content=b"not json", headers={"content-type": "text/plain"})
    health, chat, raw = rhetor_server.requests
    assert (health.method, health.path, health.query, health.body) == ("GET", "/health", {"probe": "1"}, None)
    assert chat.body == {"messages": []} and chat.headers["authorization"] == "Bearer tok-123"
    assert "tok-123" not in repr(chat)
    assert raw.body == "not json"
    assert [r.seq for r in rhetor_server.requests] == sorted(r.seq for r in rhetor_server.requests)
    assert rhetor_server.attempts("/api/v1/chat") == 2 and rhetor_server.attempts("/nowhere") == 0


async def test_max_concurrency_counts_requests_served_at_once(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.first_byte_delay = 0.2
    async with httpx.AsyncClient() as client:
        requests = [client.post(rhetor_server.url + "/api/v1/chat", json={"messages": []}) for _ in range(3)]
        assert {r.status_code for r in await asyncio.gather(*requests)} == {200}
    assert rhetor_server.max_concurrency("/api/v1/chat") == 3
    httpx.get(rhetor_server.url + "/health")
    assert rhetor_server.max_concurrency("/health") == 1
    rhetor_server.reset()
    assert rhetor_server.max_concurrency("/api/v1/chat") == 0


async def test_ws_handshakes_and_frames_are_recorded(rhetor_server: RhetorTestServer, read_v1) -> None:
    for _ in range(2):
        async with connect(rhetor_server.ws_url, additional_headers={"Authorization": "Bearer t"}) as ws:
            await ws.send(json.dumps({"messages": [{"role": "user", "content": "x"}]}))
            await read_v1(ws)
    handshakes = [r for r in rhetor_server.requests if r.method == "WEBSOCKET"]
    assert len(handshakes) == 2 and handshakes[0].headers["authorization"] == "Bearer t"
    assert rhetor_server.attempts("/ws") == 2
    frames = rhetor_server.ws_frames
    assert [f.connection for f in frames] == [1, 2]
    assert frames[0].data == {"messages": [{"role": "user", "content": "x"}]} and frames[0].path == "/ws"
    assert handshakes[0].seq < frames[0].seq < handshakes[1].seq


def test_reset_clears_capture_state_and_faults_but_keeps_the_objects(rhetor_server: RhetorTestServer) -> None:
    faults = rhetor_server.faults
    faults.not_initialized = True
    httpx.post(rhetor_server.url + "/api/v1/context", json={"context_id": "c"})
    rhetor_server.reset()
    assert rhetor_server.faults is faults and faults.not_initialized is False and faults.chunk_delay == 0.0
    assert rhetor_server.requests == []
    assert httpx.get(rhetor_server.url + "/api/v1/context/c").status_code == 404


def test_control_api_reads_patches_and_resets_without_being_recorded(rhetor_server: RhetorTestServer) -> None:
    control = rhetor_server.url + "/_testing/"
    httpx.get(rhetor_server.url + "/health", headers={"x-probe": "yes"})
    recorded = httpx.get(control + "requests").json()
    assert [r["path"] for r in recorded["requests"]] == ["/health"] and recorded["ws_frames"] == []
    assert recorded["requests"][0]["headers"]["x-probe"] == "yes"
    patched = httpx.post(control + "faults", json={"fail_status": 503, "fail_times": 1, "fail_paths": ["/ready"]})
    assert patched.status_code == 200 and patched.json()["fail_paths"] == ["/ready"]
    assert rhetor_server.faults.fail_paths == {"/ready"}
    assert httpx.get(rhetor_server.url + "/ready").status_code == 503
    assert httpx.post(control + "faults", json={"reply": "fixed"}).json()["reply"] == "fixed"
    assert httpx.post(rhetor_server.url + "/api/v1/chat", json={"messages": []}).json()["content"] == "fixed"
    bad = httpx.post(control + "faults", json={"bogus": 1})
    assert (bad.status_code, bad.json()) == (400, {"detail": "unknown fault field: bogus"})
    assert httpx.post(control + "faults", json=[1]).status_code == 400
    assert httpx.post(control + "reset").json() == {"reset": True}
    assert rhetor_server.faults.reply is None and rhetor_server.requests == []
    rhetor_server.faults.not_initialized = True  # control routes are never faulted
    assert httpx.get(control + "faults").json()["not_initialized"] is True
    assert rhetor_server.requests == []
