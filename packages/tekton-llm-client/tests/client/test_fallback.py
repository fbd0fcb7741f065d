"""The fallback chain (Rhetor → Ollama → local), when it must not be used, and the circuit breaker."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import LocalFallbackAdapter
from tekton_llm_client import exceptions as exc
from tekton_llm_client.adapters import FALLBACK_TEXT
from tekton_llm_client.testing import OllamaTestServer, closed_port


@pytest.fixture
def ollama() -> Any:
    with OllamaTestServer() as server:
        yield server


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{closed_port()}"


async def test_rhetor_down_ollama_answers(
    dead_url: str, ollama: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", ollama.url)
    monkeypatch.setenv("OLLAMA_MODEL", "llama3")
    client = make_client(dead_url, use_fallback=True, max_retries=1)
    response = await client.generate_text("help me")
    assert response.fallback is True
    assert response.provider == "ollama" and response.model == "llama3"
    assert response.content == 'Ollama received: "help me"'
    body = ollama.requests[-1].body
    assert body["model"] == "llama3" and body["messages"][-1]["content"] == "help me"


async def test_rhetor_down_ollama_streams(
    dead_url: str, ollama: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", ollama.url)
    client = make_client(dead_url, use_fallback=True, max_retries=0)
    chunks = [c async for c in client.generate_text("stream help", streaming=True)]
    assert all(c.fallback for c in chunks) and chunks[-1].done
    assert "".join(c.chunk for c in chunks) == 'Ollama received: "stream help"'


async def test_everything_down_local_answer_is_marked(
    dead_url: str, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    client = make_client(dead_url, use_fallback=True, max_retries=0)
    response = await client.generate_text("anyone?")
    assert response.fallback is True
    assert response.content == FALLBACK_TEXT and "unavailable" in response.content
    assert response.provider == "local-fallback"
    assert response.success is False  # never reported as a real answer
    stream_chunks = [c async for c in client.generate_text("anyone?", streaming=True)]
    assert [c.chunk for c in stream_chunks] == [FALLBACK_TEXT] and stream_chunks[0].fallback


async def test_5xx_after_retries_falls_back(
    make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server = make_server("classic")
    server.faults.fail_status, server.faults.fail_times = 503, 99
    client = make_client(server.url, use_fallback=True, max_retries=2)
    response = await client.generate_text("degraded")
    assert response.fallback is True
    assert server.attempts("/chat") == 3


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_no_fallback_on_callers_4xx(make_server: Any, make_client: Any, status: int) -> None:
    server = make_server("classic")
    server.faults.fail_status, server.faults.fail_times = status, 99
    client = make_client(server.url, use_fallback=True)
    with pytest.raises(exc.HTTPStatusError):
        await client.generate_text("my fault")


async def test_no_fallback_text_spliced_into_started_stream(
    server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server.faults.close_after_chunks = 2
    client = make_client(server.url, use_fallback=True, transport="http")
    received: list[str] = []
    with pytest.raises(exc.IncompleteStreamError) as info:
        async for chunk in client.generate_text("cut me off please", streaming=True):
            received.append(chunk.chunk)
            assert not chunk.fallback
    assert FALLBACK_TEXT not in "".join(received)
    assert info.value.partial_text == "".join(received)


async def test_fallback_models_tried_through_rhetor(make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    server.faults.error_in_200 = True  # every model's provider fails in-band
    adapter = LocalFallbackAdapter(fallback_models=["simulated-advanced"], max_retries=2)
    client = make_client(server.url, use_fallback=True, adapter=adapter, model_id="claude-3-opus")
    with pytest.raises(exc.ProviderError):
        await client.generate_text("all fail in-band")  # in-band errors are not unavailability
    bodies = [r.body["options"]["model"] for r in server.requests if r.path == "/chat"]
    assert bodies == ["claude-3-opus", "simulated-advanced"]


async def test_breaker_opens_then_recovers(make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server = make_server("v1")
    client = make_client(server.url, use_fallback=True, api="v1", transport="http", max_retries=0)
    now = [1000.0]
    client.breaker._clock = lambda: now[0]
    client.breaker.threshold, client.breaker.cooldown = 2, 30.0
    server.faults.fail_status, server.faults.fail_times = 503, 2
    for _ in range(2):
        assert (await client.generate_text("fails")).fallback is True
    assert client.breaker.state == "open"
    before = server.attempts("/api/v1/chat")
    assert (await client.generate_text("skipped")).fallback is True
    assert server.attempts("/api/v1/chat") == before  # Rhetor not contacted while open
    now[0] += 31
    assert client.breaker.state == "half-open"
    response = await client.generate_text("recovered")
    assert response.fallback is False and 'I received your message: "recovered"' in response.content
    assert client.breaker.state == "closed"
    assert server.attempts("/health") >= 1  # the probe


async def test_empty_answer_is_detected(make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server = make_server("v1")
    server.faults.provider_unavailable = True
    strict = make_client(server.url, transport="http")
    with pytest.raises(exc.ProviderError, match="empty"):
        await strict.generate_text("silent", streaming=True).text()
    lenient = make_client(server.url, transport="http", use_fallback=True)
    chunks = [c async for c in lenient.generate_text("silent", streaming=True)]
    assert chunks[0].fallback is True


async def test_calls_skipped_while_open_do_not_extend_the_cooldown(
    make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    server = make_server("v1")
    client = make_client(server.url, use_fallback=True, api="v1", transport="http", max_retries=0)
    now = [1000.0]
    client.breaker._clock = lambda: now[0]
    client.breaker.threshold, client.breaker.cooldown = 1, 30.0
    server.faults.fail_status, server.faults.fail_times = 503, 1
    assert (await client.generate_text("fails")).fallback is True
    for _ in range(3):  # steady traffic while the circuit is open (t + 9, 18, 27 s)
        now[0] += 9
        assert client.breaker.state == "open"
        assert (await client.generate_text("skipped")).fallback is True
    now[0] += 4  # 31 s after the circuit opened
    assert client.breaker.state == "half-open"
    assert (await client.generate_text("back")).fallback is False
