"""Read timeout, first-event deadline and the idle deadline that ``: ping`` comments do not reset."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from tekton_llm_client import exceptions as exc


async def test_read_timeout_on_slow_first_byte(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    server.faults.first_byte_delay = 1.0
    client = make_client(server.url, api="v1", transport="http", timeout=0.2, max_retries=1)
    with pytest.raises(exc.TimeoutError) as info:
        await client.generate_text("slow")
    assert info.value.kind == "read"
    assert server.attempts("/api/v1/chat") == 2  # timeouts are retried


async def test_first_event_deadline(server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RHETOR_FIRST_EVENT_TIMEOUT", "0.2")
    server.faults.first_event_delay = 1.0
    server.faults.ping_interval = 0.05
    client = make_client(server.url, api=server.profile, transport="http", max_retries=0)
    with pytest.raises(exc.TimeoutError) as info:
        await client.generate_text("late", streaming=True).text()
    assert info.value.kind == "first_event"


async def test_idle_deadline_not_reset_by_pings(server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RHETOR_IDLE_TIMEOUT", "0.8")
    server.faults.stall_after_chunks = 2
    server.faults.stall_seconds = 4.0
    server.faults.ping_interval = 0.05  # pings keep flowing during the stall
    client = make_client(server.url, api=server.profile, transport="http", max_retries=3)
    stream = client.generate_text("a message that stalls midway", streaming=True)
    with pytest.raises(exc.IncompleteStreamError) as info:
        await stream.text()
    assert isinstance(info.value.__cause__, exc.TimeoutError)
    assert info.value.__cause__.kind == "idle"
    assert len(info.value.partial_text) == 20


async def test_pings_between_chunks_are_ignored(server: Any, make_client: Any) -> None:
    server.faults.ping_interval = 0.01
    server.faults.chunk_delay = 0.03
    client = make_client(server.url, api=server.profile, transport="http")
    text = await client.generate_text("ping me", streaming=True).text()
    assert text.startswith('I received your message: "ping me"')
    assert ": ping" not in text


async def test_idle_timeout_in_a_second_reader_task_leaves_it_uncancelled(
    make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream read from one task and then another (the sync facade runs each step in its own task): the idle
    deadline fires in the second, which must come out of it with no cancellation pending."""
    monkeypatch.setenv("RHETOR_IDLE_TIMEOUT", "0.3")
    server = make_server("v1")
    server.faults.stall_after_chunks, server.faults.stall_seconds = 2, 5.0
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    stream = client.generate_text("read from two tasks", streaming=True)
    first = await asyncio.create_task(stream.__anext__())
    assert first.chunk

    async def read_rest() -> tuple[int, str]:
        with pytest.raises(exc.IncompleteStreamError) as info:
            while True:
                await stream.__anext__()
        await asyncio.sleep(0)  # a pending cancellation would surface here as CancelledError
        pending = asyncio.current_task().cancelling() if sys.version_info >= (3, 11) else 0  # type: ignore[union-attr]
        assert isinstance(info.value.__cause__, exc.TimeoutError) and info.value.__cause__.kind == "idle"
        return pending, info.value.partial_text

    pending, partial = await asyncio.create_task(read_rest())
    assert pending == 0
    assert len(partial) == 20
