"""The call shapes of a generation: an :class:`~._pipeline.Answer` as a ``CompletionResponse`` or as a ``TextStream``.

Both shapes come from the same ``Pipeline.open``; what differs is only how the answer's events are handed over.
Around the pipeline sit the client-side extras: the budget (a reservation taken before sending — under
``enforce`` it raises and nothing is sent — then settled with the answer's usage, or released when nothing was
paid for), the response cache, and conversation memory after a real (never a fallback) answer.

A stream ends with exactly one ``done`` chunk. Once it delivered text nothing is retried and no fallback text is
spliced in: it ends with a chunk carrying ``error`` and then raises ``IncompleteStreamError`` with the partial text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _telemetry as telemetry
from . import exceptions as exc
from ._pipeline import Answer, Pipeline
from ._request import LLMRequest, StreamEvent
from ._stream import ChunkCallback, StopCutter, TextStream, call_callback
from ._urls import safe_url
from .models import CompletionResponse, StreamingChunk

if TYPE_CHECKING:
    from .budget import BudgetReservation, BudgetTracker
    from .cache import ResponseCache
    from .context_manager import ContextManager

__all__ = ["Generation"]


def _usage(event: StreamEvent | None) -> dict[str, int] | None:
    usage = (event.raw or {}).get("usage") if event is not None else None
    if isinstance(usage, dict):
        return {str(k): int(v) for k, v in usage.items() if isinstance(v, (int, float))}
    return None


def _settle(answer: Answer, request: LLMRequest, event: StreamEvent | None, text: str) -> None:
    """Settle the rate limiter's permit with the answer's usage, or its text counted (``Permit.settle_answer``)."""
    if answer.permit is not None:
        answer.permit.settle_answer(_usage(event), text, request)


class _Shape:
    """Metadata of the answer being handed over (the latest event's, where it says anything)."""

    __slots__ = ("context_id", "error", "fallback", "model", "provider", "request_id")

    def __init__(self, request: LLMRequest) -> None:
        self.model = request.model or ""
        self.provider = request.provider or ""
        self.context_id = request.context_id or ""
        self.request_id = request.request_id
        self.fallback = False
        self.error: str | None = None

    def update(self, event: StreamEvent) -> None:
        self.model = event.model or self.model
        self.provider = event.provider or self.provider
        self.context_id = event.context_id or self.context_id
        self.fallback = self.fallback or event.fallback
        self.error = event.error or self.error

    def response(self, text: str) -> CompletionResponse:
        """The whole streamed answer, for accounting and memory."""
        return CompletionResponse(
            content=text, model=self.model, provider=self.provider, context_id=self.context_id, fallback=self.fallback
        )

    def chunk(self, text: str, *, done: bool = False, error: str | None = None) -> StreamingChunk:
        """A chunk with the answer's metadata; ``error`` defaults to the answer's (set on a local fallback)."""
        return StreamingChunk(
            chunk=text,
            timestamp=datetime.now().isoformat(),  # given, not the field's default factory: ~1 µs a chunk (P3)
            context_id=self.context_id,
            model=self.model,
            provider=self.provider,
            done=done,
            fallback=self.fallback,
            error=error or self.error,
            request_id=self.request_id,
        )


class Generation:
    """Completion and streaming for one client: ``Pipeline`` answers, shaped for the caller."""

    def __init__(self, pipeline: Pipeline, component_id: str) -> None:
        self.pipeline = pipeline
        self.component_id = component_id
        self.cache: ResponseCache | None = None
        self.budget: BudgetTracker | None = None
        self.context_manager: ContextManager | None = None

    def dispatch(
        self, request: LLMRequest, callback: ChunkCallback | None
    ) -> Awaitable[CompletionResponse] | TextStream:
        """A ``TextStream`` for streaming requests, else an awaitable ``CompletionResponse``."""
        if request.stream:  # the caller's telemetry context now: the stream may be read after it ended, elsewhere
            return TextStream(
                self._chunks(request, None if telemetry.state.api is False else telemetry.caller()), callback
            )
        return self.complete(request, callback)

    def _call(self, request: LLMRequest, caller: telemetry.Caller) -> telemetry.Call:
        """The telemetry span of one call, a child of the caller's context. Callers test
        ``telemetry.state.api is not False`` first: without OpenTelemetry that is the whole cost."""
        config = self.pipeline.config
        return caller.call(
            request,
            component=self.component_id,
            server_url=safe_url(config.ws_url if self.pipeline.use_ws else config.base_url),
        )

    async def _open_traced(self, request: LLMRequest, call: telemetry.Call) -> Answer:
        """``Pipeline.open`` with the call's span current (its ``traceparent`` goes to Rhetor) — never while the
        caller's code runs."""
        call.enter()
        try:
            return await self.pipeline.open(request)
        finally:
            call.exit()

    # ----------------------------------------------------------------------------------------------- extras

    def _reserve(self, request: LLMRequest) -> BudgetReservation | None:
        """Hold the request's size against the budget (concurrent requests cannot all pass on the same usage);
        under ``enforce`` this raises ``BudgetExceededError`` before anything is sent."""
        if self.budget is None:
            return None
        return self.budget.reserve(
            provider=request.provider,
            model=request.model,
            component=self.component_id,
            messages=request.all_messages(),
            output_tokens=request.max_tokens or 0,
        )

    def _after_answer(self, request: LLMRequest, response: CompletionResponse, hold: BudgetReservation | None) -> None:
        """Settle the budget with the answer's usage and remember the exchange — never for a fallback answer,
        whose hold is released (nothing was paid for)."""
        if response.fallback:
            if hold is not None:
                hold.release()
            return
        if hold is not None:
            hold.settle(response, messages=request.all_messages())
        if self.context_manager is not None and request.remember:
            self.context_manager.add_exchange(request.last_user_message, response.content, request.context_id)

    # ------------------------------------------------------------------------------------------- completion

    async def complete(self, request: LLMRequest, callback: ChunkCallback | None = None) -> CompletionResponse:
        """The whole answer: the pipeline's answer read to its end."""
        caller = None if telemetry.state.api is False else telemetry.caller()
        call = None if caller is None else self._call(request, caller)
        cached = self.cache.get(request) if self.cache is not None else None
        if cached is not None:  # costs nothing: holds and records nothing
            response = cached.model_copy(update={"request_id": request.request_id, "latency": 0.0})
            if call is not None:
                call.end(model=response.model, provider=response.provider, text=response.content, cache_hit=True)
        else:
            hold: BudgetReservation | None = None
            try:
                hold = self._reserve(request)
                response = await self._collect(request, call)
            except BaseException as error:
                if hold is not None:
                    hold.release()
                if call is not None:
                    call.end(error=error)
                raise
            if call is not None:
                call.end(model=response.model, provider=response.provider, usage=response.usage, text=response.content)
            self._after_answer(request, response, hold)
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
                    error=response.error,
                    request_id=request.request_id,
                ),
            )
        return response

    async def _collect(self, request: LLMRequest, call: telemetry.Call | None) -> CompletionResponse:
        started = time.perf_counter()
        answer = await (self.pipeline.open(request) if call is None else self._open_traced(request, call))
        event = answer.first
        shape = _Shape(request)
        shape.update(event)
        if answer.rest is None and not request.stop:  # the common case, one JSON answer: nothing to read or cut
            text = event.text
            if answer.permit is not None:
                _settle(answer, request, event, text)
                answer.release()
        else:
            cutter = StopCutter(request.stop or [])
            parts = [cutter.feed(event.text)]
            try:
                if answer.rest is not None and not event.done:
                    async for event in answer.rest:
                        shape.update(event)
                        parts.append(cutter.feed(event.text))
                        if event.done or cutter.stopped:
                            break
            finally:
                if answer.permit is not None:
                    _settle(answer, request, event, "".join(parts))
                await answer.aclose()  # also when the first event was the last: its transport is released now
            parts.append(cutter.flush())
            text = "".join(parts)
        if call is not None:
            call.finish_reason = telemetry.finish_reason(event.raw)
        return CompletionResponse(
            content=text,
            model=shape.model,
            provider=shape.provider,
            usage=_usage(event),
            context_id=shape.context_id,
            fallback=shape.fallback,
            latency=time.perf_counter() - started,
            error=shape.error,
            request_id=request.request_id,
        )

    # -------------------------------------------------------------------------------------------- streaming

    async def _open(self, request: LLMRequest, call: telemetry.Call | None) -> tuple[Answer, BudgetReservation | None]:
        hold: BudgetReservation | None = None
        try:
            hold = self._reserve(request)
            answer = await (self.pipeline.open(request) if call is None else self._open_traced(request, call))
        except BaseException as error:
            if hold is not None:
                hold.release()  # nothing was delivered, nothing is paid for
            if call is not None:
                call.end(error=error)
            raise
        if call is not None:
            call.first_chunk()  # an answer opens with its first text
        return answer, hold

    def chunks(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]:
        """The answer as chunks (stop sequences applied), ending with exactly one ``done`` chunk; its telemetry
        span is a child of the context this is called in, whenever and wherever the chunks are read."""
        return self._chunks(request, None if telemetry.state.api is False else telemetry.caller())

    async def _chunks(self, request: LLMRequest, caller: telemetry.Caller | None) -> AsyncIterator[StreamingChunk]:
        """``chunks``. Its telemetry span ends with the answer: completed, broken (``error.type``), abandoned by the
        caller or cancelled."""
        call = None if caller is None else self._call(request, caller)
        answer, hold = await self._open(request, call)
        shape = _Shape(request)
        cutter = StopCutter(request.stop) if request.stop else None
        parts: list[str] = []
        event: StreamEvent | None = answer.first
        settled = False
        try:
            while event is not None:
                shape.update(event)
                text = cutter.feed(event.text) if cutter is not None else event.text
                if text:
                    parts.append(text)
                    # A fallback link's last event is its answer's end: one chunk, as the link sent it.
                    yield shape.chunk(text, done=event.done and shape.fallback and cutter is None)
                if event.done or answer.rest is None or (cutter is not None and cutter.stopped):
                    break
                event = await anext(answer.rest, None)
            tail = cutter.flush() if cutter is not None else ""
            if tail:
                parts.append(tail)
                yield shape.chunk(tail)
            self._after_answer(request, shape.response("".join(parts)), hold)
            settled = True
        except exc.TektonLLMError as error:
            if not parts:
                raise
            failure = _failure(error)
            yield shape.chunk("", done=True, error=failure.message)
            raise _incomplete(failure, parts, request) from failure
        finally:
            if call is not None or answer.permit is not None:
                _stream_ended(answer, request, call, shape, event, parts, settled)
            await answer.aclose()
            if hold is not None and not settled:  # broken or abandoned: what was delivered is settled
                hold.finish("".join(parts), fallback=shape.fallback)
        if not (event is not None and event.done and event.text and shape.fallback and cutter is None):
            yield shape.chunk("", done=True)


def _stream_ended(
    answer: Answer,
    request: LLMRequest,
    call: telemetry.Call | None,
    shape: _Shape,
    event: StreamEvent | None,
    parts: list[str],
    settled: bool,
) -> None:
    """Settle the rate limiter's permit with the stream's usage and end its span: completed, broken or abandoned
    (the caller closed it, or it was garbage-collected). Called from ``chunks``' ``finally``: an unsettled stream
    ends by the exception in flight there."""
    usage = _usage(event)
    _settle(answer, request, event, "".join(parts))
    if call is None:
        return
    call.finish_reason = telemetry.finish_reason(event.raw if event is not None else None)
    broken: BaseException | None = None
    if not settled:
        broken = sys.exc_info()[1]
        if isinstance(broken, GeneratorExit):  # closed by the caller: abandoned, unless it broke just before
            context = broken.__context__
            broken = context if isinstance(context, exc.TektonLLMError) else None
    call.end(
        model=shape.model,
        provider=shape.provider,
        usage=usage,
        text="".join(parts),
        error=broken,
        outcome="completed" if settled else "broken" if broken is not None else "abandoned",
    )


def _failure(error: exc.TektonLLMError) -> exc.TektonLLMError:
    """What actually broke a stream (an ``IncompleteStreamError`` from below names it as its cause)."""
    cause: Any = error.__cause__ if isinstance(error, exc.IncompleteStreamError) else None
    return cause if isinstance(cause, exc.TektonLLMError) else error


def _incomplete(failure: exc.TektonLLMError, parts: list[str], request: LLMRequest) -> exc.IncompleteStreamError:
    """The error of a stream that broke after delivering ``parts`` (the partial text is kept)."""
    return exc.IncompleteStreamError(
        f"stream broke after {sum(map(len, parts))} characters: {failure.message}",
        partial_text="".join(parts),
        request_id=request.request_id,
        dialect=failure.dialect,
    )
