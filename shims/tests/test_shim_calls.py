"""Migration progress from live traffic: every legacy method call counts once in ``tekton.shim.calls`` and the
GenAI spans it starts carry the same three ``tekton.*`` attributes.

The ``otel`` tests install an OpenTelemetry SDK (in-memory span exporter and metric reader) as the process-wide
providers, once per session, and talk to the Rhetor test server on a real socket. The ``no_otel`` test runs where
OpenTelemetry is not installed at all. The plain tests check the recorded names against the legacy surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import importlib
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from tekton_llm_client import TektonLLMClient
from tekton_llm_client.telemetry import recording
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims._common import ClientHolder
from tekton_llm_shims._shim_calls import LEGACY_CALL_ATTRIBUTE, legacy_call_names, records_legacy_calls

SHIM_KEYS = ("tekton.component", "tekton.shim.class", "tekton.shim.method")
Key = tuple[str, str, str]
Call = Callable[[Any], Awaitable[None]]


class Recorded:
    """The SDK installed as the global providers; counts and spans read (and drained) per test."""

    def __init__(self) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import Counter, MeterProvider
        from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        # Delta temporality: each read returns what was counted since the previous one.
        self.reader = InMemoryMetricReader(preferred_temporality={Counter: AggregationTemporality.DELTA})
        self.exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[self.reader]))

    def shim_calls(self) -> dict[Key, int]:
        """``tekton.shim.calls`` since the last read, by its three attributes (which must be all it carries)."""
        found: dict[Key, int] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name != "tekton.shim.calls":
                        continue
                    for point in metric.data.data_points:
                        attributes = dict(point.attributes or {})
                        assert set(attributes) == set(SHIM_KEYS), attributes
                        key = (attributes[SHIM_KEYS[0]], attributes[SHIM_KEYS[1]], attributes[SHIM_KEYS[2]])
                        found[key] = found.get(key, 0) + int(point.value)  # type: ignore[union-attr]
        return {key: value for key, value in found.items() if value}

    def generation_spans(self) -> list[Any]:
        """GenAI ``chat`` spans finished since the last read."""
        spans = self.exporter.get_finished_spans()
        self.exporter.clear()
        return [span for span in spans if span.attributes.get("gen_ai.operation.name") == "chat"]

    def drain(self) -> None:
        self.shim_calls()
        self.generation_spans()


@pytest.fixture(scope="session")
def recorded_session() -> Recorded:
    return Recorded()  # global providers can be set once per process


@pytest.fixture
def otel(recorded_session: Recorded) -> Iterator[Recorded]:
    recorded_session.drain()
    yield recorded_session
    recorded_session.drain()


def shim_attributes(span: Any) -> Key:
    return (span.attributes.get(SHIM_KEYS[0]), span.attributes.get(SHIM_KEYS[1]), span.attributes.get(SHIM_KEYS[2]))


MESSAGES = [{"role": "user", "content": "hello"}]
REQUIREMENT = {"id": "R1", "title": "Login", "description": "Users log in", "type": "functional", "priority": "high"}


async def _drain(iterator: Any) -> None:
    async for _ in iterator:
        pass


async def _stream_terma(adapter: Any) -> None:
    pieces: list[str] = []
    await adapter.stream_command_analysis("s", "ls -la", pieces.append)
    assert pieces and not pieces[0].startswith("Error")


async def _stream_hermes(adapter: Any) -> None:
    pieces: list[dict[str, Any]] = []
    await adapter.streaming_chat("hi", pieces.append)
    assert pieces[-1] == {"done": True} and len(pieces) > 1


async def _models(adapter: Any) -> None:
    listing = adapter.get_available_models()
    await listing  # the refresh from Rhetor belongs to this call: no second count


def _sync(method: str, *args: Any) -> Call:
    async def call(adapter: Any) -> None:
        getattr(adapter, method)(*args)

    return call


def _async(method: str, *args: Any) -> Call:
    async def call(adapter: Any) -> None:
        await getattr(adapter, method)(*args)

    return call


PROVIDER_CALLS: dict[str, tuple[Call, int]] = {
    "get_available_providers": (_async("get_available_providers"), 0),
    "get_current_provider_and_model": (_sync("get_current_provider_and_model"), 0),
    "set_provider_and_model": (_sync("set_provider_and_model", "anthropic", "claude-3-haiku-20240307"), 0),
}
CHAT_CALLS: dict[str, tuple[Call, int]] = {
    "chat": (_async("chat", MESSAGES), 1),
    "get_available_models": (_models, 0),
    "_stream_chat": (lambda adapter: _drain(adapter._stream_chat(MESSAGES)), 1),
    "_get_fallback_response": (_sync("_get_fallback_response"), 0),
}

# shim -> legacy method -> (a call of it, the GenAI spans it makes). Every legacy method has its entry.
CALLS: dict[str, dict[str, tuple[Call, int]]] = {
    "terma": {
        "add_message": (_sync("add_message", "s", "hi"), 0),
        "clear_context": (_sync("clear_context", "s"), 0),
        "_get_session_context": (_sync("_get_session_context", "s"), 0),
        "set_provider_and_model": (_sync("set_provider_and_model", "claude", "claude-3-haiku-20240307"), 0),
        "get_current_provider_and_model": (_sync("get_current_provider_and_model"), 0),
        "get_available_providers": (_async("get_available_providers"), 0),
        "analyze_command": (_async("analyze_command", "s", "ls"), 1),
        "analyze_output": (_async("analyze_output", "s", "ls", "a b"), 1),
        "get_terminal_help": (_async("get_terminal_help", "s", "list files"), 1),
        "stream_command_analysis": (_stream_terma, 1),
    },
    "hermes": {
        **PROVIDER_CALLS,
        "analyze_message": (_async("analyze_message", "ping"), 1),
        "analyze_service": (_async("analyze_service", {"name": "svc"}), 1),
        "chat": (_async("chat", "hi"), 1),
        "streaming_chat": (_stream_hermes, 1),
    },
    "telos": {
        **PROVIDER_CALLS,
        **CHAT_CALLS,
        "analyze_requirement": (_async("analyze_requirement", REQUIREMENT), 1),
        "refine_requirement": (_async("refine_requirement", "The system shall log in.", "be precise"), 1),
        "validate_requirements": (_async("validate_requirements", [REQUIREMENT], ["clear"]), 1),
        "detect_conflicts": (_async("detect_conflicts", [REQUIREMENT]), 1),
        "generate_acceptance_criteria": (_async("generate_acceptance_criteria", REQUIREMENT), 1),
        "_parse_requirement_analysis": (_sync("_parse_requirement_analysis", "Clarity: 4/5"), 0),
        "_parse_refined_requirement": (_sync("_parse_refined_requirement", "Title: x", REQUIREMENT), 0),
    },
    "engram": {
        **CHAT_CALLS,
        "analyze_memory": (_async("analyze_memory", "met Ana"), 1),
        "categorize_memory": (_async("categorize_memory", "met Ana", ["work", "personal"]), 1),
        "summarize_memories": (_async("summarize_memories", ["a", "b"]), 1),
        "_get_client": (_async("_get_client"), 0),
    },
}


def adapter_class(shim: str) -> Any:
    return importlib.import_module(f"tekton_llm_shims.{shim}").LLMAdapter


# -- the recorded names (no OpenTelemetry needed) ---------------------------------------------------------------


@pytest.mark.parametrize("shim", list(CALLS))
def test_every_legacy_method_records_itself_under_its_inventory_names(shim: str) -> None:
    cls = adapter_class(shim)

    assert legacy_call_names(cls) == set(CALLS[shim])  # a new legacy method needs its entry above
    for method in CALLS[shim]:
        assert getattr(getattr(cls, method), LEGACY_CALL_ATTRIBUTE) == (shim, "LLMAdapter", method)
    assert not hasattr(cls.aclose, LEGACY_CALL_ATTRIBUTE)  # the shims' own addition is not legacy traffic


# -- the wrapping, against a stand-in ``shim_call`` (no OpenTelemetry needed) ---------------------------------------

OPENED: contextvars.ContextVar[Key | None] = contextvars.ContextVar("opened", default=None)
"""The stand-in scope's names, where a GenAI span would read them."""
SET_BY_LEGACY: contextvars.ContextVar[str | None] = contextvars.ContextVar("set_by_legacy", default=None)


@records_legacy_calls
class Probe(ClientHolder):
    """A legacy surface of each kind, reporting what it sees."""

    _component_id = "probe"

    def sync(self) -> Key | None:
        return OPENED.get()

    async def remember(self, value: str) -> Key | None:
        SET_BY_LEGACY.set(value)
        return OPENED.get()

    async def stream(self, count: int = 2) -> AsyncGenerator[Key | None, None]:
        for _ in range(count):
            yield OPENED.get()

    async def chat(self, stream: bool = False) -> Key | AsyncGenerator[Key | None, None] | None:
        return self.stream() if stream else OPENED.get()


def probe(method: str) -> Key:
    return ("probe", "Probe", method)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], list[tuple[str, Key]]]:
    """Telemetry on or off with a ``shim_call`` honouring the contract (counts the outermost call, sets its names in
    a context variable): the events are its enters and exits; an exit from another context than the enter would
    raise (unraisable, failing the test)."""
    from tekton_llm_shims import _shim_calls

    events: list[tuple[str, Key]] = []

    @contextlib.contextmanager
    def outermost(key: Key) -> Iterator[None]:
        token = OPENED.set(key)
        events.append(("enter", key))
        try:
            yield
        finally:
            OPENED.reset(token)
            events.append(("exit", key))

    def shim_call(component: str, legacy_class: str, method: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if OPENED.get() else outermost((component, legacy_class, method))

    def switch(on: bool) -> list[tuple[str, Key]]:
        monkeypatch.setattr(_shim_calls, "shim_call", shim_call)
        monkeypatch.setattr(_shim_calls, "recording", lambda: on)
        return events

    return switch


@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_a_context_variable_a_legacy_coroutine_sets_reaches_its_caller(
    on: bool, stand_in: Callable[[bool], list[tuple[str, Key]]]
) -> None:
    events = stand_in(on)

    seen = await Probe().remember("set")

    assert SET_BY_LEGACY.get() == "set"  # as unwrapped: a coroutine runs in its caller's context, on or off
    assert seen == (probe("remember") if on else None)
    assert events == ([("enter", probe("remember")), ("exit", probe("remember"))] if on else [])


async def test_a_stream_reads_in_its_calls_scope_and_the_caller_between_chunks_does_not(
    stand_in: Callable[[bool], list[tuple[str, Key]]],
) -> None:
    events = stand_in(True)
    adapter = Probe()

    returned = await adapter.chat(stream=True)  # one call, whose stream is part of it
    assert isinstance(returned, AsyncGenerator)
    seen_between = []
    async for seen in returned:
        assert seen == probe("chat")
        seen_between.append(OPENED.get())
    assert [seen async for seen in adapter.stream()] == [probe("stream")] * 2
    closed = adapter.stream()
    assert await anext(closed) == probe("stream")
    await closed.aclose()
    unstarted = adapter.stream()
    del unstarted
    gc.collect()

    assert seen_between == [None, None]
    assert events == [
        (kind, probe(method)) for method in ("chat", "stream", "stream", "stream") for kind in ("enter", "exit")
    ]
    assert OPENED.get() is None


async def test_with_telemetry_off_a_stream_method_hands_back_its_own_generator(
    stand_in: Callable[[bool], list[tuple[str, Key]]],
) -> None:
    events = stand_in(False)
    adapter = Probe()

    stream = adapter.stream()
    returned = await adapter.chat(stream=True)

    assert isinstance(stream, AsyncGenerator) and isinstance(returned, AsyncGenerator)
    assert stream.ag_code is returned.ag_code is inspect.unwrap(Probe.stream).__code__  # type: ignore[attr-defined]
    assert [seen async for seen in stream] == [None, None]
    assert events == []
    await returned.aclose()


# -- live traffic -------------------------------------------------------------------------------------------------


@pytest.mark.otel
@pytest.mark.parametrize(("shim", "method"), [(shim, method) for shim, calls in CALLS.items() for method in calls])
async def test_a_legacy_call_counts_once_and_names_its_spans(
    shim: str, method: str, rhetor: RhetorTestServer, otel: Recorded
) -> None:
    adapter = adapter_class(shim)()
    call, spans = CALLS[shim][method]

    await call(adapter)

    key = (shim, "LLMAdapter", method)
    assert otel.shim_calls() == {key: 1}  # legacy methods the shim calls itself are part of this call
    generation = otel.generation_spans()
    assert [shim_attributes(span) for span in generation] == [key] * spans
    await adapter.aclose()


@pytest.mark.otel
async def test_chat_stream_is_one_chat_call_covering_the_iteration(rhetor: RhetorTestServer, otel: Recorded) -> None:
    adapter = adapter_class("telos")()

    stream = await adapter.chat(MESSAGES, stream=True)
    pieces = [piece async for piece in stream]

    assert len(pieces) > 1
    assert otel.shim_calls() == {("telos", "LLMAdapter", "chat"): 1}  # not _stream_chat, which chat returns
    (span,) = otel.generation_spans()
    assert shim_attributes(span) == ("telos", "LLMAdapter", "chat")
    assert span.attributes["gen_ai.request.stream"] is True
    await adapter.aclose()


@pytest.mark.otel
async def test_the_callers_context_is_untouched_between_chunks(rhetor: RhetorTestServer, otel: Recorded) -> None:
    engram, hermes = adapter_class("engram")(), adapter_class("hermes")()
    client = TektonLLMClient("probe", rhetor_url=rhetor.url)

    async with contextlib.aclosing(engram._stream_chat(MESSAGES)) as stream:
        async for _ in stream:
            # The caller's own work between two chunks is not part of the shim call: its legacy calls count, and
            # its own generations carry no shim attributes.
            hermes.get_current_provider_and_model()
            await client.generate_text("own request")
            break

    assert otel.shim_calls() == {
        ("engram", "LLMAdapter", "_stream_chat"): 1,
        ("hermes", "LLMAdapter", "get_current_provider_and_model"): 1,
    }
    spans = {span.attributes["tekton.component"]: span for span in otel.generation_spans()}
    assert shim_attributes(spans["engram"]) == ("engram", "LLMAdapter", "_stream_chat")
    assert shim_attributes(spans["probe"]) == ("probe", None, None)
    await client.aclose()
    await engram.aclose()


@pytest.mark.otel
async def test_abandoned_and_unstarted_streams_end_their_calls(rhetor: RhetorTestServer, otel: Recorded) -> None:
    adapter = adapter_class("telos")()
    client = TektonLLMClient("probe", rhetor_url=rhetor.url)

    stream = await adapter.chat(MESSAGES, stream=True)
    assert isinstance(await anext(stream), str)
    await stream.aclose()  # abandoned after one chunk
    unstarted = await adapter.chat(MESSAGES, stream=True)
    del unstarted
    gc.collect()  # its scope closes in its own context (an error there would fail the test: unraisable)
    await client.generate_text("after")  # and nothing of either call is left in this context

    assert otel.shim_calls() == {("telos", "LLMAdapter", "chat"): 2}
    spans = otel.generation_spans()
    assert [(span.attributes["tekton.component"], shim_attributes(span)[2]) for span in spans] == [
        ("telos", "chat"),
        ("probe", None),
    ]
    assert spans[0].attributes["tekton.stream.outcome"] == "abandoned"
    await client.aclose()
    await adapter.aclose()


@pytest.mark.otel
async def test_a_cancelled_stream_ends_its_call(rhetor: RhetorTestServer, otel: Recorded) -> None:
    adapter = adapter_class("engram")()
    rhetor.faults.chunk_delay = 60.0  # the second chunk never comes in this test's time
    first = asyncio.Event()

    async def read() -> None:
        async for _ in adapter._stream_chat(MESSAGES):
            first.set()

    task = asyncio.create_task(read())
    await first.wait()
    task.cancel()  # reaches the stream through the scope's steps
    with pytest.raises(asyncio.CancelledError):
        await task

    assert otel.shim_calls() == {("engram", "LLMAdapter", "_stream_chat"): 1}
    (span,) = otel.generation_spans()
    assert shim_attributes(span) == ("engram", "LLMAdapter", "_stream_chat")
    assert span.attributes["tekton.stream.outcome"] == "cancelled"  # the caller withdrew: not an error
    assert "error.type" not in span.attributes
    await adapter.aclose()


@pytest.mark.otel
async def test_concurrent_calls_and_a_failing_call(rhetor: RhetorTestServer, otel: Recorded) -> None:
    adapter = adapter_class("hermes")()
    telos = adapter_class("telos")()

    answers = await asyncio.gather(*(adapter.chat(f"question {n}") for n in range(5)))
    with pytest.raises(TypeError):
        await telos.analyze_requirement()  # a call that raises still counts, and ends
    telos.get_current_provider_and_model()

    assert all(answer["success"] for answer in answers)
    assert otel.shim_calls() == {
        ("hermes", "LLMAdapter", "chat"): 5,
        ("telos", "LLMAdapter", "analyze_requirement"): 1,
        ("telos", "LLMAdapter", "get_current_provider_and_model"): 1,
    }
    assert [shim_attributes(span) for span in otel.generation_spans()] == [("hermes", "LLMAdapter", "chat")] * 5
    await adapter.aclose()


@pytest.mark.parametrize(
    "telemetry", [pytest.param("on", marks=pytest.mark.otel), pytest.param("off", marks=pytest.mark.no_otel)]
)
async def test_a_legacy_call_leaves_its_context_variables_to_its_caller_on_and_off(
    telemetry: str, request: pytest.FixtureRequest
) -> None:
    recorded: Recorded | None = request.getfixturevalue("otel") if telemetry == "on" else None
    assert recording() is (recorded is not None)

    await Probe().remember("set")

    assert SET_BY_LEGACY.get() == "set"
    if recorded is not None:
        assert recorded.shim_calls() == {probe("remember"): 1}


# -- without OpenTelemetry ----------------------------------------------------------------------------------------


@pytest.mark.no_otel
async def test_shims_work_without_opentelemetry(rhetor: RhetorTestServer) -> None:
    with pytest.raises(ImportError):
        importlib.import_module("opentelemetry")
    hermes, telos = adapter_class("hermes")(), adapter_class("telos")()

    answer = await hermes.chat("hi")
    stream = await telos.chat(MESSAGES, stream=True)
    pieces = [piece async for piece in stream]
    own = telos._stream_chat(MESSAGES)
    streamed = [piece async for piece in own]

    assert answer["success"] is True and 'I received your message: "hi"' in answer["message"]
    assert own.ag_code is inspect.unwrap(type(telos)._stream_chat).__code__  # unwrapped while telemetry is off
    assert "".join(pieces) == "".join(streamed) and 'I received your message: "hello"' in "".join(pieces)
    assert telos.get_current_provider_and_model() == ("anthropic", "claude-3-haiku-20240307")
    await hermes.aclose()
    await telos.aclose()
