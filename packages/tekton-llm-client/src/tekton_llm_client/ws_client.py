"""``TektonLLMWebSocketClient``: generation over Rhetor's WebSocket, in both generations — the public class.

A thin class over ``_transport/ws.py``'s ``WebSocketTransport``, built by the same factory as ``TektonLLMClient``'s
(``_pipeline.ws_transport``). Everything else is borrowed, not owned: configuration (``resolve_config``), dialect
detection (``_dialects/detect.py``), request building (``_request.build_request``), the empty-answer and
broken-stream rules (``_pipeline``/``_generation``), reconnect pacing (a ``RetryPolicy`` through
``utils.retries.Pacing``). What it adds is what a standalone caller needs: callbacks.

Rules (rhetor-protocol.md §5, §7, §10 rows 12–18, §12.4): one request at a time per socket, every frame read under
a deadline (``frame_timeout``), a socket discarded after a frame timeout, a malformed frame, a classic ``ERROR``
(except "Unsupported request type") or an abandoned stream; only JSON objects are sent; the ``Authorization``
value appears in no log, repr or exception.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import aclosing
from typing import Any, Literal, overload

from pydantic import BaseModel

from . import exceptions as exc
from ._dialects.detect import detect_ws_dialect
from ._dialects.ws_frames import WS_DIALECTS
from ._generation import _failure, _incomplete, _usage
from ._pipeline import first_event, ws_transport
from ._ratelimit import Permit, RateLimiter, RateLimits, estimate_tokens, limiter_for
from ._request import LLMRequest, RequestDefaults, StreamEvent, build_request, options_dict
from ._transport.ws import WebSocketTransport
from ._urls import http_base_for_ws_url, safe_url
from .config import ClientConfig, resolve_config
from .models import StreamingChunk
from .utils.retries import Pacing, RetryPolicy

__all__ = ["TektonLLMWebSocketClient", "http_base_for_ws_url"]

logger = logging.getLogger("tekton_llm_client")

Callback = Callable[..., Any]
Options = Mapping[str, Any] | BaseModel | None

_MAX_RECONNECT_DELAY = 30.0


class TektonLLMWebSocketClient:
    """WebSocket client for Rhetor (v1 bare JSON, classic envelope, or the retired LLM Adapter service).

    ``rhetor_url`` is the WebSocket URL (default ``RHETOR_WS_URL``, else derived from ``RHETOR_URL``, else
    ``ws://localhost:8003/ws``); an ``http(s)://`` base URL is accepted and converted; credentials in it are sent as
    the ``Authorization`` header (a bearer token wins). ``dialect="auto"`` uses ``RHETOR_API`` when set, else asks
    ``GET <http base>/health`` once (§11), else assumes v1; a URL without the ``/ws`` path is the LLM Adapter
    service's.

    Callbacks, each sync or async, never able to break a request (their exceptions are logged):
    ``on_message(chunk: StreamingChunk)`` for every chunk received (the final one has ``done=True``),
    ``on_error(error: TektonLLMError)`` when a request fails, ``on_close(code: int | None)`` when a socket closes.

    ``timeout`` (default ``RHETOR_TIMEOUT`` or 30 s) bounds connecting; ``frame_timeout`` (default ``timeout``)
    bounds the wait for each frame of an answer. A failed connect raises at once; while connects keep failing, the
    next one waits the backoff of ``retry_policy`` from ``reconnect_interval`` ms (jittered, doubling, at most 30 s).
    Answers follow ``TektonLLMClient``'s rules: no text at all is ``EmptyAnswerError``; a stream that breaks after
    text ends with a chunk carrying ``error``, then raises ``IncompleteStreamError`` with the partial text.
    """

    def __init__(
        self,
        component_id: str,
        rhetor_url: str | None = None,
        on_message: Callback | None = None,
        on_error: Callback | None = None,
        on_close: Callback | None = None,
        reconnect_interval: int = 5000,
        auth_token: str | None = None,
        *,
        dialect: str = "auto",
        frame_timeout: float | None = None,
        timeout: float | None = None,
        rate_limits: RateLimits | Mapping[str, Any] | None = None,
    ) -> None:
        if dialect not in ("auto", *WS_DIALECTS):
            raise exc.ConfigurationError(f"dialect must be auto, v1, classic or adapter, got {dialect!r}")
        if reconnect_interval < 0:
            raise exc.ConfigurationError("reconnect_interval must be >= 0 (milliseconds)")
        if frame_timeout is not None and frame_timeout <= 0:
            raise exc.ConfigurationError("frame_timeout must be positive")
        self._config: ClientConfig = resolve_config(
            component_id, ws_url=rhetor_url, auth_token=auth_token, timeout=timeout, rate_limits=rate_limits
        )
        # The component's limiter, shared with its TektonLLMClients: each exchange takes a permit, as they do.
        self._limiter = limiter_for(self._config.component_id, self._config.rate_limits or RateLimits())
        self.component_id = component_id
        self.url = self._config.ws_url
        self.on_message = on_message
        self.on_error = on_error
        self.on_close = on_close
        self.reconnect_interval = reconnect_interval
        self.timeout = self._config.timeout
        self.frame_timeout = frame_timeout if frame_timeout is not None else self._config.timeout
        self._dialect_choice: str = dialect if dialect != "auto" else self._config.api
        self._dialect: str | None = None if self._dialect_choice == "auto" else self._dialect_choice
        self._transport: WebSocketTransport | None = None
        base = reconnect_interval / 1000.0
        self.retry_policy = RetryPolicy(max_retries=0, backoff_base=base, backoff_cap=max(base, _MAX_RECONNECT_DELAY))
        self._pacing = Pacing(self.retry_policy)

    def __repr__(self) -> str:
        return (
            f"TektonLLMWebSocketClient(component_id={self.component_id!r}, url={safe_url(self.url)!r}, "
            f"dialect={self._dialect or self._dialect_choice!r}, connected={self.connected})"
        )

    # -- state ---------------------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._transport is not None and self._transport.connected

    @property
    def rate_limiter(self) -> RateLimiter:
        """The component's client-side rate limiter, shared with its other clients in this process."""
        return self._limiter

    @property
    def dialect(self) -> str | None:
        """The generation spoken (``None`` until ``auto`` has been resolved by the first connection)."""
        return self._dialect

    async def _notify(self, callback: Callback | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("WebSocket client callback %s failed", getattr(callback, "__name__", "callback"))

    async def _closed(self, code: int | None) -> None:
        await self._notify(self.on_close, code)

    # -- connection ----------------------------------------------------------------------------------------------

    async def _ready(self, request_id: str | None) -> WebSocketTransport:
        """The transport, connected: reconnects wait the retry policy's backoff while connects keep failing."""
        transport = self._transport
        if transport is None or not transport.connected:
            await self._pacing.wait()
            dialect = self._dialect
            if dialect is None:  # a failed detection is asked again on the next connect
                dialect, settled = await detect_ws_dialect(
                    self.url,
                    authorization=self._config.authorization(ws=True),
                    timeout=self._config.connect_timeout,
                    request_id=request_id,
                )
                self._dialect = dialect if settled else None
            transport = self._transport = ws_transport(
                self._transport,
                self._config,
                dialect,
                frame_timeout=self.frame_timeout,
                close_timeout=min(2.0, self.timeout),
                on_close=self._closed,
            )
            try:
                await transport.connect()
            except exc.TektonLLMError as error:
                self._pacing.failed(error)
                raise
            self._pacing.succeeded()
        return transport

    async def connect(self) -> None:
        """Open the socket now (classic: and register). Raises ``ConnectionError``/``TimeoutError`` on failure."""
        await self._ready(None)

    async def close(self) -> None:
        """Close the socket and wait for background closing to finish. The client may be used again."""
        if self._transport is not None:
            await self._transport.aclose()

    async def __aenter__(self) -> TektonLLMWebSocketClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- requests ------------------------------------------------------------------------------------------------

    async def stream_request(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """Run one logical request; yields its text events, then exactly one ``done=True`` event (no text).

        An answer without any text is not an error here: it is just the done event, flagged
        ``raw={"empty_answer": True}``. The standalone methods (``generate``/``stream``/``chat``) raise
        ``EmptyAnswerError`` (a ``ProviderError``, ``details={"reason": "empty_answer"}``) instead. Nothing is
        retried.
        """
        async with aclosing(self._events(request, single_message=False, allow_empty=True)) as events:
            async for event in events:
                yield event

    async def _events(
        self, request: LLMRequest, *, single_message: bool, allow_empty: bool = False
    ) -> AsyncGenerator[StreamEvent, None]:
        """The answer's events; the same honesty rules as ``TektonLLMClient`` (``_pipeline``/``_generation``): an
        answer without text is ``EmptyAnswerError`` (unless ``allow_empty``), and one that breaks after text ends
        with a done event carrying ``error``, then raises ``IncompleteStreamError`` with the partial text."""
        parts: list[str] = []
        permit: Permit | None = None
        last: StreamEvent | None = None
        try:
            transport = await self._ready(request.request_id)
            permit = await self._acquire(request)
            async with aclosing(transport.exchange(request, single_message=single_message)) as events:
                if not allow_empty:
                    first = last = await first_event(events, request, transport.codec.dialect)
                    if permit is not None:
                        permit.answered()
                    parts.append(first.text)
                    await self._emit(first, request)
                    yield first
                    if first.done:
                        return
                async for event in events:
                    if permit is not None and last is None:
                        permit.answered()
                    last = event
                    if event.text:
                        parts.append(event.text)
                    await self._emit(event, request)
                    yield event
        except exc.TektonLLMError as error:
            if not parts:
                await self._notify(self.on_error, error)
                raise
            failure = _failure(error)
            final = StreamEvent(done=True, error=failure.message)
            incomplete = _incomplete(failure, parts, request)
            await self._emit(final, request)
            await self._notify(self.on_error, incomplete)
            yield final
            raise incomplete from failure
        finally:
            if permit is not None:
                permit.settle_answer(_usage(last), "".join(parts), request)
                permit.release()

    async def _acquire(self, request: LLMRequest) -> Permit | None:
        """The rate limiter's permit for one exchange — the same rules as ``TektonLLMClient``'s: waits bounded by the
        request's timeout, or ``ClientRateLimitError``; ``None`` when no limit (nor a pause) applies."""
        limiter = self._limiter
        if not limiter.engaged:
            return None
        tokens = estimate_tokens(request) if limiter.counts_tokens else 0
        permit = await limiter.acquire(tokens, timeout=request.timeout or self.timeout, request_id=request.request_id)
        return permit if permit.admitted_at is not None else None

    async def _emit(self, event: StreamEvent, request: LLMRequest) -> None:
        """Hand ``event`` to ``on_message`` as a chunk; the chunk is only built when there is a callback."""
        if self.on_message is not None:
            await self._notify(self.on_message, self._chunk(event, request))

    @staticmethod
    def _chunk(event: StreamEvent, request: LLMRequest) -> StreamingChunk:
        return StreamingChunk(
            chunk=event.text,
            context_id=event.context_id or request.context_id or "",
            model=event.model or "",
            provider=event.provider or "",
            done=event.done,
            fallback=event.fallback,
            error=event.error,
            request_id=request.request_id,
        )

    def _request(
        self, messages: Iterable[Any], context_id: str | None, system_prompt: str | None, options: Options, stream: bool
    ) -> LLMRequest:
        return build_request(
            messages,
            RequestDefaults(component=self.component_id),
            system_prompt=system_prompt,
            options=options_dict(options),
            context_id=context_id,
            stream=stream,
            join_system=False,
        )

    async def _collect(self, request: LLMRequest, single_message: bool) -> str:
        async with aclosing(self._events(request, single_message=single_message)) as events:
            return "".join([event.text async for event in events])

    async def generate(
        self, prompt: str, context_id: str = "default", system_prompt: str | None = None, options: Options = None
    ) -> str:
        """The complete answer to one prompt (classic: an ``LLM_REQUEST`` unless a system prompt is given)."""
        request = self._request([{"role": "user", "content": prompt}], context_id, system_prompt, options, False)
        return await self._collect(request, single_message=True)

    async def stream(
        self, prompt: str, context_id: str = "default", system_prompt: str | None = None, options: Options = None
    ) -> AsyncIterator[StreamingChunk]:
        """The answer to one prompt as chunks; the last chunk has ``done=True`` and no text.

        Iterate it to the end (or close it): the socket is held by this request until then.
        """
        request = self._request([{"role": "user", "content": prompt}], context_id, system_prompt, options, True)
        async with aclosing(self._events(request, single_message=True)) as events:
            async for event in events:
                yield self._chunk(event, request)

    async def stream_chat(
        self,
        messages: Iterable[Any],
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
    ) -> AsyncIterator[StreamingChunk]:
        """Like :meth:`stream`, for a message list (history included)."""
        request = self._request(messages, context_id, system_prompt, options, True)
        async with aclosing(self._events(request, single_message=False)) as events:
            async for event in events:
                yield self._chunk(event, request)

    @overload
    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = ...,
        system_prompt: str | None = ...,
        options: Options = ...,
        stream: Literal[False] = ...,
    ) -> str: ...

    @overload
    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = ...,
        system_prompt: str | None = ...,
        options: Options = ...,
        *,
        stream: Literal[True],
    ) -> AsyncIterator[StreamingChunk]: ...

    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
        stream: bool = False,
    ) -> str | AsyncIterator[StreamingChunk]:
        """Answer a conversation: ``await chat(msgs)`` is the text; ``await chat(msgs, stream=True)`` is an async
        iterator of chunks (as :meth:`stream_chat`, one ``await`` then ``async for``).

        ``messages`` are ``{"role", "content"}`` dicts or ``Message`` models; a leading system message is the
        system prompt unless ``system_prompt`` is given, which then replaces it.
        """
        if stream:
            return self.stream_chat(messages, context_id, system_prompt, options)
        request = self._request(messages, context_id, system_prompt, options, False)
        return await self._collect(request, single_message=False)

    async def status(self) -> dict[str, Any]:
        """The server's ``STATUS`` payload (classic and the LLM Adapter service; v1 has none)."""
        transport = await self._ready(None)
        return await transport.status()
