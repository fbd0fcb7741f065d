"""Fault switches over HTTP: injected statuses, text 500s, "not initialized", and the stream faults on SSE."""

from __future__ import annotations

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer

HELLO = {"messages": [{"role": "user", "content": "Hello Rhetor"}]}


def test_fail_status_n_times_then_success_with_retry_after(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.fail_status = 503
    rhetor_server.faults.fail_times = 2
    rhetor_server.faults.retry_after = "1"
    url = rhetor_server.url + "/api/v1/chat"
    first, second, third = (httpx.post(url, json=HELLO) for _ in range(3))
    for failed in (first, second):
        assert (failed.status_code, failed.json()) == (503, {"detail": "Service Unavailable"})
        assert failed.headers["retry-after"] == "1"
    assert third.status_code == 200 and "retry-after" not in third.headers
    assert rhetor_server.attempts("/api/v1/chat") == 3


def test_fail_status_only_hits_generation_routes_unless_paths_given(rhetor_server: RhetorTestServer) -> None:
    faults = rhetor_server.faults
    faults.fail_status, faults.fail_times, faults.retry_after = 429, -1, "Wed, 21 Oct 2015 07:28:00 GMT"
    faults.fail_detail = "Rate limit exceeded"
    assert httpx.get(rhetor_server.url + "/health").status_code == 200
    stream = httpx.post(rhetor_server.url + "/api/v1/chat/stream", json=HELLO)
    assert (stream.status_code, stream.json()) == (429, {"detail": "Rate limit exceeded"})
    assert stream.headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    faults.fail_paths = {"/health"}
    assert httpx.get(rhetor_server.url + "/health").status_code == 429
    assert httpx.post(rhetor_server.url + "/api/v1/chat", json=HELLO).status_code == 200


def test_text_500_on_chosen_paths(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.text_500_paths = {"/health"}
    response = httpx.get(rhetor_server.url + "/health")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert httpx.get(rhetor_server.url + "/ready").status_code == 200


def test_not_initialized_v1(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.not_initialized = True
    base = rhetor_server.url
    for method, path in (("POST", "/api/v1/chat"), ("POST", "/api/v1/chat/stream"), ("GET", "/api/v1/models")):
        response = httpx.request(method, base + path, json=HELLO if method == "POST" else None)
        assert (response.status_code, response.json()) == (503, {"detail": "Rhetor not initialized"})
    assert httpx.get(base + "/api/v1/discovery").status_code == 200
    assert httpx.get(base + "/health").json()["status"] == "degraded"


@pytest.mark.rhetor_server(profile="classic")
def test_not_initialized_classic(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.not_initialized = True
    message = httpx.post(rhetor_server.url + "/message", json={"message": "m"})
    assert (message.status_code, message.json()) == (503, {"detail": "Rhetor components not initialized"})
    providers = httpx.get(rhetor_server.url + "/providers")
    assert (providers.status_code, providers.json()) == (503, {"detail": "LLM client not initialized"})
    assert httpx.get(rhetor_server.url + "/health").status_code == 200


def test_first_byte_delay_holds_the_headers(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.first_byte_delay = 2.0
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(rhetor_server.url + "/api/v1/chat", json=HELLO, timeout=httpx.Timeout(5.0, read=0.2))
    assert httpx.get(rhetor_server.url + "/health", timeout=httpx.Timeout(5.0, read=0.2)).status_code == 200


def test_v1_sse_error_event_and_provider_unavailable(rhetor_server: RhetorTestServer, sse) -> None:
    url = rhetor_server.url + "/api/v1/chat/stream"
    rhetor_server.faults.error_in_200 = True
    assert sse(httpx.post(url, json=HELLO).content) == [{"error": "Anthropic Claude is not available."}]
    rhetor_server.faults.error_in_200 = False
    rhetor_server.faults.error_after_chunks = 1
    events = sse(httpx.post(url, json=HELLO).content)
    assert events[0]["content"] == "I received" and events[1] == {"error": "Anthropic Claude is not available."}
    rhetor_server.faults.error_after_chunks = None
    rhetor_server.faults.provider_unavailable = True
    events = sse(httpx.post(url, json=HELLO).content)
    assert len(events) == 1 and events[0]["content"] == ""
    assert httpx.post(rhetor_server.url + "/api/v1/chat", json=HELLO).json()["content"] == ""


def test_v1_sse_abort_after_k_chunks(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.close_after_chunks = 1
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", rhetor_server.url + "/api/v1/chat/stream", json=HELLO) as response:
            for part in response.iter_raw():
                received += part
    assert received.count(b"data: ") == 1


def test_malformed_data_line_chunk_size_and_reply(rhetor_server: RhetorTestServer, sse_blocks) -> None:
    faults = rhetor_server.faults
    faults.malformed_after_chunks, faults.chunk_size, faults.reply = 1, 4, "abcdefgh"
    raw = httpx.post(rhetor_server.url + "/api/v1/chat/stream", json=HELLO).content
    lines = [block[0] for block in sse_blocks(raw)]
    assert lines[1] == 'data: {"content": "this frame is cut sh'
    assert [line.split('"content": "')[1][:4] for line in (lines[0], lines[2])] == ["abcd", "efgh"]


@pytest.mark.rhetor_server(ping_interval=0.05)
def test_stall_keeps_pinging_between_chunks(rhetor_server: RhetorTestServer, sse_blocks) -> None:
    faults = rhetor_server.faults
    faults.stall_after_chunks, faults.stall_seconds, faults.reply = 2, 0.4, "x" * 40
    blocks = sse_blocks(httpx.post(rhetor_server.url + "/api/v1/chat/stream", json=HELLO).content)
    kinds = ["ping" if lines[0].startswith(": ping") else "data" for lines in blocks]
    data_positions = [i for i, kind in enumerate(kinds) if kind == "data"]
    assert len(data_positions) == 4
    assert "ping" in kinds[data_positions[1] : data_positions[2]]


@pytest.mark.rhetor_server(ping_interval=0.0)
def test_ping_interval_zero_sends_no_pings(rhetor_server: RhetorTestServer) -> None:
    rhetor_server.faults.first_event_delay = 0.2
    raw = httpx.post(rhetor_server.url + "/api/v1/chat/stream", json=HELLO).content
    assert raw.startswith(b"data: ") and b": ping" not in raw
