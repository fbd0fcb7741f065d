"""The one path of a generation request, for completion and streaming alike.

    circuit breaker → retry policy → dialect over a transport (HTTP JSON, HTTP SSE or WebSocket)
      → the adapter's fallback models through Rhetor → the fallback chain (Ollama → local canned answer)

``Pipeline.open`` runs everything up to and including an answer's first event and returns an :class:`Answer`
(that event plus the iterator of the rest). Only the opening is retried, so nothing is retried once a caller has
seen text. The HTTP→WebSocket switch, empty-answer handling and the fallback chain each live here, once; the call
shapes (``CompletionResponse``, ``TextStream``) are made from an ``Answer`` in ``_generation.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING

from . import _telemetry as telemetry
from . import exceptions as exc
from ._breaker import CircuitBreaker
from ._dialects import DIALECTS, HttpDialect
from ._events import notify_fallback
from ._request import LLMRequest, StreamEvent, new_request_id
from ._transport.http import HttpTransport
from ._urls import safe_url
from .adapters.base import FallbackLink
from .adapters.fallback import LocalFallbackAdapter
from .config import ClientConfig
from .utils.retries import RetryPolicy

if TYPE_CHECKING:  # imported lazily at run time: websockets costs import time
    from ._ratelimit import Permit, RateLimiter
    from ._transport.ws import CloseCallback, WebSocketTransport

__all__ = ["Answer", "Pipeline", "first_event", "ws_transport"]

logger = logging.getLogger("tekton_llm_client")

_ROUTE_MISSING = (405, 501)
# What v1 as shipped answers on its HTTP generation routes (rhetor-protocol.md §4.4, §4.5, §12.1), word for word:
# the router method the route calls does not exist. Only these move generation to the WebSocket; a transient 500 of
# a healthy server (whatever its text) does not.
_AS_SHIPPED_MESSAGES = frozenset(
    {
        "ModelRouter.route_request() got an unexpected keyword argument 'messages'",  # POST /api/v1/chat: 500
        "'ModelRouter' object has no attribute 'route_request_stream'",  # POST /api/v1/chat/stream: error event
    }
)


def ws_transport(
    current: WebSocketTransport | None,
    config: ClientConfig,
    dialect: str,
    *,
    frame_timeout: float,
    close_timeout: float | None = None,
    on_close: CloseCallback | None = None,
) -> WebSocketTransport:
    """``current`` speaking ``dialect``, or a new transport to ``config.ws_url`` — the one place a WebSocket
    transport is built (``Pipeline.ws`` and ``TektonLLMWebSocketClient`` alike)."""
    from ._dialects.ws_frames import codec_for
    from ._transport.ws import WebSocketTransport

    if current is None:
        options = {} if close_timeout is None else {"close_timeout": close_timeout}
        return WebSocketTransport(
            config.ws_url,
            codec_for(dialect, config.component_id),
            authorization=config.authorization(ws=True),
            open_timeout=config.connect_timeout,
            frame_timeout=frame_timeout,
            on_close=on_close,
            **options,
        )
    if current.codec.dialect != dialect:
        current.codec = codec_for(dialect, config.component_id)
    return current


class Answer:
    """An answer whose first event has arrived: ``first``, then ``rest`` (ending with one ``done`` event).

    ``permit`` is the rate limiter's hold on an answer from Rhetor: kept until the answer ends, then settled with
    its usage (``settle``) and released (``aclose``, or ``release`` for an answer with nothing more to read)."""

    __slots__ = ("first", "permit", "rest")

    def __init__(self, first: StreamEvent, rest: AsyncGenerator[StreamEvent, None] | None = None) -> None:
        self.first = first
        self.rest = rest
        self.permit: Permit | None = None

    def settle(self, tokens: int | None) -> None:
        """The answer's real token usage replaces the rate limiter's estimate (``None`` keeps the estimate)."""
        if self.permit is not None:
            self.permit.settle(tokens)

    def release(self) -> None:
        """Free the rate limiter's hold (idempotent)."""
        permit, self.permit = self.permit, None
        if permit is not None:
            permit.release()

    async def aclose(self) -> None:
        """Release the connection of an answer that is not read to its end, and the rate limiter's hold."""
        try:
            if self.rest is not None:
                await self.rest.aclose()
        finally:
            self.release()


def _model_fault(error: exc.TektonLLMError) -> bool:
    """Failures another model might not have: unavailability, or a provider error reported in-band."""
    return error.unavailable or isinstance(error, exc.ProviderError)


def _as_shipped(error: exc.TektonLLMError) -> bool:
    """v1's HTTP generation route broken as shipped (or absent), as opposed to a transient failure."""
    if isinstance(error, exc.HTTPStatusError) and error.status_code in _ROUTE_MISSING:
        return True
    if isinstance(error, exc.NotFoundError):
        return error.message.strip().lower() == "not found"  # the framework's missing-route answer, no detail
    signed = isinstance(error, exc.ServerError) or (
        isinstance(error, exc.ProviderError) and not isinstance(error, exc.EmptyAnswerError)
    )
    return signed and error.message.strip() in _AS_SHIPPED_MESSAGES


async def first_event(
    events: AsyncIterator[StreamEvent], request: LLMRequest, dialect: str | None = None
) -> StreamEvent:
    """The first event with text; an answer that ends (or whose events end) without any text is
    ``EmptyAnswerError``. The one empty-answer check of the client: every transport and call shape comes here (a
    complete JSON answer, one event, makes the same check in ``_over_http``)."""
    async for event in events:
        if event.text:
            return event
        if event.done:
            break
    raise empty_answer(request, dialect)


def empty_answer(request: LLMRequest, dialect: str | None) -> exc.EmptyAnswerError:
    """The error of an answer without any text (``first_event``'s, and a complete JSON answer's)."""
    return exc.EmptyAnswerError(
        "Rhetor returned an empty answer (its provider is probably unavailable)",
        request_id=request.request_id,
        dialect=dialect,
        details={"reason": "empty_answer"},
    )


class Pipeline:
    """Rhetor access for one client: dialect, transports, breaker, retries and the fallback chain."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        adapter: LocalFallbackAdapter,
        retry_policy: RetryPolicy,
        breaker: CircuitBreaker,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.config = config
        self.adapter = adapter
        self.retry_policy = retry_policy
        self.breaker = breaker
        #: The component's client-side rate limiter: every attempt sent to Rhetor acquires from it (never the
        #: fallback chain).
        self.limiter = limiter
        self.dialect_name: str | None = None if config.api == "auto" else config.api
        self.use_ws = config.transport == "ws"
        self._http: HttpTransport | None = None
        self._ws: WebSocketTransport | None = None
        self._ollama: FallbackLink | None = None
        self._detect_lock: asyncio.Lock | None = None
        # v1 as shipped whose WebSocket was refused: (when, why). Remembered for the breaker's cool-down, so calls
        # in between neither retry the unfixable HTTP error nor knock on /ws again, and a WebSocket deployed later
        # is still found.
        self._no_ws: tuple[float, str] | None = None

    # ----------------------------------------------------------------------------------------------- plumbing

    @property
    def http_open(self) -> bool:
        """Whether an HTTP pool exists right now."""
        return self._http is not None

    def http(self) -> HttpTransport:
        """The HTTP transport to Rhetor (created on first use)."""
        if self._http is None:
            self._http = HttpTransport.for_config(self.config)
        return self._http

    def ws(self, dialect: str) -> WebSocketTransport:
        """The WebSocket transport to Rhetor, speaking ``dialect``'s frames."""
        self._ws = ws_transport(self._ws, self.config, dialect, frame_timeout=self.config.stream_idle_timeout)
        return self._ws

    async def aclose(self) -> None:
        """Close every connection (idempotent; transports re-open lazily)."""
        http, self._http = self._http, None
        ws, self._ws = self._ws, None
        ollama, self._ollama = self._ollama, None
        if http is not None:
            await http.aclose()
        if ws is not None:
            await ws.aclose()
        if ollama is not None:
            await ollama.aclose()

    async def dialect(self, request_id: str | None = None) -> HttpDialect:
        """The Rhetor generation: pinned, or detected once (concurrent first calls share one detection)."""
        if self.dialect_name is None:
            if self._detect_lock is None:
                self._detect_lock = asyncio.Lock()
            async with self._detect_lock:
                if self.dialect_name is None:
                    from ._dialects.detect import detect_dialect

                    self.dialect_name = await detect_dialect(self.http(), request_id)
                    logger.info("Rhetor at %s speaks %s", safe_url(self.config.base_url), self.dialect_name)
        return DIALECTS[self.dialect_name]

    def _forget_dialect(self) -> None:
        if self.config.api == "auto":
            self.dialect_name = None

    # ------------------------------------------------------------------------------------------------- entry

    async def open(self, request: LLMRequest) -> Answer:
        """The answer to ``request`` with its first event read.

        Rhetor under the circuit breaker: the primary model, then each of the adapter's ``fallback_models`` (with
        the adapter's attempts and per-attempt timeout). When Rhetor is unavailable and fallback is on, the fallback
        chain answers instead, every event then marked ``fallback``."""
        try:
            if self.breaker.state != "closed":
                await self._guard(request)  # raises while the circuit is open (not counted again as a failure)
            try:
                answer = await self._models(request)
            except exc.TektonLLMError as error:
                self._note(error)
                raise
        except exc.TektonLLMError as error:
            if not (self.config.use_fallback and error.unavailable):
                raise
            logger.warning("Rhetor unavailable (%s); using the fallback chain", error)
            # Also outside logging (which applications reconfigure): the testing plugin fails a faked answer.
            notify_fallback(self.config.component_id, f"Rhetor unavailable ({error.message})", request.request_id)
            return await self._fallback_chain(request, error)
        self.breaker.record_success()
        return answer

    async def _models(self, request: LLMRequest) -> Answer:
        """The primary model under the retry policy, then the adapter's fallback models."""
        try:
            return await self._retried(request, self.retry_policy)
        except exc.TektonLLMError as error:
            if not self.adapter.fallback_models or not _model_fault(error):
                raise
            return await self._fallback_models(request, error)

    # ------------------------------------------------------------------------------------- breaker, models

    async def _guard(self, request: LLMRequest) -> None:
        """While the circuit is open Rhetor is skipped; after the cool-down one ``/health`` probe decides."""
        if self.breaker.state == "half-open":
            try:
                await self.http().request("GET", "/health", request_id=request.request_id, timeout=2.0)
            except exc.TektonLLMError:
                self._breaker_failure()
            else:
                logger.info("Rhetor at %s answers again; circuit closed", safe_url(self.config.base_url))
                self.breaker.record_success()
                return
        raise exc.ServiceUnavailableError(
            f"Rhetor skipped for {self.breaker.cooldown:g}s after repeated failures (circuit open)",
            request_id=request.request_id,
        )

    def _note(self, error: exc.TektonLLMError) -> None:
        if error.unavailable:
            self._breaker_failure()
            if isinstance(error, exc.ConnectionError):
                self._forget_dialect()

    def _breaker_failure(self) -> None:
        """Count a failure against the breaker; its opening is counted in telemetry."""
        if self.breaker.record_failure() and telemetry.state.active is not None:
            telemetry.count("breaker_openings", {"tekton.component": self.config.component_id})

    async def _fallback_models(self, request: LLMRequest, error: exc.TektonLLMError) -> Answer:
        policy = dataclasses.replace(self.retry_policy, max_retries=self.adapter.max_retries - 1)
        for model in self.adapter.fallback_models:
            logger.info("model %s failed (%s); trying fallback model %s", request.model, error.message, model)
            retry = dataclasses.replace(
                request, model=model, request_id=new_request_id(), timeout=self.adapter.timeout or request.timeout
            )
            try:
                answer = await self._retried(retry, policy)
            except exc.TektonLLMError as next_error:
                if not _model_fault(next_error):
                    raise
                error = next_error
            else:
                call = telemetry.CALL.get() if telemetry.state.active is not None else None
                if call is not None:
                    call.served_by("fallback_model", model)
                return answer
        raise error

    # ---------------------------------------------------------------------------------- retry, dialect, wire

    async def _retried(self, request: LLMRequest, policy: RetryPolicy) -> Answer:
        """Open the answer under ``policy``: an attempt ends with the first event, so text is never retried.

        Each attempt speaks the (detected) dialect over HTTP, or over WebSocket once v1's HTTP route proved broken
        as shipped."""
        call = telemetry.CALL.get() if telemetry.state.active is not None else None

        async def attempt(number: int) -> Answer:
            # Detection's own round trips come first; once known, the dialect is a look-up (no coroutine, P2).
            name = self.dialect_name
            dialect = DIALECTS[name] if name is not None else await self.dialect(request.request_id)
            limiter = self.limiter  # one attribute read when no limit (nor a 429's pause) applies
            permit = await self._acquire(request, call) if limiter is not None and limiter.engaged else None
            sent = request if permit is None else self._within(request, permit)
            try:
                answer = await (
                    self._over_ws(dialect, sent) if self.use_ws else self._over_http_or_ws(dialect, sent, permit)
                )
            except BaseException as error:
                self._attempt_failed(permit, error, sent.request_id)
                raise
            if permit is not None:
                permit.answered()  # the first event is in hand: the request reached Rhetor
                answer.permit = permit
            return answer

        # ``run``: the first attempt is a plain await, no async generator or context manager per call (P2).
        return await policy.run(attempt, None if call is None else functools.partial(self._attempted, call, request))

    def _attempted(
        self, call: telemetry.Call, request: LLMRequest, number: int, error: exc.TektonLLMError | None
    ) -> None:
        transport = "ws" if self.use_ws else "http"
        call.attempted(number, error, transport=transport, dialect=self.dialect_name, model=request.model)

    async def _acquire(self, request: LLMRequest, call: telemetry.Call | None) -> Permit | None:
        """The rate limiter's permit for one attempt (waiting, bounded by the call's timeout, or refused); ``None``
        when no limit applies."""
        from ._ratelimit import estimate_tokens

        limiter = self.limiter
        assert limiter is not None
        tokens = estimate_tokens(request) if limiter.counts_tokens else 0  # counting costs; only a tpm limit needs it
        try:
            permit = await limiter.acquire(
                tokens, timeout=request.timeout or self.config.timeout, request_id=request.request_id
            )
        except exc.ClientRateLimitError as error:
            if call is not None:
                call.rate_limited(None, reason=error.reason)
            raise
        if call is not None:
            call.rate_limited(permit.waited)
        return permit if permit.admitted_at is not None else None  # no limit applied: nothing to hold or settle

    def _attempt_failed(self, permit: Permit | None, error: BaseException, request_id: str | None) -> None:
        """An attempt that failed keeps its estimate and frees its slot; a 429 pauses every caller of the limiter
        — limits configured or not — for the server's ``Retry-After`` (0 honoured; one second without one), before
        the slot is freed, so no waiter is let in between. The request that got the 429 is the pause's owner: its
        retry policy already waits the ``Retry-After`` out."""
        if isinstance(error, exc.RateLimitError) and self.limiter is not None:
            self.limiter.pause(1.0 if error.retry_after is None else error.retry_after, request_id=request_id)
        if permit is not None:
            permit.release()

    def _within(self, request: LLMRequest, permit: Permit) -> LLMRequest:
        """The call's timeout bounds the wait for a permit and the attempt together: the wait is taken off the
        attempt's timeout."""
        if not permit.waited:
            return request
        bound = request.timeout or self.config.timeout
        return dataclasses.replace(request, timeout=max(bound - permit.waited, 0.001))

    async def _send_again(self, permit: Permit | None, request: LLMRequest) -> None:
        """A second request to Rhetor within one attempt (the classic re-ask, the switch to the WebSocket) needs an
        admission of its own: the first one ends, a new one is acquired (waiting or refused as ``acquire``)."""
        if permit is not None and self.limiter is not None:
            await self.limiter.again(permit, timeout=request.timeout or self.config.timeout)

    async def _over_http_or_ws(self, dialect: HttpDialect, request: LLMRequest, permit: Permit | None = None) -> Answer:
        try:
            return await self._over_http(dialect, request, permit)
        except exc.TektonLLMError as error:
            if self.config.transport != "auto" or dialect.name != "v1" or not _as_shipped(error):
                raise
            return await self._switch_to_ws(dialect, request, error, permit)

    async def _switch_to_ws(
        self, dialect: HttpDialect, request: LLMRequest, http_error: exc.TektonLLMError, permit: Permit | None = None
    ) -> Answer:
        """v1's HTTP generation route is broken as shipped: generate over the WebSocket, for good once it is there.

        Where no WebSocket answers, the caller gets the original HTTP error (the attempt noted in its message) and
        HTTP stays in use."""
        if self._no_ws is not None:
            refused_at, reason = self._no_ws
            age = time.monotonic() - refused_at
            if age < self.breaker.cooldown:
                raise self._unfixable(http_error, f"also tried {age:.0f}s ago: {reason}")
            self._no_ws = None
        ws = self.ws(dialect.name)
        try:
            await ws.connect()
        except exc.TektonLLMError as ws_error:
            logger.info("no WebSocket at %s either (%s)", safe_url(self.config.ws_url), ws_error.message)
            self._no_ws = (time.monotonic(), ws_error.message)
            raise self._unfixable(http_error, f"also tried: {ws_error.message}") from None
        if not self.use_ws:
            self.use_ws = True
            logger.warning(
                "Rhetor's HTTP chat route failed as shipped (%s); generating over WebSocket %s from now on",
                http_error.message,
                safe_url(self.config.ws_url),
            )
            telemetry.count("transport_switches", {"tekton.component": self.config.component_id})
        call = telemetry.CALL.get() if telemetry.state.active is not None else None
        if call is not None:
            call.switched(safe_url(self.config.ws_url))
        await self._send_again(permit, request)
        return await self._over_ws(dialect, request)

    def _unfixable(self, http_error: exc.TektonLLMError, note: str) -> exc.TektonLLMError:
        """The as-shipped HTTP error, noting the WebSocket attempt; not retried (the same request fails the same
        way)."""
        http_error.message = f"{http_error.message} (WebSocket {safe_url(self.config.ws_url)} {note})"
        http_error.args = (http_error.message,)
        http_error.retryable = False
        return http_error

    async def _over_ws(self, dialect: HttpDialect, request: LLMRequest) -> Answer:
        events = self.ws(dialect.name).exchange(request)
        return Answer(await self._first(events, request), events)

    async def _over_http(self, dialect: HttpDialect, request: LLMRequest, permit: Permit | None = None) -> Answer:
        if not request.stream:
            path, body = dialect.chat(request)
            response = await self.http().request(
                "POST",
                path,
                json_body=body,
                request_id=request.request_id,
                timeout=request.timeout,
                dialect=dialect.name,
            )
            event = dialect.parse_response(response.body, request)
            if not event.text:  # first_event's check, without an async generator around one event (benchmark P2)
                raise empty_answer(request, dialect.name)
            return Answer(event)
        events = self._sse_events(dialect, request)
        try:
            return Answer(await self._first(events, request), events)
        except exc.StreamBrokenError as error:
            if not dialect.stream_needs_done:
                raise  # v1 (close-terminated): an ordinary, retryable connection failure
            # A classic stream closed before any event: ask again without streaming (rhetor-protocol.md §12.2).
            logger.info("classic stream broke before any event (%s); asking again without streaming", error.message)
            await self._send_again(permit, request)
            return await self._over_http(dialect, dataclasses.replace(request, stream=False), permit)

    @staticmethod
    async def _first(events: AsyncGenerator[StreamEvent, None], request: LLMRequest) -> StreamEvent:
        try:
            return await first_event(events, request)
        except BaseException:
            await events.aclose()
            raise

    async def _sse_events(self, dialect: HttpDialect, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """The events of an SSE answer, ending with one done event; the transport hands over each network read's
        events at once, so this is the only generator step per event below the caller's."""
        path, body = dialect.stream(request)
        delivered = False
        reads = self.http().stream_sse(
            path,
            body,
            request_id=request.request_id,
            dialect=dialect.name,
            first_event_timeout=request.timeout or self.config.stream_first_event_timeout,
            idle_timeout=request.timeout or self.config.stream_idle_timeout,
        )
        try:
            async with aclosing(reads):
                async for messages in reads:
                    for message in messages:
                        if message.data == "[DONE]":
                            yield self._sse_end(dialect, request, delivered)  # other servers' sentinel: a close
                            return
                        event = dialect.parse_event(message.data, request, message.event)
                        yield event
                        if event.done:
                            return
                        delivered = delivered or bool(event.text)
        except exc.StreamBrokenError as error:
            if not delivered:
                raise  # nothing reached the caller: an ordinary, retryable connection failure
            raise exc.IncompleteStreamError(
                error.message, request_id=request.request_id, dialect=dialect.name
            ) from error
        yield self._sse_end(dialect, request, delivered)

    @staticmethod
    def _sse_end(dialect: HttpDialect, request: LLMRequest, delivered: bool) -> StreamEvent:
        """The done event of a stream the server ended by closing it (v1), or the error of one that must have said
        done (classic)."""
        if not dialect.stream_needs_done:
            return StreamEvent(done=True)
        if delivered:
            raise exc.IncompleteStreamError(
                "classic stream ended without its done event", request_id=request.request_id, dialect=dialect.name
            )
        raise exc.StreamBrokenError(
            "classic stream closed before any event", request_id=request.request_id, dialect=dialect.name
        )

    # ---------------------------------------------------------------------------------------- fallback chain

    def _links(self) -> list[FallbackLink]:
        if self._ollama is None:
            from .adapters.ollama import OllamaAdapter

            self._ollama = OllamaAdapter(
                self.config.ollama_url,
                self.config.ollama_model,
                timeout=self.config.timeout,
                authorization=self.config.ollama_authorization(),
            )
        return [self._ollama, self.adapter]

    async def _fallback_chain(self, request: LLMRequest, error: exc.TektonLLMError) -> Answer:
        """Ollama, then the local answer: the first link whose answer starts."""
        for link in self._links():
            events = link.events(request)
            try:
                answer = Answer(await self._first(events, request), events)
            except exc.TektonLLMError as link_error:
                logger.info("fallback %s failed: %s", link.name, link_error)
                continue
            call = telemetry.CALL.get() if telemetry.state.active is not None else None
            if call is not None:
                if link is self.adapter:
                    call.served_by("local")
                else:  # Ollama answered: its server, not Rhetor's
                    call.served_by(link.name, server_url=safe_url(self.config.ollama_url))
            return answer
        raise error  # pragma: no cover - the local link never fails
