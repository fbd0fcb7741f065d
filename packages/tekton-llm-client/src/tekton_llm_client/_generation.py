"""The path of one generation request, from logical request to answer (a mixin of ``TektonLLMClient``).

    circuit breaker → retry policy → dialect over HTTP (or WebSocket once v1's HTTP route proved broken)
      → the adapter's fallback models through Rhetor → Ollama → the local canned answer

Non-streaming calls end in a ``CompletionResponse``; streams yield ``StreamingChunk``s ending in exactly one ``done``
chunk. Once a stream has delivered text nothing is retried and no fallback text is spliced in: it ends with a chunk
carrying ``error`` and then raises ``IncompleteStreamError`` with the partial text.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import exceptions as exc
from ._request import LLMRequest, StreamEvent, new_request_id
from ._stream import ChunkCallback, StopCutter, TextStream, call_callback, cut_at_stop
from .config import safe_url
from .models import CompletionResponse, StreamingChunk
from .utils.retries import RetryPolicy

if TYPE_CHECKING:
    from ._breaker import CircuitBreaker
    from ._dialects.base import HttpDialect
    from ._transport.http import HttpTransport
    from .adapters.base import FallbackLink
    from .adapters.fallback import LocalFallbackAdapter
    from .budget import BudgetTracker
    from .cache import ResponseCache
    from .config import ClientConfig
    from .context_manager import ContextManager

__all__ = ["GenerationMixin"]

logger = logging.getLogger("tekton_llm_client")

T = TypeVar("T")
_SWITCH_STATUSES = (404, 405, 500, 501)


def _model_fault(error: exc.TektonLLMError) -> bool:
    """Failures another model might not have: unavailability, or a provider error reported in-band."""
    return error.unavailable or isinstance(error, exc.ProviderError)


def _with_model(request: LLMRequest, model: str | None, timeout: float | None) -> LLMRequest:
    return dataclasses.replace(request, model=model, request_id=new_request_id(), timeout=timeout or request.timeout)


def _usage(event: StreamEvent) -> dict[str, int] | None:
    usage = (event.raw or {}).get("usage")
    if isinstance(usage, dict):
        return {str(k): int(v) for k, v in usage.items() if isinstance(v, (int, float))}
    return None


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    close: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def _one(event: StreamEvent) -> AsyncIterator[StreamEvent]:
    yield event


class GenerationMixin:
    """Completion and streaming for ``TektonLLMClient`` (which provides the state declared below)."""

    if TYPE_CHECKING:
        config: ClientConfig
        adapter: LocalFallbackAdapter
        retry_policy: RetryPolicy
        breaker: CircuitBreaker
        cache: ResponseCache | None
        budget: BudgetTracker | None
        context_manager: ContextManager | None
        _use_ws: bool
        _dialect_name: str | None
        _ollama: FallbackLink | None

        def _transport(self) -> HttpTransport: ...

        async def _dialect(self, request_id: str | None = None) -> HttpDialect: ...

        def _forget_dialect(self) -> None: ...

        def _ws_client(self, dialect: str) -> Any: ...

    # ------------------------------------------------------------------------------------------------ entry

    def _dispatch(
        self, request: LLMRequest, callback: ChunkCallback | None
    ) -> Awaitable[CompletionResponse] | TextStream:
        """A ``TextStream`` for streaming requests, else an awaitable ``CompletionResponse``."""
        if request.stream:
            return TextStream(self._stream_chunks(request), callback)
        return self._complete(request, callback)

    async def _complete(self, request: LLMRequest, callback: ChunkCallback | None = None) -> CompletionResponse:
        self._check_budget(request)
        cached = self.cache.get(request) if self.cache is not None else None
        if cached is not None:
            response = cached.model_copy(update={"request_id": request.request_id, "latency": 0.0})
        else:
            started = time.perf_counter()
            try:
                event = await self._rhetor_complete(request)
            except exc.TektonLLMError as error:
                event = await self._fall_back(request, error)
            local = event.provider == self.adapter.name
            response = CompletionResponse(
                content=cut_at_stop(event.text, request.stop),
                model=event.model or request.model or "",
                provider=event.provider or request.provider or "",
                finish_reason="stop",
                usage=_usage(event),
                context_id=event.context_id or request.context_id or "",
                fallback=event.fallback,
                latency=time.perf_counter() - started,
                error="LLM service unavailable" if local else None,
                request_id=request.request_id,
            )
            self._after_answer(request, response)
            if self.cache is not None and not response.fallback:
                self.cache.put(request, response)
        if callback is not None:
            await call_callback(
                callback,
                StreamingChunk(
                    chunk=response.content,
                    context_id=response.context_id,
                    model=response.model,
                    provider=response.provider,
                    done=True,
                    fallback=response.fallback,
                    request_id=request.request_id,
                ),
            )
        return response

    def _check_budget(self, request: LLMRequest) -> None:
        """Client-side budget: under ``enforce`` this raises before anything is sent."""
        if self.budget is not None:
            self.budget.check(
                provider=request.provider,
                model=request.model,
                component=self.config.component_id,
                messages=request.all_messages(),
                output_tokens=request.max_tokens or 0,
            )

    def _after_answer(self, request: LLMRequest, response: CompletionResponse) -> None:
        """Account usage and remember the exchange (never for fallback answers)."""
        if response.fallback:
            return
        if self.budget is not None:
            self.budget.record_response(response, messages=request.all_messages(), component=self.config.component_id)
        if self.context_manager is not None and request.remember:
            self.context_manager.add_exchange(request.last_user_message, response.content, request.context_id)

    # ------------------------------------------------------------------------------------- breaker, models

    async def _guard(self, request: LLMRequest) -> None:
        """Circuit breaker: while open, Rhetor is skipped; after the cool-down one ``/health`` probe decides."""
        if self.breaker.state == "half-open":
            try:
                await self._transport().request("GET", "/health", request_id=request.request_id, timeout=2.0)
            except exc.TektonLLMError:
                self.breaker.record_failure()
            else:
                logger.info("Rhetor at %s answers again; circuit closed", safe_url(self.config.base_url))
                self.breaker.record_success()
                return
        raise exc.ServiceUnavailableError(
            f"Rhetor skipped for {self.breaker.cooldown:g}s after repeated failures (circuit open)",
            request_id=request.request_id,
        )

    def _note(self, error: exc.TektonLLMError | None) -> None:
        if error is None:
            self.breaker.record_success()
        elif error.unavailable:
            self.breaker.record_failure()
            if isinstance(error, exc.ConnectionError):
                self._forget_dialect()

    async def _through_rhetor(self, request: LLMRequest, run: Callable[[LLMRequest, RetryPolicy], Awaitable[T]]) -> T:
        """``run`` for the primary model, then for each of the adapter's ``fallback_models`` (with the adapter's
        attempts and per-attempt timeout), all under the circuit breaker."""
        if self.breaker.state != "closed":
            await self._guard(request)
        try:
            try:
                result = await run(request, self.retry_policy)
            except exc.TektonLLMError as error:
                if not self.adapter.fallback_models or not _model_fault(error):
                    raise
                result = await self._fallback_models(request, error, run)
        except exc.TektonLLMError as error:
            self._note(error)
            raise
        self._note(None)
        return result

    async def _fallback_models(
        self, request: LLMRequest, error: exc.TektonLLMError, run: Callable[[LLMRequest, RetryPolicy], Awaitable[T]]
    ) -> T:
        policy = dataclasses.replace(self.retry_policy, max_retries=self.adapter.max_retries - 1)
        for model in self.adapter.fallback_models:
            logger.info("model %s failed (%s); trying fallback model %s", request.model, error.message, model)
            try:
                return await run(_with_model(request, model, self.adapter.timeout), policy)
            except exc.TektonLLMError as next_error:
                if not _model_fault(next_error):
                    raise
                error = next_error
        raise error

    def _switch_to_ws(self, error: exc.TektonLLMError, was_ws: bool) -> bool:
        """Whether to re-run a request over WebSocket: in ``auto`` transport, v1's HTTP generation route broken as
        shipped (404/405/500/501, or an error as the first stream event) moves generation to WS for good.

        ``was_ws`` is the transport the failed attempt used, so requests already in flight over HTTP when another
        one flipped the switch are re-run too (the warning is logged once)."""
        if was_ws or self.config.transport != "auto" or self._dialect_name != "v1":
            return False
        broken_route = isinstance(error, exc.HTTPStatusError) and error.status_code in _SWITCH_STATUSES
        in_band = isinstance(error, exc.ProviderError) and not isinstance(error, exc.EmptyAnswerError)
        if not (broken_route or in_band):
            return False
        if not self._use_ws:
            self._use_ws = True
            logger.warning(
                "Rhetor's HTTP chat route failed (%s); generating over WebSocket %s for the rest of this client's life",
                error.message,
                safe_url(self.config.ws_url),
            )
        return True

    # ------------------------------------------------------------------------------------------- completion

    async def _rhetor_complete(self, request: LLMRequest) -> StreamEvent:
        return await self._through_rhetor(request, self._complete_once)

    async def _complete_once(self, request: LLMRequest, policy: RetryPolicy) -> StreamEvent:
        event: StreamEvent | None = None
        async for attempt in policy.attempts():
            async with attempt:
                dialect = await self._dialect(request.request_id)
                was_ws = self._use_ws
                try:
                    event = await self._complete_over(dialect, request)
                except exc.TektonLLMError as error:
                    if not self._switch_to_ws(error, was_ws):
                        raise
                    event = await self._complete_over(dialect, request)
        assert event is not None
        if not event.text:
            raise exc.EmptyAnswerError("Rhetor returned an empty answer", request_id=request.request_id)
        return event

    async def _complete_over(self, dialect: HttpDialect, request: LLMRequest) -> StreamEvent:
        if self._use_ws:
            parts: list[str] = []
            last = StreamEvent()
            async for event in self._ws_events(dialect, request):
                parts.append(event.text)
                last = event
            last.text = "".join(parts)
            last.done = True
            return last
        path, body = dialect.chat(request)
        response = await self._transport().request(
            "POST", path, json_body=body, request_id=request.request_id, timeout=request.timeout, dialect=dialect.name
        )
        return dialect.parse_response(response.body, request)

    async def _ws_events(self, dialect: HttpDialect, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        source = self._ws_client(dialect.name).stream_request(request)
        if isinstance(source, Awaitable):
            source = await source
        async for event in source:
            yield event

    async def _fall_back(self, request: LLMRequest, error: exc.TektonLLMError) -> StreamEvent:
        """Ollama, then the local answer — only when Rhetor is unavailable and fallback is on."""
        if not (self.config.use_fallback and error.unavailable):
            raise error
        logger.warning("Rhetor unavailable (%s); using the fallback chain", error)
        for link in self._fallback_links():
            try:
                return await link.complete(request)
            except exc.TektonLLMError as link_error:
                logger.info("fallback %s failed: %s", link.name, link_error)
        raise error  # pragma: no cover - the local link never fails

    def _fallback_links(self) -> list[FallbackLink]:
        if self._ollama is None:
            from .adapters.ollama import OllamaAdapter

            self._ollama = OllamaAdapter(self.config.ollama_url, self.config.ollama_model, timeout=self.config.timeout)
        return [self._ollama, self.adapter]

    # -------------------------------------------------------------------------------------------- streaming

    async def _stream_chunks(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]:
        """Rhetor's events as chunks, ending with exactly one ``done`` chunk; fallback only before any text."""
        self._check_budget(request)
        parts: list[str] = []
        model, provider, context_id = request.model or "", request.provider or "", request.context_id or ""
        cutter = StopCutter(request.stop) if request.stop else None
        events: AsyncIterator[StreamEvent] | None = None

        def chunk(text: str, *, done: bool = False, fallback: bool = False, error: str | None = None) -> StreamingChunk:
            return StreamingChunk(
                chunk=text,
                context_id=context_id,
                model=model,
                provider=provider,
                done=done,
                fallback=fallback,
                error=error,
                request_id=request.request_id,
            )

        try:
            event, events = await self._through_rhetor(request, self._open_once)
            while event is not None:
                model = event.model or model
                provider = event.provider or provider
                context_id = event.context_id or context_id
                text = cutter.feed(event.text) if cutter is not None else event.text
                if text:
                    parts.append(text)
                    yield chunk(text, fallback=event.fallback)
                if event.done or (cutter is not None and cutter.stopped):
                    break
                event = await anext(events, None)  # type: ignore[arg-type]  # set together with the first event
        except exc.TektonLLMError as error:
            if parts:
                failure = (
                    error.__cause__
                    if isinstance(error, exc.IncompleteStreamError) and isinstance(error.__cause__, exc.TektonLLMError)
                    else error
                )
                yield chunk("", done=True, error=failure.message)
                raise exc.IncompleteStreamError(
                    f"stream broke after {sum(map(len, parts))} characters: {failure.message}",
                    partial_text="".join(parts),
                    request_id=request.request_id,
                    dialect=error.dialect,
                ) from failure
            if not (self.config.use_fallback and error.unavailable):
                raise
            logger.warning("Rhetor unavailable for a stream (%s); using the fallback chain", error)
            async for item in self._fallback_stream(request):
                yield item
            return
        finally:
            if events is not None:
                await _aclose(events)
        tail = cutter.flush() if cutter is not None else ""
        if tail:
            parts.append(tail)
            yield chunk(tail)
        if not parts:
            # Nothing but empty chunks: a silent empty answer (v1 with an unavailable provider).
            if not self.config.use_fallback:
                raise exc.EmptyAnswerError("Rhetor returned an empty answer", request_id=request.request_id)
            async for item in self._fallback_stream(request):
                yield item
            return
        self._after_answer(
            request, CompletionResponse(content="".join(parts), model=model, provider=provider, context_id=context_id)
        )
        yield chunk("", done=True)

    async def _fallback_stream(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]:
        for link in self._fallback_links():
            parts: list[str] = []
            try:
                async for event in link.stream(request):
                    if event.text or event.done:
                        parts.append(event.text)
                        yield StreamingChunk(
                            chunk=event.text,
                            context_id=event.context_id or request.context_id or "",
                            model=event.model or "",
                            provider=event.provider or link.name,
                            done=event.done,
                            fallback=True,
                            request_id=request.request_id,
                        )
                return
            except exc.TektonLLMError as error:
                if any(parts):
                    yield StreamingChunk(
                        chunk="",
                        done=True,
                        fallback=True,
                        error=error.message,
                        provider=link.name,
                        request_id=request.request_id,
                    )
                    raise exc.IncompleteStreamError(
                        f"fallback stream from {link.name} broke: {error.message}",
                        partial_text="".join(parts),
                        request_id=request.request_id,
                    ) from error
                logger.info("fallback %s failed: %s", link.name, error)

    async def _open_once(
        self, request: LLMRequest, policy: RetryPolicy
    ) -> tuple[StreamEvent | None, AsyncIterator[StreamEvent]]:
        """Open the stream and read its first event under ``policy``: nothing after the first event is retried."""
        opened: tuple[StreamEvent | None, AsyncIterator[StreamEvent]] | None = None
        async for attempt in policy.attempts():
            async with attempt:
                opened = await self._open_stream(await self._dialect(request.request_id), request)
        assert opened is not None
        return opened

    async def _open_stream(
        self, dialect: HttpDialect, request: LLMRequest
    ) -> tuple[StreamEvent | None, AsyncIterator[StreamEvent]]:
        """Start a stream and read its first event.

        v1's broken HTTP stream switches to WebSocket; a classic stream closed before any event is asked again
        without streaming (rhetor-protocol.md §12.2), its whole answer then being the first and only event."""
        was_ws = self._use_ws
        events = self._events_over(dialect, request)
        try:
            return await anext(events, None), events
        except exc.StreamBrokenError as error:
            if not dialect.stream_needs_done:
                raise  # v1 (close-terminated): an ordinary, retryable connection failure
            logger.info("classic stream broke before any event (%s); asking again without streaming", error.message)
            event = await self._complete_over(dialect, dataclasses.replace(request, stream=False))
            return event, _one(event)
        except exc.TektonLLMError as error:
            if not self._switch_to_ws(error, was_ws):
                raise
        events = self._events_over(dialect, request)
        return await anext(events, None), events

    async def _events_over(self, dialect: HttpDialect, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        if self._use_ws:
            async for event in self._ws_events(dialect, request):
                yield event
            return
        path, body = dialect.stream(request)
        saw_done = False
        delivered = 0
        async for message in self._transport().stream_sse(
            path,
            body,
            request_id=request.request_id,
            dialect=dialect.name,
            first_event_timeout=request.timeout or self.config.stream_first_event_timeout,
            idle_timeout=request.timeout or self.config.stream_idle_timeout,
        ):
            if message.data.strip() == "[DONE]":
                saw_done = True  # other servers' sentinel: end without a second done
                break
            event = dialect.parse_event(message.data, request)
            delivered += len(event.text)
            yield event
            if event.done:
                saw_done = True
                break
        if dialect.stream_needs_done and not saw_done:
            if delivered:
                raise exc.IncompleteStreamError(
                    "classic stream ended without its done event", request_id=request.request_id, dialect=dialect.name
                )
            raise exc.StreamBrokenError(
                "classic stream closed before any event", request_id=request.request_id, dialect=dialect.name
            )
        if not saw_done:
            yield StreamEvent(done=True)
