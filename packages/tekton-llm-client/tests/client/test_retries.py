"""The retry loop: what is retried, how many attempts (counted server-side), Retry-After, streams."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client._transport.http import parse_retry_after


def _record_sleeps(client: Any) -> list[float]:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client.retry_policy.sleep = fake_sleep
    return sleeps


async def test_503_twice_then_success(server: Any, make_client: Any) -> None:
    client = make_client(server.url, api=server.profile, transport="http", max_retries=3)
    server.faults.fail_status, server.faults.fail_times = 503, 2
    response = await client.generate_text("eventually")
    assert 'I received your message: "eventually"' in response.content
    path = "/api/v1/chat" if server.profile == "v1" else "/chat"
    assert server.attempts(path) == 3


async def test_retries_exhausted_raise_last_error(server: Any, make_client: Any) -> None:
    client = make_client(server.url, api=server.profile, transport="http", max_retries=2)
    server.faults.fail_status, server.faults.fail_times = 502, 10
    with pytest.raises(exc.ServerError):
        await client.generate_text("never")
    path = "/api/v1/chat" if server.profile == "v1" else "/chat"
    assert server.attempts(path) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_never_retried(make_server: Any, make_client: Any, status: int) -> None:
    server = make_server("classic")
    client = make_client(server.url, api="classic", max_retries=3)
    server.faults.fail_status, server.faults.fail_times = status, 5
    with pytest.raises(exc.HTTPStatusError):
        await client.generate_text("no retry")
    assert server.attempts("/chat") == 1


@pytest.mark.parametrize("status", [408, 409, 429])
async def test_retryable_4xx(make_server: Any, make_client: Any, status: int) -> None:
    server = make_server("classic")
    client = make_client(server.url, api="classic", max_retries=3)
    server.faults.fail_status, server.faults.fail_times = status, 1
    await client.generate_text("retry once")
    assert server.attempts("/chat") == 2


async def test_retry_after_seconds_is_honoured(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", max_retries=2)
    sleeps = _record_sleeps(client)
    server.faults.fail_status, server.faults.fail_times, server.faults.retry_after = 429, 1, "7"
    await client.generate_text("rate limited")
    assert sleeps == [7.0]
    assert server.attempts("/api/v1/chat") == 2


async def test_retry_after_is_bounded(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", max_retries=1)
    sleeps = _record_sleeps(client)
    server.faults.fail_status, server.faults.fail_times, server.faults.retry_after = 503, 1, "86400"
    await client.generate_text("bounded")
    assert sleeps == [client.config.retry_after_cap]


def test_retry_after_http_date_and_garbage() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    seconds = parse_retry_after(when, cap=30)
    assert seconds is not None and 15 <= seconds <= 20
    assert parse_retry_after("not a date", cap=30) is None
    assert parse_retry_after(None, cap=30) is None
    assert parse_retry_after("-5", cap=30) == 0.0


def test_backoff_is_exponential_with_jitter_and_cap() -> None:
    from tekton_llm_client.utils.retries import RetryPolicy

    policy = RetryPolicy(max_retries=10, backoff_base=0.5, backoff_cap=4.0, rand=lambda: 1.0)
    error = exc.ServerError("x")
    assert [policy.delay(error, n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    policy.rand = lambda: 0.25
    assert policy.delay(error, 2) == 0.5


async def test_stream_retried_before_first_event(server: Any, make_client: Any) -> None:
    client = make_client(server.url, api=server.profile, transport="http", max_retries=2)
    server.faults.fail_status, server.faults.fail_times = 503, 1
    text = await client.generate_text("stream after retry", streaming=True).text()
    assert 'I received your message: "stream after retry"' in text
    path = "/api/v1/chat/stream" if server.profile == "v1" else "/chat"
    assert server.attempts(path) == 2


async def test_no_retry_after_first_chunk(server: Any, make_client: Any) -> None:
    client = make_client(server.url, api=server.profile, transport="http", max_retries=3)
    server.faults.close_after_chunks = 3
    stream = client.generate_text("a message long enough to be cut", streaming=True)
    received: list[str] = []
    with pytest.raises(exc.IncompleteStreamError) as info:
        async for chunk in stream:
            received.append(chunk.chunk)
    assert info.value.partial_text == "".join(received)
    assert len(info.value.partial_text) == 30
    path = "/api/v1/chat/stream" if server.profile == "v1" else "/chat"
    # v1 streams end by close, so a cut v1 stream looks complete on the wire; classic must say done.
    if server.profile == "classic":
        assert server.attempts(path) == 1


async def test_websocket_reconnects_are_paced_by_the_retry_policy_alone(make_client: Any, refusing_ws: Any) -> None:
    """A refused WebSocket handshake: exactly ``max_retries + 1`` connects, and no wait but the policy's."""
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    client = make_client(f"http://127.0.0.1:{refusing_ws.port}", api="v1", transport="ws", max_retries=2)
    client.retry_policy.sleep = record
    with pytest.raises(exc.ServiceUnavailableError):
        await client.generate_text("nobody there")
    assert refusing_ws.handshakes == 3
    assert len(waits) == 2
