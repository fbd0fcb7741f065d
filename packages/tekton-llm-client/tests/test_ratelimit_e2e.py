"""Rate limits end to end: ``TektonLLMClient`` against a Rhetor v1 look-alike on 127.0.0.1 that records when each
request arrived (``time.monotonic``, the limiter's clock) and can answer 429 with ``Retry-After`` or hold streams
open.

The server counts what reached it, so these tests see the limits from Rhetor's side, over the exact window: the
limiter counts an admission until ``window`` seconds after its answer began, so however long the client took to
send it (connection set-up, a busy event loop, a loaded machine), no window of arrivals holds more than rpm.

``ArrivalServer`` and ``max_in_window`` are importable on their own (no fixture needed) for the benchmark that
measures requests per window under concurrency 50 (``measure_window``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from tekton_llm_client import ClientRateLimitError, RateLimits, TektonLLMClient

try:
    from . import ratelimit_helpers as helpers
except ImportError:  # run as a script (the benchmark's server process): the tests folder is on sys.path
    import ratelimit_helpers as helpers  # type: ignore[no-redef]
max_in_window, until = helpers.max_in_window, helpers.until


def component() -> str:
    return helpers.component("rl-e2e")


@dataclass
class Arrival:
    at: float
    path: str
    status: int = 200
    answered_at: float = 0.0


@dataclass
class ArrivalServer:
    """``POST /api/v1/chat`` (JSON) and ``/api/v1/chat/stream`` (close-ended SSE), recording every arrival.

    It runs its own event loop in a thread, so an arrival is stamped when the request reaches the socket, not when
    the client's loop gets round to the server. ``answer_429`` lists Retry-After values: each of the next requests
    gets a 429 with the next value. After ``hold_streams()`` streams send their first event, then wait for
    ``release_streams()`` before the rest."""

    host: str = "127.0.0.1"
    port: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    answer_429: list[str] = field(default_factory=list)
    streams_open: int = 0
    streams_peak: int = 0
    usage_tokens: int | None = 7  # None: answers report no usage (as classic never does)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _released: asyncio.Event | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def times(self, status: int | None = 200) -> list[float]:
        return [a.at for a in self.arrivals if status is None or a.status == status]

    def start(self) -> ArrivalServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._released = asyncio.Event()
            self._released.set()
            self._server = await asyncio.start_server(self._connection, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            assert self._loop is not None
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="arrival-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the arrival server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        async def close() -> None:
            for writer in list(self._writers):
                writer.close()
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            loop.stop()

        asyncio.run_coroutine_threadsafe(close(), loop)
        self._thread.join(10)
        loop.close()

    def hold_streams(self) -> None:
        self._on_loop(lambda event: event.clear())

    def release_streams(self) -> None:
        self._on_loop(lambda event: event.set())

    def _on_loop(self, change: Callable[[asyncio.Event], None]) -> None:
        """Apply ``change`` to the streams' event on the server's loop, and return once it is done."""
        assert self._loop is not None and self._released is not None
        released = self._released

        async def apply() -> None:
            change(released)

        asyncio.run_coroutine_threadsafe(apply(), self._loop).result(10)

    async def wait_streams_open(self, count: int) -> None:
        def wait() -> None:
            with self._changed:
                if not self._changed.wait_for(lambda: self.streams_open >= count, 10):
                    raise AssertionError(f"{self.streams_open} of {count} streams open")

        await asyncio.to_thread(wait)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the server is stopping: this connection's task simply ends
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        arrival = Arrival(time.monotonic(), head.split(b" ", 2)[1].decode())
        self.arrivals.append(arrival)
        length = 0
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = json.loads(await reader.readexactly(length)) if length else {}
        if self.answer_429:
            arrival.status = 429
            payload = b'{"detail": "Too Many Requests"}'
            writer.write(
                b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: "
                + self.answer_429.pop(0).encode()
                + b"\r\nContent-Length: %d\r\n\r\n" % len(payload)
                + payload
            )
            await writer.drain()
            arrival.answered_at = time.monotonic()
            return True
        if arrival.path == "/api/v1/chat/stream":
            await self._stream(writer)
            return False
        answer: dict[str, Any] = {
            "content": f"answer to {body['messages'][-1]['content']}",
            "model": "m",
            "provider": "p",
        }
        if self.usage_tokens is not None:
            answer["usage"] = {"total_tokens": self.usage_tokens}
        payload = json.dumps(answer).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload))
        writer.write(payload)
        await writer.drain()
        arrival.answered_at = time.monotonic()
        return True

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        with self._changed:
            self.streams_open += 1
            self.streams_peak = max(self.streams_peak, self.streams_open)
            self._changed.notify_all()
        try:
            writer.write(b'data: {"content": "first ", "done": false}\n\n')
            await writer.drain()
            assert self._released is not None
            await self._released.wait()
            writer.write(b'data: {"content": "second", "done": false}\n\ndata: {"content": "", "done": true}\n\n')
            await writer.drain()
        finally:
            with self._changed:
                self.streams_open -= 1
                self._changed.notify_all()


@contextlib.asynccontextmanager
async def arrival_server() -> AsyncIterator[ArrivalServer]:
    server = ArrivalServer().start()
    try:
        yield server
    finally:
        server.stop()


def rate_client(url: str, limits: RateLimits, **kwargs: Any) -> TektonLLMClient:
    """A v1/HTTP client (no detection round trip) with fast retries."""
    kwargs.setdefault("use_fallback", False)
    kwargs.setdefault("timeout", 30)
    client = TektonLLMClient(
        kwargs.pop("component_id", component()),
        rhetor_url=url,
        api="v1",
        transport="http",
        rate_limits=limits,
        **kwargs,
    )
    client.retry_policy.backoff_base = 0.001
    client.retry_policy.backoff_cap = 0.002
    return client


async def warm_up(server: ArrivalServer) -> None:
    """One unlimited call first, so the process's first-use costs (importing httpx: about 0.2 s) do not sit between
    a measured request's admission and its arrival; then the server forgets it."""
    async with TektonLLMClient(component(), rhetor_url=server.url, api="v1", transport="http") as client:
        await client.generate_text("warm-up")
    server.arrivals.clear()


async def measure_window(rpm: int, window: float, calls: int = 200, concurrency: int = 50) -> dict[str, Any]:
    """Requests per window as the server saw them: ``calls`` answers through one client limited to ``rpm`` per
    ``window`` seconds, ``concurrency`` callers at once. For the benchmark; returns plain numbers."""
    async with arrival_server() as server:
        await warm_up(server)
        client = rate_client(server.url, RateLimits(rpm=rpm, window=window))
        gate = asyncio.Semaphore(concurrency)

        async def call(i: int) -> None:
            async with gate:
                await client.generate_text(f"q{i}")

        started = time.monotonic()
        await asyncio.gather(*(call(i) for i in range(calls)))
        elapsed = time.monotonic() - started
        await client.aclose()
        times = server.times(None)
    return {
        "rpm": rpm,
        "window": window,
        "calls": calls,
        "concurrency": concurrency,
        "seen": len(times),
        "max_in_window": max_in_window(times, window),
        "elapsed": elapsed,
        "ideal_elapsed": (calls // rpm - (calls % rpm == 0)) * window,
    }


# ------------------------------------------------------------------------------------------------------ tests


def test_max_in_window_counts_half_open_windows() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([0.0, 0.5, 1.0, 1.4, 1.6], 1.0) == 3  # (0.4, 1.4] holds 0.5, 1.0, 1.4
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1


async def test_server_never_sees_more_than_rpm_per_window_under_concurrency_50() -> None:
    rpm, window, calls = 10, 0.5, 50
    async with arrival_server() as server:
        client = rate_client(server.url, RateLimits(rpm=rpm, window=window))
        answers = await asyncio.gather(*(client.generate_text(f"q{i}") for i in range(calls)))
        await client.aclose()
    assert sorted(a.content for a in answers) == sorted(f"answer to q{i}" for i in range(calls))
    assert not any(a.fallback for a in answers)
    times = server.times()
    assert len(times) == calls
    assert max_in_window(times, window) <= rpm


async def test_a_429_pauses_every_waiting_caller_then_they_go_in_paced() -> None:
    # One request at a time, so when the 429 comes back every other caller is waiting in the limiter (none in
    # flight); rpm=10 per second would let them through back to back, the pause and the pacing must not.
    rpm, window, calls = 10, 1.0, 12
    async with arrival_server() as server:
        await warm_up(server)
        server.answer_429.append("1")
        client = rate_client(server.url, RateLimits(rpm=rpm, window=window, concurrency=1))
        answers = await asyncio.gather(*(client.generate_text(f"q{i}") for i in range(calls)))
        await client.aclose()
    assert len(answers) == calls and not any(a.fallback for a in answers)
    refused = [a for a in server.arrivals if a.status == 429]
    assert len(refused) == 1
    assert server.arrivals[0] is refused[0]
    pause_to = refused[0].answered_at + 1.0  # the pause starts once the client has the 429: no earlier
    after = [a.at for a in server.arrivals[1:]]
    assert len(after) == calls
    assert min(after) >= pause_to  # nobody, of all the waiting callers, reached the server during the pause
    # Then they go in at the even rate (window / rpm = 0.1 s apart), not all at the same instant.
    assert max_in_window(after, 0.25) <= 4


async def test_raise_mode_fails_at_once_with_retry_after_and_never_falls_back() -> None:
    async with arrival_server() as server:
        client = rate_client(server.url, RateLimits(rpm=2, window=60.0, on_limit="raise"), use_fallback=True)
        for i in range(2):
            await client.generate_text(f"q{i}")
        with pytest.raises(ClientRateLimitError) as caught:
            await client.generate_text("one too many")
        stream = client.generate_text("streamed", streaming=True)
        with pytest.raises(ClientRateLimitError):
            async for _ in stream:
                pass
        await client.aclose()
    error = caught.value
    assert 55.0 < error.retry_after <= 60.0
    assert error.reason == "rpm"
    assert len(server.arrivals) == 2


async def test_a_wait_longer_than_the_call_timeout_is_client_rate_limit_error() -> None:
    async with arrival_server() as server:
        client = rate_client(server.url, RateLimits(rpm=1, window=60.0), timeout=2.0)
        await client.generate_text("first")
        with pytest.raises(ClientRateLimitError, match="beyond its timeout") as caught:
            await client.generate_text("second", options={"timeout": 0.5})
        await client.aclose()
    assert caught.value.retry_after > 55.0
    assert len(server.arrivals) == 1


async def test_concurrency_cap_holds_for_streams_until_they_end() -> None:
    async with arrival_server() as server:
        server.hold_streams()
        client = rate_client(server.url, RateLimits(concurrency=2))
        limiter = client.rate_limiter
        assert limiter is not None

        async def read(i: int) -> str:
            return "".join([c.chunk async for c in client.generate_text(f"s{i}", streaming=True)])

        readers = [asyncio.ensure_future(read(i)) for i in range(5)]
        await server.wait_streams_open(2)
        await until(lambda: limiter.waiting == 3)  # the other three are queued in the limiter
        assert len(server.arrivals) == 2  # two streams are open and holding their slots; nobody else was sent
        server.release_streams()
        texts = await asyncio.gather(*readers)
        await client.aclose()
    assert texts == ["first second"] * 5
    assert server.streams_peak == 2
    assert len(server.arrivals) == 5


async def test_an_abandoned_stream_frees_its_slot() -> None:
    async with arrival_server() as server:
        server.hold_streams()
        client = rate_client(server.url, RateLimits(concurrency=1, on_limit="raise"))
        stream = client.generate_text("left early", streaming=True)
        first = await anext(stream)
        assert first.chunk == "first "
        with pytest.raises(ClientRateLimitError):  # its slot is held while it is open
            await client.generate_text("meanwhile")
        await stream.aclose()
        server.release_streams()
        answer = await client.generate_text("after")
        await client.aclose()
    assert answer.content == "answer to after"


async def test_fallback_answers_never_count() -> None:
    from tekton_llm_client.testing import closed_port

    name = component()
    dead = f"http://127.0.0.1:{closed_port()}"
    client = rate_client(
        dead,
        RateLimits(rpm=3, window=60.0, on_limit="raise"),
        component_id=name,
        use_fallback=True,
        max_retries=0,
        breaker_threshold=1,
        breaker_cooldown=60.0,
    )
    # The first call tries Rhetor once (one admission), fails, and the fallback chain answers; the breaker opens,
    # so the next five are answered by the fallback chain without trying Rhetor at all.
    answers = [await client.generate_text(f"q{i}") for i in range(6)]
    assert all(a.fallback for a in answers)
    limiter = client.rate_limiter
    assert limiter is not None
    # rpm=3 and one admission so far: exactly two more fit; the fallback answers took none.
    permits = [await limiter.acquire(1, timeout=0), await limiter.acquire(1, timeout=0)]
    with pytest.raises(ClientRateLimitError):
        await limiter.acquire(1, timeout=0)
    for permit in permits:
        permit.release()
    await client.aclose()


async def test_every_client_of_a_component_counts_against_one_limit() -> None:
    name = component()
    async with arrival_server() as server:
        limited = rate_client(server.url, RateLimits(rpm=3, window=60.0, on_limit="raise"), component_id=name)
        plain = TektonLLMClient(name, rhetor_url=server.url, api="v1", transport="http", use_fallback=False)
        await plain.generate_text("a")
        await limited.generate_text("b")
        await plain.generate_text("c")
        with pytest.raises(ClientRateLimitError):
            await limited.generate_text("d")
        with pytest.raises(ClientRateLimitError, match="beyond its timeout"):
            await plain.generate_text("e", options={"timeout": 1.0})  # plain waits by default, but not 60 s
        await limited.aclose()
        await plain.aclose()
    assert len(server.arrivals) == 3


async def test_tokens_are_settled_from_the_answers_usage() -> None:
    async with arrival_server() as server:
        server.usage_tokens = 3
        client = rate_client(server.url, RateLimits(tpm=1000, window=60.0, on_limit="raise"))
        await client.generate_text("count me", options={"max_tokens": 900})
        limiter = client.rate_limiter
        assert limiter is not None
        # Estimated at 900+ tokens before sending, settled at the 3 the answer used: 990 more fit.
        (await limiter.acquire(990, timeout=0)).release()
        await client.aclose()


# ------------------------------------------------------------------------------------------ review round 1 fixes


async def test_without_usage_the_answer_text_is_counted_not_max_tokens() -> None:
    async with arrival_server() as server:
        server.usage_tokens = None  # no usage reported: the estimate must not stand at max_tokens
        client = rate_client(server.url, RateLimits(tpm=1000, window=60.0, on_limit="raise"))
        request_text = "count me"
        answer = await client.generate_text(request_text, options={"max_tokens": 900})
        limiter = client.rate_limiter
        from tekton_llm_client.utils.token_counter import count_message_tokens, count_tokens

        used = count_message_tokens([{"role": "user", "content": request_text}], None) + count_tokens(answer.content)
        assert used < 30
        (await limiter.acquire(1000 - used, timeout=0)).release()  # prompt + answer counted: the rest fits
        with pytest.raises(ClientRateLimitError):
            await limiter.acquire(1000 - used + 1, timeout=0)  # and not one token more
        await client.aclose()


async def test_a_429_pauses_a_component_without_limits() -> None:
    async with arrival_server() as server:
        server.answer_429.append("30")
        client = rate_client(server.url, RateLimits(on_limit="raise"), max_retries=0)
        with pytest.raises(Exception) as refused:
            await client.generate_text("first")
        assert type(refused.value).__name__ == "RateLimitError"  # Rhetor's own 429
        with pytest.raises(ClientRateLimitError) as caught:
            await client.generate_text("second")  # paused: not sent at all
        await client.aclose()
    assert caught.value.reason == "paused"
    assert caught.value.retry_after is not None and 29.0 < caught.value.retry_after <= 30.0
    assert len(server.arrivals) == 1


async def test_after_a_429_without_limits_one_caller_goes_first_then_the_rest() -> None:
    async with arrival_server() as server:
        server.answer_429.append("0.2")
        client = rate_client(server.url, RateLimits(), max_retries=0)
        with pytest.raises(Exception, match="Too Many Requests"):
            await client.generate_text("refused")
        answers = await asyncio.gather(*(client.generate_text(f"q{i}") for i in range(5)))
        await client.aclose()
    assert len(answers) == 5
    refused, *after = server.arrivals
    assert refused.status == 429 and len(after) == 5
    first = min(after, key=lambda a: a.at)
    assert first.at >= refused.answered_at + 0.2  # nobody during the pause
    assert all(a.at >= first.answered_at for a in after if a is not first)  # the rest once the first was answered


async def test_retry_after_zero_is_honoured_not_a_one_second_pause() -> None:
    async with arrival_server() as server:
        server.answer_429.append("0")
        client = rate_client(server.url, RateLimits(rpm=100, window=60.0, on_limit="raise"), max_retries=0)
        with pytest.raises(Exception, match="Too Many Requests"):
            await client.generate_text("refused")
        answer = await client.generate_text("right away")  # raise mode: a 1 s pause would refuse this
        await client.aclose()
    assert answer.content == "answer to right away"


async def test_the_call_timeout_bounds_the_wait_and_the_attempt_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from tekton_llm_client._transport.http import HttpTransport

    sent: list[float | None] = []
    real = HttpTransport.request

    async def recording(self: HttpTransport, method: str, path: str, **kwargs: Any) -> Any:
        if method == "POST":
            sent.append(kwargs.get("timeout"))
        return await real(self, method, path, **kwargs)

    monkeypatch.setattr(HttpTransport, "request", recording)
    async with arrival_server() as server:
        server.hold_streams()
        client = rate_client(server.url, RateLimits(concurrency=1))
        stream = client.generate_text("holds the slot", streaming=True)
        await anext(stream)
        waiting = asyncio.ensure_future(client.generate_text("waits", options={"timeout": 5.0}))
        await until(lambda: client.rate_limiter.waiting == 1)
        await stream.aclose()  # frees the slot: the waiter goes in, having waited
        server.release_streams()
        answer = await waiting
        await client.aclose()
    assert answer.content == "answer to waits"
    [timeout] = sent
    assert timeout is not None and 0 < timeout < 5.0  # what the wait took is off the attempt's timeout


def _reasking(make_server: Any, make_client: Any, rpm: int) -> tuple[Any, Any]:
    """A classic server whose stream closes before any event (the client asks again without streaming), and a
    client allowed ``rpm`` admissions a minute."""
    server = make_server("classic")
    server.faults.close_after_chunks = 0
    client = make_client(
        server.url,
        component_id=component(),
        api="classic",
        transport="http",
        max_retries=0,
        rate_limits=RateLimits(rpm=rpm, window=60.0, on_limit="raise"),
    )
    return server, client


async def test_classic_reask_without_streaming_takes_a_second_admission(make_server: Any, make_client: Any) -> None:
    server, client = _reasking(make_server, make_client, rpm=1)
    with pytest.raises(ClientRateLimitError) as caught:
        [c async for c in client.generate_text("stream me", streaming=True)]
    assert caught.value.reason == "rpm"
    assert [r.body["streaming"] for r in server.requests if r.path == "/chat"] == [True]  # the re-ask not sent


async def test_classic_reask_goes_when_the_limit_has_room(make_server: Any, make_client: Any) -> None:
    _, client = _reasking(make_server, make_client, rpm=2)
    text = "".join([c.chunk async for c in client.generate_text("stream me", streaming=True)])
    assert "stream me" in text
    with pytest.raises(ClientRateLimitError):  # the stream and its re-ask took both admissions
        await client.rate_limiter.acquire(0, timeout=0)


async def test_the_switch_to_the_websocket_takes_a_second_admission(make_server: Any, make_client: Any) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(
        server.url,
        component_id=component(),
        api="v1",
        transport="auto",
        max_retries=0,
        rate_limits=RateLimits(rpm=1, window=60.0, on_limit="raise"),
    )
    with pytest.raises(ClientRateLimitError):
        await client.generate_text("switch")
    assert [r.path for r in server.requests if r.method == "POST"] == ["/api/v1/chat"]
    assert server.ws_frames == []  # the WebSocket request was not sent under the first admission


async def test_the_websocket_client_takes_permits_from_the_components_limiter(make_server: Any) -> None:
    from tekton_llm_client import TektonLLMWebSocketClient

    server = make_server("v1")
    name = component()
    client = TektonLLMWebSocketClient(
        name, server.ws_url, timeout=5.0, rate_limits=RateLimits(rpm=1, window=60.0, on_limit="raise")
    )
    http_client = TektonLLMClient(name, rhetor_url=server.url)
    assert client.rate_limiter._state is http_client.rate_limiter._state  # one limiter state per component
    try:
        assert "hello" in await client.generate("hello")
        with pytest.raises(ClientRateLimitError) as caught:
            await client.generate("one too many")
    finally:
        await client.close()
        await http_client.aclose()
    assert caught.value.reason == "rpm"
    assert len(server.ws_frames) == 1


if __name__ == "__main__":  # the benchmark's server in its own process: prints its port; at EOF on stdin, arrivals
    import sys

    serving = ArrivalServer().start()
    print(serving.port, flush=True)
    sys.stdin.read()
    print(json.dumps([arrival.at for arrival in serving.arrivals]), flush=True)
    serving.stop()
