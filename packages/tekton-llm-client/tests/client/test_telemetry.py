"""OpenTelemetry GenAI spans, metrics and W3C context propagation over real sockets (issue 14 §1–6).

One global SDK tracer/meter provider per process (``telemetry_sdk.install``) with an in-memory exporter and a
delta metric reader; each test starts from a cleared exporter and reader and asserts attribute values."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from tekton_llm_client import ClientRateLimitError, LocalFallbackAdapter, RateLimits, ResponseCache
from tekton_llm_client import exceptions as exc
from tekton_llm_client.adapters import FALLBACK_TEXT
from tekton_llm_client.telemetry import CAPTURE_CONTENT_ENV, shim_call
from tekton_llm_client.testing import OllamaTestServer, closed_port

from .conftest import RawServers

pytestmark = pytest.mark.otel

ECHO = "I received your message:"
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


@pytest.fixture
def otel() -> Any:
    """The process's SDK providers, cleared for this test."""
    from .telemetry_sdk import install

    installed = install()
    installed.clear()
    return installed


def _hex(span: Any) -> tuple[str, str, str]:
    context = span.context
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{context.trace_flags:02x}"


def _traceparent(span: Any) -> str:
    trace_id, span_id, flags = _hex(span)
    return f"00-{trace_id}-{span_id}-{flags}"


def _ours(points: dict[str, list[Any]], name: str) -> list[Any]:
    return points.get(name, [])


def _events(span: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes or {})) for e in span.events]


# ------------------------------------------------------------------------------------------------ completion


async def test_a_completion_is_one_client_span_with_the_conventions_attributes(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    server = make_server("v1")
    client = make_client(server.url, component_id="hermes", model_id="claude-x", provider_id="anthropic")
    response = await client.generate_text("Hello", options={"temperature": 0.2, "max_tokens": 64, "top_p": 0.9})
    assert response.content.startswith(f'{ECHO} "Hello"')

    span = otel.span()
    assert span.name == "chat claude-x"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-x",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.response.model": "claude-x",
        "gen_ai.request.stream": False,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "tekton.component": "hermes",
        "tekton.request.id": response.request_id,
        "tekton.response.provider": response.provider,
        "tekton.dialect": "v1",
        "tekton.transport": "http",
        "tekton.attempts": 1,
        "tekton.fallback.link": "rhetor",
        "tekton.cache.hit": False,
    }
    assert span.events == ()

    points = otel.metrics()
    [duration] = _ours(points, "gen_ai.client.operation.duration")
    assert duration.count == 1
    assert 0 < duration.value <= (span.end_time - span.start_time) / 1e9
    assert duration.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-x",
        "gen_ai.response.model": "claude-x",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "tekton.component": "hermes",
        "tekton.fallback.link": "rhetor",
    }
    assert "gen_ai.client.operation.time_to_first_chunk" not in points  # streaming only
    assert "gen_ai.client.token.usage" not in points  # the test server reports no usage


async def test_traceparent_of_the_call_span_reaches_rhetor_on_every_http_request(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1")
    client = make_client(server.url)
    await client.generate_text("Hello")
    span = otel.span()
    # Detection (GET /health, discovery) and the generation all happen inside the call: all carry its context.
    sent = [(r.method, r.path, r.headers.get("traceparent")) for r in server.requests]
    assert {(m, p) for m, p, _ in sent} >= {("GET", "/health"), ("GET", "/api/v1/discovery"), ("POST", "/api/v1/chat")}
    assert sent[-1][:2] == ("POST", "/api/v1/chat")
    assert {t for _, _, t in sent} == {_traceparent(span)}


async def test_tracestate_and_the_callers_trace_are_continued(otel: Any, make_server: Any, make_client: Any) -> None:
    from opentelemetry import context, trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

    server = make_server("v1")
    client = make_client(server.url, api="v1")
    parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("tekton", "hermes")]),
    )
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        await client.generate_text("in a trace")
    finally:
        context.detach(token)
    span = otel.span()
    assert span.parent is not None and span.parent.span_id == 0xB7AD6B7169203331
    assert span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    [chat] = [r for r in server.requests if r.path == "/api/v1/chat"]
    assert chat.headers["traceparent"] == _traceparent(span)
    assert chat.headers["tracestate"] == "tekton=hermes"


async def test_a_stream_read_after_its_callers_span_ended_is_still_its_child(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    """A web framework's streaming response reads the stream after the handler (its span, the shim call) returned:
    the span starts from what was current when the stream was asked for."""
    from opentelemetry import trace

    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", component_id="hermes")
    with trace.get_tracer("tests").start_as_current_span("handler") as handler:
        with shim_call("hermes", "LLMAdapter", "generate_text"):
            stream = client.generate_text("read later", streaming=True)
            compat = client.stream_chat_completion([{"role": "user", "content": "also later"}])
    # read in a task started outside both, as a response body is
    text = await asyncio.create_task(stream.text())
    assert text.startswith(f'{ECHO} "read later"')
    assert [c async for c in compat][-1].choices[0].finish_reason == "stop"
    expected = handler.get_span_context()
    for span in otel.spans():
        assert span.parent is not None and span.parent.span_id == expected.span_id
        assert span.context.trace_id == expected.trace_id
        assert (span.attributes["tekton.shim.class"], span.attributes["tekton.shim.method"]) == (
            "LLMAdapter",
            "generate_text",
        )
    assert len(otel.spans()) == 2
    stream_requests = [r for r in server.requests if r.path == "/api/v1/chat/stream"]
    assert [r.headers["traceparent"] for r in stream_requests] == [_traceparent(s) for s in otel.spans()]


async def test_a_fastapi_streaming_response_is_traced_under_its_handler(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    """The shape the reviewer met: a handler returns the stream as a ``StreamingResponse``, whose body Starlette
    reads in a task of its own after the handler (and its span) returned."""
    import httpx
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from opentelemetry import trace

    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http")
    app = FastAPI()
    handlers: list[int] = []

    @app.get("/answer")
    async def answer() -> StreamingResponse:
        with trace.get_tracer("tests").start_as_current_span("handler") as span:
            handlers.append(span.get_span_context().span_id)
            stream = client.generate_text("for the browser", streaming=True)
        return StreamingResponse((chunk.chunk async for chunk in stream), media_type="text/plain")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as browser:
        body = (await browser.get("/answer")).text
    assert body.startswith(f'{ECHO} "for the browser"')
    span = otel.span()
    assert span.parent is not None and span.parent.span_id == handlers[0]
    assert span.attributes["tekton.stream.outcome"] == "completed"


async def test_the_provider_attribute_is_the_calls_so_one_server_is_one_series(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", model_id="m1")
    await client.generate_text("whole")
    await client.generate_text("streamed", streaming=True).text()
    spans = otel.spans()
    assert [s.attributes["gen_ai.provider.name"] for s in spans] == ["rhetor", "rhetor"]
    # v1's JSON answer names no provider, its stream does: once that changed the series, now it is span detail
    assert [s.attributes.get("tekton.response.provider") for s in spans] == [None, "simulated"]
    [duration] = _ours(otel.metrics(), "gen_ai.client.operation.duration")  # one series for both shapes
    assert (duration.count, duration.attributes["gen_ai.provider.name"]) == (2, "rhetor")
    assert "tekton.response.provider" not in duration.attributes


async def test_an_error_sets_error_type_and_status(otel: Any, make_server: Any, make_client: Any) -> None:
    from opentelemetry.trace import StatusCode

    server = make_server("v1")
    server.faults.fail_status, server.faults.fail_times = 401, 99
    client = make_client(server.url, api="v1", transport="http", model_id="m1")
    with pytest.raises(exc.AuthenticationError):
        await client.generate_text("denied")
    span = otel.span()
    assert span.attributes["error.type"] == "AuthenticationError"
    assert span.status.status_code is StatusCode.ERROR
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert span.attributes["tekton.attempts"] == 1
    [duration] = _ours(otel.metrics(), "gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "AuthenticationError"
    assert duration.count == 1


async def test_retries_are_events_on_the_one_span(otel: Any, make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    server.faults.fail_status, server.faults.fail_times = 503, 2
    client = make_client(server.url, api="classic", max_retries=3)
    response = await client.generate_text("flaky")
    assert response.fallback is False
    span = otel.span()
    assert span.attributes["tekton.attempts"] == 3
    assert _events(span) == [
        (
            "tekton.retry",
            {
                "tekton.attempt": n,
                "error.type": "ServiceUnavailableError",
                "tekton.transport": "http",
                "http.response.status_code": 503,
            },
        )
        for n in (1, 2)
    ]
    # every attempt went out in the same span's context
    assert [r.headers["traceparent"] for r in server.requests if r.path == "/chat"] == [_traceparent(span)] * 3


async def test_usage_becomes_span_attributes_and_token_histograms(
    otel: Any, raw_server: RawServers, make_client: Any
) -> None:
    body = json.dumps(
        {
            "content": "Hi",
            "model": "m1",
            "provider": "anthropic",
            "usage": {"prompt_tokens": 12, "completion_tokens": 7},
        }
    ).encode()
    server = await raw_server.start(lambda _r: raw_server.response(200, body))
    client = make_client(server.url, api="v1", transport="http", model_id="m1")
    assert (await client.generate_text("count me")).content == "Hi"
    span = otel.span()
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    assert span.attributes["gen_ai.usage.output_tokens"] == 7
    tokens = _ours(otel.metrics(), "gen_ai.client.token.usage")
    assert sorted((p.attributes["gen_ai.token.type"], p.value, p.count) for p in tokens) == [
        ("input", 12, 1),
        ("output", 7, 1),
    ]
    assert {p.attributes["gen_ai.response.model"] for p in tokens} == {"m1"}
    assert all("error.type" not in p.attributes for p in tokens)


async def test_a_cache_hit_is_a_span_without_metrics(otel: Any, make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, cache=ResponseCache())
    first = await client.generate_text("same question", options={"temperature": 0})  # temperature 0: cacheable
    second = await client.generate_text("same question", options={"temperature": 0})
    assert second.content == first.content
    misses, hits = otel.spans()
    assert misses.attributes["tekton.cache.hit"] is False
    assert hits.attributes["tekton.cache.hit"] is True
    assert "tekton.attempts" in hits.attributes and hits.attributes["tekton.attempts"] == 0
    [duration] = _ours(otel.metrics(), "gen_ai.client.operation.duration")
    assert duration.count == 1  # only the call that reached Rhetor
    assert server.attempts("/api/v1/chat") == 1


# ------------------------------------------------------------------------------------------------- streaming


async def test_a_stream_span_ends_with_the_stream_and_records_time_to_first_chunk(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", model_id="m1")
    stream = client.generate_text("Stream me", streaming=True)
    first = await anext(stream)
    assert first.chunk and otel.spans() == []  # still open while the caller reads
    rest = [c async for c in stream]
    assert rest[-1].done
    span = otel.span()
    attributes = span.attributes
    assert attributes["gen_ai.request.stream"] is True
    assert "tekton.stream" not in attributes
    assert attributes["tekton.stream.outcome"] == "completed"
    assert "gen_ai.response.finish_reasons" not in attributes  # the test server names no finish reason
    assert attributes["gen_ai.provider.name"] == "rhetor"  # the call named no provider
    assert attributes["tekton.response.provider"] == "simulated"
    ttfc = attributes["gen_ai.response.time_to_first_chunk"]
    assert 0 < ttfc < (span.end_time - span.start_time) / 1e9
    points = otel.metrics()
    [first_chunk] = _ours(points, "gen_ai.client.operation.time_to_first_chunk")
    assert first_chunk.count == 1 and first_chunk.value == pytest.approx(ttfc)
    assert first_chunk.attributes["gen_ai.request.model"] == "m1"
    [duration] = _ours(points, "gen_ai.client.operation.duration")
    assert duration.value > ttfc
    [stream_request] = [r for r in server.requests if r.path == "/api/v1/chat/stream"]
    assert stream_request.headers["traceparent"] == _traceparent(span)


async def test_a_broken_stream_ends_its_span_with_error_type(
    otel: Any, raw_server: RawServers, make_client: Any
) -> None:
    from opentelemetry.trace import StatusCode

    chunk = b'data: {"content": "Hello "}\n\n'
    server = await raw_server.start(lambda _r: [SSE_HEAD, chunk, b'data: {"content":"wor'])
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    received = []
    with pytest.raises(exc.IncompleteStreamError):
        async for c in client.generate_text("cut", streaming=True):
            received.append(c.chunk)
    assert received == ["Hello ", ""]
    span = otel.span()
    assert span.attributes["tekton.stream.outcome"] == "broken"
    assert span.attributes["error.type"] == "IncompleteStreamError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["gen_ai.response.finish_reasons"] == ("error",)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    [duration] = _ours(otel.metrics(), "gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "IncompleteStreamError"


async def test_a_stream_closed_by_the_caller_ends_its_span_as_abandoned(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    from opentelemetry.trace import StatusCode

    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http")
    stream = client.generate_text("a long answer " * 20, streaming=True)
    await anext(stream)
    await stream.aclose()
    span = otel.span()
    assert span.attributes["tekton.stream.outcome"] == "abandoned"
    assert "error.type" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
    [duration] = _ours(otel.metrics(), "gen_ai.client.operation.duration")
    assert "error.type" not in duration.attributes


async def test_a_stream_dropped_unread_ends_its_span_when_collected(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http")
    stream = client.generate_text("a long answer " * 20, streaming=True)
    await anext(stream)
    del stream  # the event loop's async-generator finalizer closes it
    await asyncio.wait_for(otel.ended(1), 5)  # a failure guard, not synchronisation: ended() wakes on the span's end
    assert otel.span().attributes["tekton.stream.outcome"] == "abandoned"


class _Held:
    """A raw HTTP server that sends ``parts`` and then holds the connection open until ``release``: a generation
    that stops mid-answer (or never answers), for as long as the test needs."""

    def __init__(self, parts: tuple[bytes, ...]) -> None:
        self.parts = parts
        self.received = asyncio.Event()
        self.release = asyncio.Event()
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.received.set()
        for part in self.parts:
            writer.write(part)
            await writer.drain()
        await self.release.wait()
        writer.close()


@pytest.fixture
async def held() -> Any:
    started: list[tuple[_Held, asyncio.Server]] = []

    async def start(*parts: bytes) -> _Held:
        server = _Held(parts)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
        started.append((server, listening))
        return server

    yield start
    for server, listening in started:
        server.release.set()
        listening.close()
        await listening.wait_closed()


def _assert_cancelled(otel: Any, *, stream: bool) -> None:
    """Cancelled: marked, no error, not a broken stream, no duration recorded (it would be the caller's deadline)."""
    from opentelemetry.trace import StatusCode

    span = otel.span()
    assert span.attributes["tekton.cancelled"] is True
    assert span.attributes.get("tekton.stream.outcome") == ("cancelled" if stream else None)
    assert "error.type" not in span.attributes
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.client.operation.duration" not in otel.metrics()


async def test_a_stream_whose_consuming_task_is_cancelled_ends_as_cancelled(
    otel: Any, held: Any, make_client: Any
) -> None:
    server = await held(SSE_HEAD, b'data: {"content": "Hello "}\n\n')
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    first = asyncio.Event()

    async def consume() -> None:
        async for _chunk in client.generate_text("then silence", streaming=True):
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _assert_cancelled(otel, stream=True)


async def test_a_stream_read_under_a_callers_timeout_ends_as_cancelled(otel: Any, held: Any, make_client: Any) -> None:
    server = await held(SSE_HEAD, b'data: {"content": "Hello "}\n\n')
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    stream = client.generate_text("then silence", streaming=True)
    assert (await anext(stream)).chunk == "Hello "
    with pytest.raises(asyncio.TimeoutError):  # the server sends nothing more until released: always expires
        await asyncio.wait_for(anext(stream), 0.01)
    _assert_cancelled(otel, stream=True)


async def test_a_cancelled_completion_ends_as_cancelled(otel: Any, held: Any, make_client: Any) -> None:
    server = await held()  # never answers
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    task = asyncio.create_task(client.generate_text("no answer comes"))
    await server.received.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _assert_cancelled(otel, stream=False)


async def test_streamed_usage_is_recorded(otel: Any, raw_server: RawServers, make_client: Any) -> None:
    events = [
        b'data: {"content": "Hi"}\n\n',
        b'data: {"content": "", "done": true, "usage": {"input_tokens": 3, "output_tokens": 2}}\n\n',
    ]
    server = await raw_server.start(lambda _r: [SSE_HEAD, *events])
    client = make_client(server.url, api="v1", transport="http")
    assert await client.generate_text("usage please", streaming=True).text() == "Hi"
    span = otel.span()
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (3, 2)


# ----------------------------------------------------------------------------------- fallback and transports


async def test_fallback_model_link(otel: Any, make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    server.faults.fail_status, server.faults.fail_times = 503, 2  # the primary model's two attempts
    adapter = LocalFallbackAdapter(fallback_models=["simulated-advanced"], max_retries=1)
    client = make_client(
        server.url, api="classic", use_fallback=True, adapter=adapter, model_id="primary", max_retries=1
    )
    response = await client.generate_text("fall to another model")
    assert response.fallback is False
    span = otel.span()
    assert span.name == "chat primary"
    assert span.attributes["tekton.fallback.link"] == "fallback_model"
    assert span.attributes["tekton.fallback.model"] == "simulated-advanced"
    assert span.attributes["tekton.attempts"] == 3
    assert _events(span) == [  # the primary's first attempt was retried
        (
            "tekton.retry",
            {
                "tekton.attempt": 1,
                "error.type": "ServiceUnavailableError",
                "tekton.transport": "http",
                "http.response.status_code": 503,
                "gen_ai.request.model": "primary",
            },
        )
    ]
    [fallbacks] = _ours(otel.metrics(), "tekton.fallbacks")
    assert (fallbacks.attributes, fallbacks.value) == (
        {"tekton.component": "test", "tekton.fallback.link": "fallback_model"},
        1,
    )


async def test_ollama_link(otel: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with OllamaTestServer() as ollama:
        monkeypatch.setenv("OLLAMA_URL", ollama.url)
        monkeypatch.setenv("OLLAMA_MODEL", "llama3")
        client = make_client(f"http://127.0.0.1:{closed_port()}", use_fallback=True, max_retries=0)
        response = await client.generate_text("help me")
    assert (response.fallback, response.provider) == (True, "ollama")
    span = otel.span()
    assert span.attributes["tekton.fallback.link"] == "ollama"
    assert span.attributes["gen_ai.provider.name"] == "rhetor"  # as the call started: one series per server
    assert span.attributes["tekton.response.provider"] == "ollama"
    assert span.attributes["gen_ai.response.model"] == "llama3"
    assert (span.attributes["server.address"], span.attributes["server.port"]) == ("127.0.0.1", ollama.port)
    assert span.attributes["tekton.attempts"] == 1
    points = otel.metrics()
    [fallbacks] = _ours(points, "tekton.fallbacks")
    assert (fallbacks.attributes["tekton.fallback.link"], fallbacks.value) == ("ollama", 1)
    [duration] = _ours(points, "gen_ai.client.operation.duration")
    assert duration.attributes["tekton.fallback.link"] == "ollama"
    assert (duration.attributes["server.port"], duration.attributes["gen_ai.provider.name"]) == (ollama.port, "rhetor")
    assert "tekton.response.provider" not in duration.attributes


async def test_local_link_streaming(otel: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    client = make_client(f"http://127.0.0.1:{closed_port()}", use_fallback=True, max_retries=0)
    assert await client.generate_text("anyone?", streaming=True).text() == FALLBACK_TEXT
    span = otel.span()
    assert span.attributes["tekton.fallback.link"] == "local"
    assert span.attributes["gen_ai.provider.name"] == "rhetor"
    assert span.attributes["tekton.response.provider"] == "local-fallback"
    assert span.attributes["tekton.stream.outcome"] == "completed"
    [fallbacks] = _ours(otel.metrics(), "tekton.fallbacks")
    assert (fallbacks.attributes["tekton.fallback.link"], fallbacks.value) == ("local", 1)


async def test_http_to_ws_switch_is_marked_counted_and_the_handshake_carries_traceparent(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url)
    await client.generate_text("hello as shipped")
    await client.generate_text("again")
    switched, after = otel.spans()
    assert switched.attributes["tekton.transport"] == "ws"
    assert switched.attributes["tekton.transport.switched"] is True
    assert after.attributes["tekton.transport"] == "ws"
    assert "tekton.transport.switched" not in after.attributes
    assert after.attributes["server.port"] == server.port
    [handshake] = [r for r in server.requests if r.method == "WEBSOCKET"]
    assert handshake.headers["traceparent"] == _traceparent(switched)
    [http_chat] = [r for r in server.requests if r.path == "/api/v1/chat"]
    assert http_chat.headers["traceparent"] == _traceparent(switched)
    [switches] = _ours(otel.metrics(), "tekton.transport.switches")
    assert (switches.attributes, switches.value) == ({"tekton.component": "test"}, 1)


async def test_breaker_openings_are_counted(otel: Any, make_client: Any) -> None:
    client = make_client(f"http://127.0.0.1:{closed_port()}", api="v1", max_retries=0, breaker_threshold=2)
    for _ in range(2):
        with pytest.raises(exc.ConnectionError):
            await client.generate_text("down")
    with pytest.raises(exc.ServiceUnavailableError, match="circuit open"):
        await client.generate_text("skipped")
    [openings] = _ours(otel.metrics(), "tekton.circuit_breaker.openings")
    assert (openings.attributes, openings.value) == ({"tekton.component": "test"}, 1)
    assert [s.attributes["error.type"] for s in otel.spans()] == [
        "ConnectionError",
        "ConnectionError",
        "ServiceUnavailableError",
    ]


async def test_rate_limit_refusals_are_counted_and_mark_the_span(otel: Any, make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    limits = RateLimits(rpm=1, window=60.0, on_limit="raise")
    client = make_client(server.url, api="v1", transport="http", component_id="otel-refused", rate_limits=limits)
    await client.generate_text("first")
    with pytest.raises(ClientRateLimitError):
        await client.generate_text("second")
    assert server.attempts("/api/v1/chat") == 1
    admitted, refused = otel.spans()
    assert "error.type" not in admitted.attributes
    assert refused.attributes["error.type"] == "ClientRateLimitError"
    assert refused.attributes["tekton.ratelimit.reason"] == "rpm"
    points = otel.metrics()
    [refusals] = _ours(points, "tekton.ratelimit.refusals")
    assert (refusals.attributes, refusals.value) == (
        {"tekton.component": "otel-refused", "tekton.ratelimit.reason": "rpm"},
        1,
    )
    assert "tekton.ratelimit.waits" not in points


async def test_rate_limit_waits_are_counted_with_the_time_waited(otel: Any, make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    limits = RateLimits(concurrency=1)
    client = make_client(server.url, api="v1", transport="http", component_id="otel-waited", rate_limits=limits)
    holder = client.generate_text("holds the one slot " * 10, streaming=True)
    await anext(holder)  # its answer began: the permit holds the only slot until the stream ends
    waiting = asyncio.create_task(client.generate_text("waits for the slot"))
    await otel.started(2)  # the second call's span started; it runs on into the limiter's queue
    assert client.rate_limiter.waiting == 1
    await holder.aclose()  # the slot is free: the waiting call is admitted
    await waiting
    held, waited = otel.spans()
    assert "tekton.ratelimit.wait" not in held.attributes
    assert waited.attributes["tekton.ratelimit.wait"] > 0
    assert server.attempts("/api/v1/chat") == 1
    [waits] = _ours(otel.metrics(), "tekton.ratelimit.waits")
    assert (waits.attributes, waits.value) == ({"tekton.component": "otel-waited"}, 1)


# ------------------------------------------------------------------------------------------- content, secrets


async def test_no_message_content_unless_opted_in_and_never_the_token(
    otel: Any, make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CAPTURE_CONTENT_ENV, raising=False)
    server = make_server("v1")
    client = make_client(server.url, auth_token="sk-live-TOKEN-7f3a")
    await client.generate_text("private words", system_prompt="Be brief.")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-live-TOKEN-7f3a"
    span = otel.span()
    values = [str(v) for v in span.attributes.values()] + [str(v) for e in span.events for v in e.attributes.values()]
    assert not [v for v in values if "private words" in v or "Be brief" in v or "TOKEN" in v]
    assert not {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"} & set(span.attributes)


async def test_message_content_when_opted_in(
    otel: Any, make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "True")
    server = make_server("v1")
    client = make_client(server.url, auth_token="sk-live-TOKEN-7f3a")
    response = await client.generate_text("private words", system_prompt="Be brief.")
    attributes = otel.span().attributes
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "private words"}]}
    ]
    assert json.loads(attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(attributes["gen_ai.output.messages"]) == [  # no finish_reason: the server names none
        {"role": "assistant", "parts": [{"type": "text", "content": response.content}]}
    ]
    assert not [v for v in attributes.values() if "TOKEN" in str(v)]


@pytest.mark.parametrize(
    ("value", "captured"),
    [
        ("true", True),
        ("SPAN_ONLY", True),
        ("span_and_event", True),
        (" Span_And_Event ", True),
        ("EVENT_ONLY", False),  # events only: the client emits no events
        ("NO_CONTENT", False),
        ("false", False),
        ("1", False),
    ],
)
async def test_content_capture_accepts_the_util_genai_modes(
    otel: Any, make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch, value: str, captured: bool
) -> None:
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, value)
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http")
    await client.generate_text("private words")
    attributes = otel.span().attributes
    assert ("gen_ai.input.messages" in attributes, "gen_ai.output.messages" in attributes) == (captured, captured)


async def test_finish_reason_is_the_answers_when_it_names_one(
    otel: Any, raw_server: RawServers, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "span_only")
    body = json.dumps({"content": "Hi", "model": "m1", "finish_reason": "length"}).encode()
    whole = await raw_server.start(lambda _r: raw_server.response(200, body))
    events = [b'data: {"content": "Hi"}\n\n', b'data: {"content": "", "done": true, "stop_reason": "max_tokens"}\n\n']
    streamed = await raw_server.start(lambda _r: [SSE_HEAD, *events])
    assert (await make_client(whole.url, api="v1", transport="http").generate_text("cut")).content == "Hi"
    client = make_client(streamed.url, api="v1", transport="http")
    assert await client.generate_text("cut", streaming=True).text() == "Hi"
    json_span, stream_span = otel.spans()
    assert json_span.attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert stream_span.attributes["gen_ai.response.finish_reasons"] == ("max_tokens",)
    assert [
        json.loads(s.attributes["gen_ai.output.messages"])[0]["finish_reason"] for s in (json_span, stream_span)
    ] == [
        "length",
        "max_tokens",
    ]


async def test_conversation_id_only_when_a_context_is_named(
    otel: Any, make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", component_id="hermes")
    monkeypatch.setenv("HERMES_CONTEXT_ID", "desk-7")
    configured = make_client(server.url, api="v1", transport="http", component_id="hermes")
    await client.generate_text("the component's default context")
    await client.generate_text("a named one", context_id="case-42")
    await configured.generate_text("the configured one")
    default, named, from_config = otel.spans()
    assert "gen_ai.conversation.id" not in default.attributes
    assert named.attributes["gen_ai.conversation.id"] == "case-42"
    assert from_config.attributes["gen_ai.conversation.id"] == "desk-7"


def test_a_sync_call_is_a_child_of_the_callers_span(otel: Any, make_server: Any) -> None:
    from opentelemetry import trace
    from tekton_llm_client import SyncTektonLLMClient

    server = make_server("v1")
    with SyncTektonLLMClient("sync-caller", rhetor_url=server.url, use_fallback=False) as client:
        with trace.get_tracer("tests").start_as_current_span("handle request") as parent:
            client.generate_text("hi")
    [span] = otel.spans()
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    assert server.requests[-1].headers["traceparent"] == _traceparent(span)


# ---------------------------------------------------------------------------------------------------- shims


async def test_shim_call_marks_spans_and_counts_the_outermost_legacy_call(
    otel: Any, make_server: Any, make_client: Any
) -> None:
    server = make_server("v1")
    client = make_client(server.url, component_id="hermes")
    with shim_call("hermes", "LLMAdapter", "analyze_message"):
        with shim_call("hermes", "LLMAdapter", "generate_text"):  # called by the outer legacy method
            await client.generate_text("analyze this")
    await client.generate_text("outside")
    inside, outside = otel.spans()
    assert {k: v for k, v in inside.attributes.items() if k.startswith("tekton.shim")} == {
        "tekton.shim.class": "LLMAdapter",
        "tekton.shim.method": "analyze_message",
    }
    assert not [k for k in outside.attributes if k.startswith("tekton.shim")]
    [calls] = _ours(otel.metrics(), "tekton.shim.calls")
    assert (calls.attributes, calls.value) == (
        {"tekton.component": "hermes", "tekton.shim.class": "LLMAdapter", "tekton.shim.method": "analyze_message"},
        1,
    )


async def test_shim_calls_counted_per_call(otel: Any) -> None:
    for _ in range(3):
        with shim_call("telos", "LLMAdapter", "analyze_requirements"):
            pass
    with shim_call("terma", "LLMAdapter", "get_available_providers"):
        pass
    calls = sorted(
        (p.attributes["tekton.component"], p.attributes["tekton.shim.method"], p.value)
        for p in _ours(otel.metrics(), "tekton.shim.calls")
    )
    assert calls == [("telos", "analyze_requirements", 3), ("terma", "get_available_providers", 1)]


# ------------------------------------------------------------------------------------- installed, no SDK set


def test_api_installed_but_no_sdk_configured_emits_and_sends_nothing_until_one_is_set() -> None:
    """A fresh interpreter: opentelemetry importable, no provider set — telemetry stays off and no traceparent goes
    out; an SDK provider configured later is picked up by the next call."""
    script = textwrap.dedent(
        """
        import asyncio, json
        from tekton_llm_client import TektonLLMClient, _telemetry
        from tekton_llm_client.telemetry import shim_call
        from tekton_llm_client.testing import RhetorTestServer

        async def main():
            with RhetorTestServer(profile="v1", chunk_delay=0.0) as server:
                async with TektonLLMClient("probe", rhetor_url=server.url, use_fallback=False) as client:
                    with shim_call("hermes", "LLMAdapter", "generate_text"):
                        await client.generate_text("hi")
                        await client.generate_text("hi", streaming=True).text()
                    off = (_telemetry.state.api, _telemetry.state.active is None)
                    before = len(server.requests)

                    from opentelemetry import trace
                    from opentelemetry.sdk.trace import TracerProvider
                    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
                    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

                    exporter = InMemorySpanExporter()
                    provider = TracerProvider()
                    provider.add_span_processor(SimpleSpanProcessor(exporter))
                    trace.set_tracer_provider(provider)
                    await client.generate_text("now traced")
                traced = ["traceparent" in r.headers for r in server.requests]
            ours = [s.name for s in exporter.get_finished_spans()
                    if s.instrumentation_scope.name == "tekton_llm_client"]
            print(json.dumps({"off": off, "before": before, "traced": traced, "spans": ours}))

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["off"] == [True, True]
    before = seen["before"]
    assert before >= 2 and seen["traced"][:before] == [False] * before
    assert seen["traced"][before:] == [True]
    assert seen["spans"] == ["chat"]
