"""Shared clients: which adapters share one, who closes it (never an adapter), and when it is closed."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tekton_llm_client.client import TektonLLMClient
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims import clients, engram, hermes, telos, terma
from tekton_llm_shims.llm_adapter_service import Forwarder

USER = [{"role": "user", "content": "hello"}]


def record_closes(client: TektonLLMClient) -> list[bool]:
    """Make ``client.aclose`` note each call (and still close)."""
    closed: list[bool] = []
    original = client.aclose

    async def recording_close() -> None:
        closed.append(True)
        await original()

    client.aclose = recording_close  # type: ignore[method-assign]
    return closed


async def test_adapters_of_one_component_and_url_share_a_client(rhetor: RhetorTestServer) -> None:
    first, second = hermes.LLMAdapter(), hermes.LLMAdapter()
    other_component = telos.LLMAdapter()
    other_url = hermes.LLMAdapter("http://127.0.0.1:9")

    shared = await first._get_client()

    assert await second._get_client() is shared
    assert await other_component._get_client() is not shared
    assert await other_url._get_client() is not shared
    assert (shared.component_id, shared.rhetor_url) == ("hermes", rhetor.url)
    assert first._client is shared  # the adapter still delegates to exactly one client


async def test_auth_token_is_part_of_the_key_but_not_kept_in_it(
    rhetor: RhetorTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RHETOR_AUTH_TOKEN", "token-one-s3cret")
    one = await engram.LLMAdapter()._get_client()
    again = await engram.LLMAdapter()._get_client()
    monkeypatch.setenv("RHETOR_AUTH_TOKEN", "token-two-s3cret")
    two = await engram.LLMAdapter()._get_client()

    assert one is again and two is not one
    assert (one.config.auth_token, two.config.auth_token) == ("token-one-s3cret", "token-two-s3cret")
    keys = [key for entry in clients._registry.by_loop.values() for key in entry.clients]
    assert keys and "s3cret" not in repr(keys)
    assert "s3cret" not in repr(one)


async def test_concurrent_first_requests_create_one_client(rhetor: RhetorTestServer) -> None:
    adapters = [telos.LLMAdapter() for _ in range(5)]

    answers = await asyncio.gather(*(adapter.chat(USER) for adapter in adapters))

    assert all('I received your message: "hello"' in str(answer) for answer in answers)
    assert len({id(adapter._client) for adapter in adapters}) == 1
    assert rhetor.attempts("/health") == 1


async def test_closing_or_collecting_an_adapter_never_closes_the_shared_client(rhetor: RhetorTestServer) -> None:
    streaming, closing = engram.LLMAdapter(), engram.LLMAdapter()
    client = await streaming._get_client()
    closed = record_closes(client)
    await closing._get_client()

    stream = streaming._stream_chat(USER)
    first = await anext(stream)
    await closing.aclose()  # a second adapter closing mid-stream: must not cut the first one's stream
    async with closing:
        pass
    del closing
    gc.collect()
    rest = [piece async for piece in stream]

    assert closed == []
    assert 'I received your message: "hello"' in first + "".join(rest)
    assert await streaming._get_client() is client


async def test_close_shared_clients_closes_them_and_adapters_get_a_new_one(rhetor: RhetorTestServer) -> None:
    adapter = hermes.LLMAdapter()
    await adapter.chat("one")
    old = adapter._client
    assert old is not None
    closed = record_closes(old)

    await clients.close_shared_clients()
    answer = await adapter.chat("two")

    assert closed == [True]
    assert answer["success"] is True and 'I received your message: "two"' in answer["message"]
    assert adapter._client is not None and adapter._client is not old
    await clients.close_shared_clients()  # idempotent per loop
    await clients.close_shared_clients()


def test_event_loop_shutdown_closes_its_shared_clients(rhetor: RhetorTestServer, clean_env: Path) -> None:
    adapter = terma.LLMAdapter()  # one long-lived adapter (Hermes' module singleton pattern) used by two loops
    seen: list[tuple[TektonLLMClient, list[bool]]] = []

    async def one_request() -> str:
        answer = str(await adapter.analyze_command("s", "uptime"))
        assert adapter._client is not None
        seen.append((adapter._client, record_closes(adapter._client)))
        return answer

    answers = [asyncio.run(one_request()), asyncio.run(one_request())]

    (first, first_closed), (second, second_closed) = seen
    assert all("uptime" in answer for answer in answers)
    assert first is not second  # a client's connections belong to its loop
    assert first_closed == [True] and second_closed == [True]  # each closed when its loop shut down
    assert not any(loop.is_closed() for loop in clients._registry.by_loop)


def test_a_loop_closed_without_shutdown_is_forgotten(rhetor: RhetorTestServer) -> None:
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(hermes.LLMAdapter()._get_client())
    loop.close()  # no shutdown_asyncgens(): nothing could close the client

    asyncio.run(hermes.LLMAdapter()._get_client())

    assert loop not in clients._registry.by_loop
    assert all(client not in entry.clients.values() for entry in clients._registry.by_loop.values())


async def test_the_services_forwarder_owns_a_private_client(rhetor: RhetorTestServer) -> None:
    forwarder = Forwarder(rhetor.url)
    adapter_client = await hermes.LLMAdapter()._get_client()
    private = await forwarder._get_client()
    closed = record_closes(private)

    answer = await forwarder.message(_legacy("hi"))
    await forwarder.aclose()

    assert private is not adapter_client and private.component_id == "llm_adapter"
    assert 'I received your message: "hi"' in answer["message"]
    assert closed == [True]


def _legacy(message: str) -> Any:
    from tekton_llm_shims.llm_adapter_service import LegacyRequest

    return LegacyRequest(message)


@pytest.mark.parametrize("make", [terma.LLMAdapter, engram.LLMAdapter])
async def test_per_request_adapters_detect_the_generation_once(
    rhetor: RhetorTestServer, make: Callable[[], Any]
) -> None:
    for _ in range(4):
        adapter = make()
        if isinstance(adapter, terma.LLMAdapter):
            await adapter.analyze_command("s", "ls")
        else:
            await adapter.chat(USER)
        del adapter
        gc.collect()

    assert rhetor.attempts("/health") == 1  # detection once for the four adapters
    generation = [r for r in rhetor.requests if r.path in ("/api/v1/chat", "/chat")]
    assert len(generation) == 4
