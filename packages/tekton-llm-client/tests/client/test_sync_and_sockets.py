"""The sync facade, and that a closed client leaves no connection open."""

from __future__ import annotations

import asyncio
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tekton_llm_client import ClientRateLimitError, RateLimits, SyncTektonLLMClient, TektonLLMClient
from tekton_llm_client.testing import reset_rate_limiters


def _established_to(port: int) -> int:
    """Client-side TCP connections from this machine to ``port`` that are still ESTABLISHED (Linux)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":
                count += 1
    return count


def test_sync_facade(server: Any) -> None:
    with SyncTektonLLMClient("sync", rhetor_url=server.url, use_fallback=False) as client:
        response = client.generate_text("from sync code")
        assert 'I received your message: "from sync code"' in response.content
        chunks = list(client.stream_text("sync stream"))
        assert chunks[-1].done and "".join(c.chunk for c in chunks).startswith('I received your message: "sync')
        assert client.health().healthy
        again = client.generate_chat_response([{"role": "user", "content": "twice"}])
        assert 'I received your message: "twice"' in again.content


def test_sync_facade_shares_the_components_rate_limiter(server: Any) -> None:
    limits = RateLimits(rpm=1, on_limit="raise")
    with SyncTektonLLMClient("sync-limited", rhetor_url=server.url, use_fallback=False, rate_limits=limits) as client:
        assert client.rate_limiter is client.client.rate_limiter
        client.generate_text("first")
        with pytest.raises(ClientRateLimitError) as refused:
            client.generate_text("second")
    assert refused.value.reason == "rpm"
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    reset_rate_limiters("sync-limited")


async def test_sync_facade_refuses_running_loop(server: Any) -> None:
    from tekton_llm_client import TektonLLMError

    client = SyncTektonLLMClient("sync", rhetor_url=server.url)
    with pytest.raises(RuntimeError, match="running event loop") as info:
        client.generate_text("inside a loop")
    assert isinstance(info.value, TektonLLMError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
async def test_no_sockets_left_after_aclose(server: Any) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    client = TektonLLMClient("sockets", rhetor_url=server.url, use_fallback=False)
    await asyncio.gather(*(client.generate_text(f"q{i}") for i in range(5)))
    await client.generate_text("stream", streaming=True).text()
    assert _established_to(port) >= 1  # pooled keep-alive connections
    await client.aclose()  # returns once the pool's sockets are closed: no waiting needed
    assert _established_to(port) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_websocket_is_closed_when_asyncio_run_shuts_down(make_server: Any) -> None:
    """The shims' pattern: a client made inside ``asyncio.run`` and closed by an async generator that the loop
    finalizes at shutdown. The socket's watcher task is cancelled before that; the socket must still be closed,
    without ``ResourceWarning`` (issue 12 §4)."""
    server = make_server("v1")
    port = int(server.url.rsplit(":", 1)[1])
    kept: list[Any] = []

    async def main() -> None:
        client = TektonLLMClient("shutdown", rhetor_url=server.url, api="v1", transport="ws", use_fallback=False)

        async def close_at_shutdown() -> AsyncIterator[None]:
            try:
                yield
            finally:
                await client.aclose()

        closer = close_at_shutdown()
        await anext(closer)  # left suspended: the loop's shutdown_asyncgens() finalizes it
        await client.generate_text("keep the socket open")
        assert _established_to(port) == 1
        # Both held, as the shims' registry holds its closer: the closer then runs only at shutdown, after the
        # tasks were cancelled, and only a close, never garbage collection of a forgotten socket, drops the count.
        kept.extend([closer, client._pipeline._ws._conn])  # type: ignore[union-attr]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(main())
    assert kept[1] is not None
    assert _established_to(port) == 0
    # Only the client's own resources count: an earlier async test's event loop, left for the garbage collector by
    # older pytest-asyncio releases (0.25, the floor), may be reported while this one runs.
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [m for m in leaks if "socket" in m or "transport" in m] == []


async def test_one_pool_per_client_reused(server: Any) -> None:
    async with TektonLLMClient("pool", rhetor_url=server.url, use_fallback=False) as client:
        await client.generate_text("one")
        first = client._transport()._client
        await client.generate_text("two")
        assert client._transport()._client is first
    assert client._http is None
