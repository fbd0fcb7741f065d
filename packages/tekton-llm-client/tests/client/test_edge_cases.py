"""Edge cases found in review: each test pins one behaviour that once broke."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tekton_llm_client import (
    ContextManager,
    LLMSettings,
    LocalFallbackAdapter,
    ResponseCache,
    StreamHandler,
    SyncTektonLLMClient,
)
from tekton_llm_client import exceptions as exc
from tekton_llm_client.adapters import FALLBACK_TEXT
from tekton_llm_client.testing import closed_port

ECHO = "I received your message:"


@pytest.fixture
async def broken_ollama() -> AsyncIterator[str]:
    """An 'Ollama' that sends 200 headers, part of a body, then drops the connection (real socket)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"mess')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_ollama_breaking_mid_body_moves_on_to_local(
    broken_ollama: str, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_URL", broken_ollama)
    client = make_client(f"http://127.0.0.1:{closed_port()}", use_fallback=True, max_retries=0)
    response = await client.generate_text("anyone?")
    assert response.fallback and response.content == FALLBACK_TEXT


def test_sync_stream_honours_idle_deadline(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RHETOR_IDLE_TIMEOUT", "0.5")
    server = make_server("v1")
    server.faults.stall_after_chunks, server.faults.stall_seconds, server.faults.ping_interval = 2, 5.0, 0.05
    with SyncTektonLLMClient("sync", rhetor_url=server.url, transport="http", use_fallback=False) as client:
        received = []
        with pytest.raises(exc.IncompleteStreamError) as info:
            for chunk in client.stream_text("a message that stalls in the middle"):
                received.append(chunk)
    assert isinstance(info.value.__cause__, exc.TimeoutError) and info.value.__cause__.kind == "idle"
    assert received[-1].error and received[-1].done


async def test_context_manager_with_its_own_default_id(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    memory = ContextManager("terma", default_context_id="conversation-1")
    client = make_client(server.url, api="v1", context_manager=memory, component_id="terma")
    await client.generate_text("my name is Ada")
    await client.generate_text("and my name?")
    assert memory.context_ids() == ["conversation-1"]
    assert server.requests[-1].body["messages"][0]["content"] == "my name is Ada"


async def test_classic_stream_closed_before_any_event_is_asked_without_streaming(
    make_server: Any, make_client: Any
) -> None:
    server = make_server("classic")
    server.faults.close_after_chunks = 0
    client = make_client(server.url, transport="http", max_retries=0)
    chunks = [c async for c in client.generate_text("stream me", streaming=True)]
    assert "".join(c.chunk for c in chunks).startswith(f'{ECHO} "stream me"') and chunks[-1].done
    assert [r.body["streaming"] for r in server.requests if r.path == "/chat"] == [True, False]


async def test_url_credentials_never_shown(make_client: Any) -> None:
    port = closed_port()
    client = make_client(f"http://bob:s3cretpw@127.0.0.1:{port}", max_retries=0)
    with pytest.raises(exc.ConnectionError) as info:
        await client.generate_text("hi")
    assert "s3cretpw" not in str(info.value) and "s3cretpw" not in repr(client)
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("transport", ["http", "ws"])
async def test_classic_routing_options_nested_on_both_transports(
    make_server: Any, make_client: Any, transport: str
) -> None:
    server = make_server("classic")
    client = make_client(server.url, transport=transport)
    await client.generate_text("x", options={"temperature": 0.2, "fallback_provider": "openai", "fallback_model": "m"})
    if transport == "http":
        options = server.requests[-1].body["options"]
    else:
        options = [f.data for f in server.ws_frames if f.is_json and f.data.get("type") == "CHAT_REQUEST"][-1][
            "payload"
        ]["options"]
    assert options["options"] == {"temperature": 0.2, "fallback_provider": "openai", "fallback_model": "m"}


async def test_stop_sequences_on_every_path(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    server.faults.reply = "alpha beta STOP gamma delta"
    server.faults.chunk_size = 3  # "STOP" spans two chunks
    client = make_client(server.url, api="v1", transport="http")
    options = {"stop_sequences": ["STOP"]}
    assert (await client.generate_text("x", options=options)).content == "alpha beta "
    streamed = [c async for c in client.generate_text("x", streaming=True, options=options)]
    assert "".join(c.chunk for c in streamed) == "alpha beta " and streamed[-1].done
    deltas = [
        c.choices[0].delta.content or ""
        async for c in client.stream_chat_completion([{"role": "user", "content": "x"}], options)
    ]
    assert "".join(deltas) == "alpha beta "
    without = await client.generate_text("x")
    assert without.content == "alpha beta STOP gamma delta"


async def test_concurrent_first_calls_all_switch_to_ws(make_server: Any, make_client: Any) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url, max_retries=0)
    answers = await asyncio.gather(*(client.generate_text(f"q{i}") for i in range(5)))
    assert all(a.content.startswith(f'{ECHO} "q{i}"') and not a.fallback for i, a in enumerate(answers))


def test_corrupt_context_file_is_skipped(tmp_path: Path) -> None:
    from tekton_llm_client.context_manager import context_file_name

    memory = ContextManager("c", storage_dir=tmp_path)
    (tmp_path / context_file_name("c1")).write_text(json.dumps({"context_id": "c1", "messages": [{"content": "x"}]}))
    assert memory.get_messages("c1") == []


async def test_cache_hit_gets_its_own_request_id_and_callback(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", cache=ResponseCache())
    seen: list[str] = []
    first = await client.generate_text("same", options={"temperature": 0}, callback=lambda c: seen.append(c.chunk))
    second = await client.generate_text("same", options={"temperature": 0}, callback=lambda c: seen.append(c.chunk))
    assert second.request_id != first.request_id and second.content == first.content
    assert seen == [first.content, first.content]
    assert server.attempts("/api/v1/chat") == 1


async def test_fallback_models_apply_to_streams_with_the_adapters_attempts(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    server.faults.fail_status, server.faults.fail_times = 500, 3
    server.faults.fail_paths = {"/api/v1/chat/stream"}
    adapter = LocalFallbackAdapter(fallback_models=["simulated-standard"], max_retries=3)
    client = make_client(server.url, api="v1", transport="http", max_retries=0, adapter=adapter)
    chunks = [c async for c in client.generate_text("fallback model", streaming=True)]
    assert chunks[-1].model == "simulated-standard" and not chunks[-1].fallback
    models = [r.body.get("model") for r in server.requests if r.path == "/api/v1/chat/stream"]
    assert models == [None, "simulated-standard", "simulated-standard", "simulated-standard"]


async def test_client_llm_settings_do_not_override_explicit_model(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(
        server.url,
        api="v1",
        model_id="simulated-fast",
        llm_settings=LLMSettings(model="simulated-advanced", temperature=0.4),
    )
    response = await client.generate_text("which model?")
    assert response.model == "simulated-fast" and server.requests[-1].body["temperature"] == 0.4


async def test_openai_chat_passes_unknown_params(make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    client = make_client(server.url)
    await client.chat(messages=[{"role": "user", "content": "x"}], task_type="code")
    assert server.requests[-1].body["task_type"] == "code"


async def test_broken_stream_ends_with_an_error_item_then_raises(server: Any, make_client: Any) -> None:
    server.faults.error_after_chunks = 2
    client = make_client(server.url, transport="http")
    handler = StreamHandler()
    text = await handler.process_stream(client.generate_text("a message long enough to break", streaming=True))
    assert len(text) == 20 and handler.error and "not available" in handler.error
    items: list[Any] = []
    with pytest.raises(exc.IncompleteStreamError) as info:
        async for item in client.generate_text("a message long enough to break", streaming=True):
            items.append(item)
    assert items[-1].error == handler.error and items[-1].done
    assert info.value.message.count("request_id") == 0
    gc.collect()
