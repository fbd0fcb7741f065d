"""OpenTelemetry plumbing: the one place that imports ``opentelemetry``, lazily, and only its API.

Free when off. The request path tests ``state.api is not False`` before anything else, so with OpenTelemetry
absent a call pays attribute checks and no function call; with the API installed but no SDK, ``current()`` asks the
API's public getters for the global providers and finds its stand-ins (a handful of calls). Once an SDK tracer or
meter provider is configured — also after the first request — ``state.active`` holds a :class:`Telemetry` for the
rest of the process (a global provider cannot be replaced).

A stream's span starts when the caller first reads it, which may be after the code that asked for it returned
(a web framework's streaming response, another task): :func:`caller` takes the OpenTelemetry context and the shim
call when the stream is asked for, and the span starts from those.

A generation call is one :class:`Call`: one ``chat {model}`` CLIENT span and its metrics. While the pipeline opens
the answer the call is entered (``Call.enter``): its span is the current OpenTelemetry span — so the transports'
``inject`` sends its W3C ``traceparent`` — and ``CALL`` names it, so the pipeline can note attempts, transport,
fallback link and rate-limit waits. Both are reset before any text reaches the caller. Retries are span events
(``tekton.retry``), not child spans: the conventions' inference span covers the logical call with all its retries.
"""

from __future__ import annotations

import json
import os
import time
from asyncio import CancelledError
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar, Token
from functools import lru_cache
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping

    from opentelemetry.context import Context
    from opentelemetry.metrics import Counter, Histogram, Meter
    from opentelemetry.trace import Span, Tracer

    from ._request import LLMRequest

__all__ = [
    "CALL",
    "CAPTURE_CONTENT_ENV",
    "INSTRUMENTATION_NAME",
    "Call",
    "Caller",
    "Telemetry",
    "caller",
    "current",
    "inject",
    "shim_call",
    "state",
]

#: The GenAI instrumentations' opt-in for prompt and answer text on spans.
CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
#: The instrumentation scope of every span and metric of the client.
INSTRUMENTATION_NAME: Final = "tekton_llm_client"

# Semantic-conventions (v1.41) advisory bucket boundaries.
_SECONDS_BUCKETS: Final = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
_TOKEN_BUCKETS: Final = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]

# Request options that map onto gen_ai.request.* attributes (those sent in ``LLMRequest.extra``).
_EXTRA_PARAMETERS: Final = ("top_k", "presence_penalty", "frequency_penalty", "seed")


_Getter = Callable[[], object]


class _State:
    """Process-wide: whether the API is importable (``None`` = not tried yet); once imported, its two public
    global-provider getters and the provider types that mean "no SDK configured"; the active telemetry."""

    __slots__ = ("active", "api", "getters", "unset")

    def __init__(self) -> None:
        self.active: Telemetry | None = None
        self.api: bool | None = None
        self.getters: tuple[_Getter, _Getter] = (object, object)
        self.unset: tuple[tuple[type, ...], tuple[type, ...]] = ((), ())


state = _State()

#: The call whose answer is being opened in this context (set only while telemetry is on).
CALL: ContextVar[Call | None] = ContextVar("tekton_llm_client_call", default=None)
#: The legacy adapter call (``tekton.component``, ``tekton.shim.class``, ``tekton.shim.method``) a span runs in.
_SHIM: ContextVar[dict[str, str] | None] = ContextVar("tekton_llm_client_shim", default=None)


def current() -> Telemetry | None:
    """The active telemetry, or ``None`` while there is nothing to emit to; a provider set later is picked up by
    the next call.

    Callers on the request path test ``state.api is not False`` first, so an absent OpenTelemetry costs no call.
    With the API but no SDK, the API's public getters name the global providers: a provider that is neither the
    API's stand-in nor a no-op one (also one named by ``OTEL_PYTHON_*_PROVIDER``) activates."""
    active = state.active
    if active is not None:
        return active
    if state.api is not True and (state.api is False or not _import_api()):
        return None
    unset_tracer, unset_meter = state.unset
    if isinstance(state.getters[0](), unset_tracer) and isinstance(state.getters[1](), unset_meter):
        return None
    return _activate()


def _import_api() -> bool:
    """Import the OpenTelemetry API once; ``False`` (remembered) when it is not installed."""
    try:
        from opentelemetry import metrics, trace
        from opentelemetry.metrics import NoOpMeterProvider
        from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider
    except ImportError:
        state.api = False
        return False
    # The meter API's stand-in until an SDK provider is set has no public name (the tracer's has); should it move,
    # the stand-in counts as configured: telemetry turns on and records nothing until an SDK is set.
    internal: ModuleType | None = getattr(metrics, "_internal", None)
    proxy = getattr(internal, "_ProxyMeterProvider", None)
    unset_meter: tuple[type, ...] = (NoOpMeterProvider,) if proxy is None else (NoOpMeterProvider, proxy)
    state.unset = ((ProxyTracerProvider, NoOpTracerProvider), unset_meter)
    state.getters = (trace.get_tracer_provider, metrics.get_meter_provider)
    state.api = True
    return True


def _activate() -> Telemetry:
    """A :class:`Telemetry` on the global providers, for the rest of the process (they cannot be replaced)."""
    from opentelemetry import metrics, trace

    from . import __version__

    state.active = Telemetry(
        trace.get_tracer(INSTRUMENTATION_NAME, __version__),
        metrics.get_meter(INSTRUMENTATION_NAME, __version__),
    )
    return state.active


def inject(carrier: MutableMapping[str, str]) -> None:
    """Add the current span's W3C ``traceparent``/``tracestate`` (the globally configured propagator) to headers.

    Callers check ``state.active is not None`` first, so this is never reached while telemetry is off."""
    active = state.active
    if active is not None:
        active.inject(carrier)


#: The values of ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` that put text on spans (any case): the
#: instrumentations' boolean and opentelemetry-util-genai's modes that include spans (``EVENT_ONLY`` does not; the
#: client emits no events).
CAPTURE_ON: Final = frozenset({"true", "span_only", "span_and_event"})


def capture_content() -> bool:
    """Whether prompt and answer text may be recorded (the GenAI instrumentations' opt-in)."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in CAPTURE_ON


class Caller:
    """Where a call was made: the OpenTelemetry context (the span's parent) and the shim call it ran in, taken
    when the call is made — a stream's span starts later, when it is first read, possibly elsewhere."""

    __slots__ = ("context", "shim", "telemetry")

    def __init__(self, telemetry: Telemetry, context: Context, shim: dict[str, str] | None) -> None:
        self.telemetry = telemetry
        self.context = context
        self.shim = shim

    def call(self, request: LLMRequest, *, component: str, server_url: str) -> Call:
        """Start the span of one generation call, as a child of the caller's context."""
        return Call(self, request, component=component, server_url=server_url)


def caller() -> Caller | None:
    """The caller's context while telemetry is on, else ``None`` (callers test ``state.api is not False`` first)."""
    active = current()
    if active is None:
        return None
    return Caller(active, active.get_current(), _SHIM.get())


# ------------------------------------------------------------------------------------------------ shim calls


class _ShimCall:
    """The legacy call's attributes as the context of every GenAI span started inside it."""

    __slots__ = ("attributes", "token")

    def __init__(self, attributes: dict[str, str]) -> None:
        self.attributes = attributes
        self.token: Token[dict[str, str] | None] | None = None

    def __enter__(self) -> None:
        self.token = _SHIM.set(self.attributes)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.token is not None:
            _SHIM.reset(self.token)
            self.token = None


_OFF: Final = nullcontext()


def shim_call(component: str, legacy_class: str, method: str) -> AbstractContextManager[None]:
    """Mark a legacy adapter call: counts ``tekton.shim.calls`` {``tekton.component``, ``tekton.shim.class``,
    ``tekton.shim.method``} and puts the same attributes on every GenAI span started inside the block.

    Names equal ``tekton-migrate inventory --json``'s (component ``"hermes"``, class as imported from
    ``<component>.core.llm_adapter``, method name), so static inventory and live traffic join. A shim method
    called from inside another shim call is part of the outer call: only the outermost is counted. Costs one
    check when telemetry is off."""
    telemetry = None if state.api is False else current()
    if telemetry is None or _SHIM.get() is not None:
        return _OFF
    attributes = {"tekton.component": component, "tekton.shim.class": legacy_class, "tekton.shim.method": method}
    telemetry.shim_calls.add(1, attributes)
    return _ShimCall(attributes)


# ---------------------------------------------------------------------------------------------- instruments


@lru_cache(maxsize=32)
def _server(url: str) -> tuple[str, int]:
    """``server.address`` and ``server.port`` of a (credential-free) URL."""
    parts = urlsplit(url)
    default = 443 if parts.scheme in ("https", "wss") else 80
    return parts.hostname or "", parts.port or default


class Telemetry:
    """The tracer and instruments of the client (one set per process)."""

    def __init__(self, tracer: Tracer, meter: Meter) -> None:
        from opentelemetry import context, propagate, trace
        from opentelemetry.trace import SpanKind, StatusCode

        self.tracer = tracer
        # The API functions a call uses, looked up once (an import statement costs calls on every execution).
        self.attach = context.attach
        self.detach = context.detach
        self.get_current = context.get_current
        self.in_context = trace.set_span_in_context
        self.inject = propagate.inject
        self.client_kind = SpanKind.CLIENT
        self.error_status = StatusCode.ERROR
        self.duration: Histogram = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
        )
        self.token_usage: Histogram = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self.time_to_first_chunk: Histogram = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streaming answer",
            explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
        )
        self.fallbacks: Counter = meter.create_counter(
            "tekton.fallbacks", unit="{answer}", description="Answers served by a fallback link, by link"
        )
        self.transport_switches: Counter = meter.create_counter(
            "tekton.transport.switches", unit="{switch}", description="Generation moved from HTTP to WebSocket"
        )
        self.breaker_openings: Counter = meter.create_counter(
            "tekton.circuit_breaker.openings", unit="{opening}", description="Circuit breaker opened (Rhetor skipped)"
        )
        self.ratelimit_waits: Counter = meter.create_counter(
            "tekton.ratelimit.waits", unit="{request}", description="Requests that waited for the client rate limit"
        )
        self.ratelimit_refusals: Counter = meter.create_counter(
            "tekton.ratelimit.refusals", unit="{request}", description="Requests refused by the client rate limit"
        )
        self.shim_calls: Counter = meter.create_counter(
            "tekton.shim.calls", unit="{call}", description="Calls of legacy adapter methods through the shims"
        )


# ---------------------------------------------------------------------------------------------------- a call


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


def _message_parts(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "content": text}]


def _input_messages(request: LLMRequest) -> str:
    return json.dumps(
        [{"role": m.get("role", "user"), "parts": _message_parts(m.get("content", ""))} for m in request.messages],
        ensure_ascii=False,
    )


def finish_reason(raw: Mapping[str, Any] | None) -> str | None:
    """The finish reason an answer's last event names (``finish_reason``; Anthropic's ``stop_reason``, Ollama's
    ``done_reason``), else ``None``: Rhetor's generations send none today, and none is invented."""
    if raw:
        for name in ("finish_reason", "stop_reason", "done_reason"):
            value = raw.get(name)
            if isinstance(value, str) and value:
                return value
    return None


class Call:
    """One generation call: its ``chat {model}`` span, what the pipeline noted, and its metrics at the end."""

    __slots__ = (
        "_context_token",
        "_ended",
        "_first_at",
        "_metric_attributes",
        "_parent",
        "_started",
        "attempts",
        "capture",
        "component",
        "finish_reason",
        "link",
        "request",
        "span",
        "telemetry",
        "transport",
    )

    def __init__(self, caller: Caller, request: LLMRequest, *, component: str, server_url: str) -> None:
        telemetry = caller.telemetry
        self.telemetry = telemetry
        self.request = request
        self.component = component
        self.attempts = 0
        self.link = "rhetor"
        self.transport: str | None = None
        self.finish_reason: str | None = None
        self.capture = capture_content()
        self._ended = False
        self._first_at: float | None = None
        self._context_token: tuple[Token[Call | None], Token[Context]] | None = None
        self._parent = caller.context
        address, port = _server(server_url)
        model = request.model
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            # Set once, here: the provider the call asks for, else Rhetor (the server the client talks to). The
            # provider an answer names goes to ``tekton.response.provider``, so one server is one metric series.
            "gen_ai.provider.name": request.provider or "rhetor",
            "server.address": address,
            "server.port": port,
            "tekton.component": component,
        }
        if model:
            attributes["gen_ai.request.model"] = model
        self._metric_attributes = dict(attributes)
        attributes.update(self._request_attributes(request))
        if caller.shim is not None:
            attributes.update(caller.shim)
        self.span: Span = telemetry.tracer.start_span(
            f"chat {model}" if model else "chat",
            context=caller.context,
            kind=telemetry.client_kind,
            attributes=attributes,
        )
        self._started = time.perf_counter()

    def _request_attributes(self, request: LLMRequest) -> dict[str, Any]:
        attributes: dict[str, Any] = {"tekton.request.id": request.request_id, "gen_ai.request.stream": request.stream}
        for name in ("temperature", "max_tokens", "top_p"):
            value = getattr(request, name)
            if value is not None:
                attributes[f"gen_ai.request.{name}"] = value
        for name in _EXTRA_PARAMETERS:
            value = request.extra.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attributes[f"gen_ai.request.{name}"] = value
        if request.stop:
            attributes["gen_ai.request.stop_sequences"] = list(request.stop)
        if request.context_id and request.context_id != request.component:  # the component's is the default
            attributes["gen_ai.conversation.id"] = request.context_id
        if self.capture:
            attributes["gen_ai.input.messages"] = _input_messages(request)
            if request.system_prompt:
                attributes["gen_ai.system_instructions"] = json.dumps(
                    _message_parts(request.system_prompt), ensure_ascii=False
                )
        return attributes

    # -- while the answer is being opened ---------------------------------------------------------------------

    def enter(self) -> None:
        """Make this call's span current (for ``traceparent``) and this call the pipeline's ``CALL``."""
        telemetry = self.telemetry
        token = CALL.set(self)
        self._context_token = (token, telemetry.attach(telemetry.in_context(self.span, self._parent)))

    def exit(self) -> None:
        """Undo :meth:`enter` (before anything is handed to the caller)."""
        tokens, self._context_token = self._context_token, None
        if tokens is not None:
            call_token, otel_token = tokens
            self.telemetry.detach(otel_token)
            CALL.reset(call_token)

    def attempted(
        self, number: int, error: BaseException | None, *, transport: str, dialect: str | None, model: str | None
    ) -> None:
        """An attempt at Rhetor ended; one that failed and will be retried becomes a ``tekton.retry`` event (with
        the model it asked for: the adapter's fallback models are attempts of the same call)."""
        self.attempts += 1
        self.transport = transport
        if dialect is not None:
            self.span.set_attribute("tekton.dialect", dialect)
        if error is not None:
            attributes: dict[str, Any] = {
                "tekton.attempt": number + 1,
                "error.type": _error_type(error),
                "tekton.transport": transport,
            }
            status = getattr(error, "status_code", None)
            if isinstance(status, int):
                attributes["http.response.status_code"] = status
            if model:
                attributes["gen_ai.request.model"] = model
            self.span.add_event("tekton.retry", attributes)

    def switched(self, server_url: str) -> None:
        """This call moved generation from HTTP to the WebSocket."""
        self.span.set_attribute("tekton.transport.switched", True)
        address, port = _server(server_url)
        self.span.set_attributes({"server.address": address, "server.port": port})
        self._metric_attributes.update({"server.address": address, "server.port": port})

    def served_by(self, link: str, model: str | None = None, *, server_url: str | None = None) -> None:
        """A fallback link answered: ``fallback_model`` (``model`` through Rhetor), ``ollama`` (at ``server_url``,
        which becomes ``server.address``/``server.port``) or ``local``."""
        self.link = link
        if model is not None:
            self.span.set_attribute("tekton.fallback.model", model)
        if server_url is not None:
            address, port = _server(server_url)
            self.span.set_attributes({"server.address": address, "server.port": port})
            self._metric_attributes.update({"server.address": address, "server.port": port})
        self.telemetry.fallbacks.add(1, {"tekton.component": self.component, "tekton.fallback.link": link})

    def rate_limited(self, waited: float | None, *, reason: str | None = None) -> None:
        """The client's rate limiter made this call wait ``waited`` seconds, or refused it (``None``, with the
        limiter's ``reason``: ``rpm``, ``tpm``, ``concurrency``, ``paused``, ``paced`` or ``queue``)."""
        attributes = {"tekton.component": self.component}
        if waited is None:
            if reason:
                attributes["tekton.ratelimit.reason"] = reason
                self.span.set_attribute("tekton.ratelimit.reason", reason)
            self.telemetry.ratelimit_refusals.add(1, attributes)
        elif waited > 0:
            self.span.set_attribute("tekton.ratelimit.wait", waited)
            self.telemetry.ratelimit_waits.add(1, attributes)

    # -- the answer -------------------------------------------------------------------------------------------

    def first_chunk(self) -> None:
        """The first text of a streaming answer arrived."""
        self._first_at = time.perf_counter()

    def end(
        self,
        *,
        model: str | None = None,
        provider: str | None = None,
        usage: Mapping[str, Any] | None = None,
        text: str | None = None,
        error: BaseException | None = None,
        outcome: str = "completed",
        cache_hit: bool = False,
    ) -> None:
        """End the span (once) and record the call's metrics.

        ``outcome`` is ``completed``, ``broken`` (``error`` given) or ``abandoned`` (the caller stopped reading);
        a cache hit sent nothing, so it is a span without metrics. A call ended by ``CancelledError`` (the
        caller's task cancelled, its timeout expired) is ``cancelled``: the caller withdrew it, no failure of the
        call — no ``error.type``, status unset, ``tekton.cancelled`` — and its duration, the caller's deadline
        rather than the call's, is not recorded."""
        if self._ended:
            return
        self._ended = True
        elapsed = time.perf_counter() - self._started
        attributes = self._metric_attributes
        cancelled = isinstance(error, CancelledError)
        if cancelled:
            error, outcome = None, "cancelled"
            self.span.set_attribute("tekton.cancelled", True)
        if provider:
            self.span.set_attribute("tekton.response.provider", provider)
        if model:
            attributes["gen_ai.response.model"] = model
        if error is not None:
            attributes["error.type"] = _error_type(error)
            message = getattr(error, "message", None)  # the client's errors carry a log-safe message
            self.span.set_status(self.telemetry.error_status, message if isinstance(message, str) else None)
        from .budget import usage_tokens  # the client's one usage parser

        input_tokens, output_tokens, _ = usage_tokens(usage)
        self.span.set_attributes(
            {
                **attributes,
                **self._call_attributes(outcome, cache_hit),
                **self._answer_attributes(error, outcome, text, input_tokens, output_tokens),
            }
        )
        self.span.end()
        if not (cache_hit or cancelled):
            self._record(attributes, elapsed, input_tokens, output_tokens)

    def _call_attributes(self, outcome: str, cache_hit: bool) -> dict[str, Any]:
        """The ``tekton.*`` attributes of how the call went."""
        attributes: dict[str, Any] = {
            "tekton.attempts": self.attempts,
            "tekton.fallback.link": self.link,
            "tekton.cache.hit": cache_hit,
        }
        if self.transport is not None:
            attributes["tekton.transport"] = self.transport
        if self.request.stream:
            attributes["tekton.stream.outcome"] = outcome
        if self._first_at is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = self._first_at - self._started
        return attributes

    def _answer_attributes(
        self,
        error: BaseException | None,
        outcome: str,
        text: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
    ) -> dict[str, Any]:
        """Finish reason (the answer's, when it names one; ``error`` for a broken stream), usage and (opted in) the
        answer's text."""
        attributes: dict[str, Any] = {}
        reason = self.finish_reason
        if outcome == "broken":
            attributes["gen_ai.response.finish_reasons"] = ["error"]
        elif error is None and outcome == "completed":
            if reason is not None:
                attributes["gen_ai.response.finish_reasons"] = [reason]
            if self.capture and text is not None:
                message: dict[str, Any] = {"role": "assistant", "parts": _message_parts(text)}
                if reason is not None:
                    message["finish_reason"] = reason
                attributes["gen_ai.output.messages"] = json.dumps([message], ensure_ascii=False)
        if input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = input_tokens
        if output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = output_tokens
        return attributes

    def _record(
        self, attributes: dict[str, Any], elapsed: float, input_tokens: int | None, output_tokens: int | None
    ) -> None:
        telemetry = self.telemetry
        attributes["tekton.fallback.link"] = self.link
        telemetry.duration.record(elapsed, attributes)
        if self._first_at is not None:
            telemetry.time_to_first_chunk.record(self._first_at - self._started, attributes)
        tokens = {k: v for k, v in attributes.items() if k != "error.type"}
        if input_tokens is not None:
            telemetry.token_usage.record(input_tokens, {**tokens, "gen_ai.token.type": "input"})
        if output_tokens is not None:
            telemetry.token_usage.record(output_tokens, {**tokens, "gen_ai.token.type": "output"})


def count(counter: str, attributes: Mapping[str, Any]) -> None:
    """Add one to a ``Telemetry`` counter by attribute name (``transport_switches``, ``breaker_openings``)."""
    active = state.active
    if active is not None:
        instrument: Counter = getattr(active, counter)
        instrument.add(1, attributes)
