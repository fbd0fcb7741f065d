"""``TektonLLMClient``: the one async client for Rhetor.

A call becomes one ``LLMRequest``; the detected dialect puts it on the wire over HTTP (or over WebSocket, when the
server's HTTP generation route is broken as shipped); the retry policy retries it before any text was seen; and when
Rhetor is unavailable the fallback chain (extra Rhetor models, Ollama, a local canned answer) answers with
``fallback=True``. The OpenAI-shaped and legacy call shapes live in ``_compat_client.py`` on top of this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import exceptions as exc
from ._breaker import CircuitBreaker
from ._compat_client import CompatMixin
from ._request import LLMRequest, StreamEvent, new_request_id
from ._stream import ChunkCallback, TextStream
from .adapters.fallback import LocalFallbackAdapter
from .config import ClientConfig, resolve_config
from .models import AvailableProviders, CompletionResponse, HealthStatus, Message, StreamingChunk, message_dict
from .settings import ClientSettings, LLMSettings
from .utils.retries import RetryPolicy

if TYPE_CHECKING:
    from ._dialects.base import HttpDialect
    from ._transport.http import HttpTransport
    from .adapters.base import FallbackLink
    from .budget import BudgetTracker
    from .cache import ResponseCache
    from .context_manager import ContextManager

__all__ = ["BatchResult", "Client", "TektonLLMClient"]

logger = logging.getLogger("tekton_llm_client")

# Options that map onto the logical request; anything else travels in ``extra``.
_REQUEST_OPTIONS = ("temperature", "max_tokens", "top_p", "model", "provider", "task_type", "timeout")
_SWITCH_STATUSES = (404, 405, 500, 501)


class BatchResult:
    """Outcome of one prompt of ``generate_batch``: a response or an error, never both."""

    __slots__ = ("error", "index", "prompt", "response")

    def __init__(
        self, index: int, prompt: str, response: CompletionResponse | None, error: exc.TektonLLMError | None
    ) -> None:
        self.index = index
        self.prompt = prompt
        self.response = response
        self.error = error

    @property
    def ok(self) -> bool:
        """True when the prompt got a response."""
        return self.error is None

    def __repr__(self) -> str:
        state = "ok" if self.ok else type(self.error).__name__
        return f"BatchResult(index={self.index}, {state})"


class TektonLLMClient(CompatMixin):
    """Async client for one component. Use ``async with`` or ``await aclose()``; connections are pooled."""

    def __init__(
        self,
        component_id: str | None = None,
        rhetor_url: str | None = None,
        provider_id: str | None = None,
        model_id: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        use_fallback: bool | None = None,
        auth_token: str | None = None,
        *,
        base_url: str | None = None,
        default_model: str | None = None,
        settings: ClientSettings | None = None,
        llm_settings: LLMSettings | None = None,
        adapter: LocalFallbackAdapter | None = None,
        api: str | None = None,
        transport: str | None = None,
        ws_url: str | None = None,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 30.0,
        cache: ResponseCache | None = None,
        budget: BudgetTracker | None = None,
        context_manager: ContextManager | None = None,
    ) -> None:
        self.config: ClientConfig = resolve_config(
            component_id,
            rhetor_url=rhetor_url,
            base_url=base_url,
            ws_url=ws_url,
            provider_id=provider_id,
            model_id=model_id,
            default_model=default_model,
            timeout=timeout,
            max_retries=max_retries,
            use_fallback=use_fallback,
            auth_token=auth_token,
            api=api,
            transport=transport,
            settings=settings,
            llm_settings=llm_settings,
        )
        self.settings = settings
        self.llm_settings = llm_settings
        # Live settings (Hermes assigns settings.provider_id after construction) apply unless an argument pinned them.
        self._pinned_provider = provider_id is not None
        self._pinned_model = model_id is not None or default_model is not None
        self.adapter = adapter if adapter is not None else LocalFallbackAdapter(self.config.component_id)
        self.retry_policy = RetryPolicy(
            max_retries=self.config.max_retries,
            backoff_base=self.config.backoff_base,
            backoff_cap=self.config.backoff_cap,
            retry_after_cap=self.config.retry_after_cap,
        )
        self.breaker = CircuitBreaker(breaker_threshold, breaker_cooldown)
        self.cache = cache
        self.budget = budget
        self.context_manager = context_manager
        self._http: HttpTransport | None = None
        self._ws: Any = None
        self._dialect_name: str | None = None if self.config.api == "auto" else self.config.api
        self._dialect_obj: HttpDialect | None = None
        self._use_ws = self.config.transport == "ws"
        self._ollama: FallbackLink | None = None
        self._detect_lock: asyncio.Lock | None = None

    # ----------------------------------------------------------------------------------------------- lifecycle

    def __repr__(self) -> str:
        return (
            f"TektonLLMClient(component_id={self.config.component_id!r}, rhetor_url={self.config.base_url!r}, "
            f"dialect={self._dialect_name or 'auto'!s}, transport={'ws' if self._use_ws else self.config.transport})"
        )

    @property
    def component_id(self) -> str:
        """The calling component's id."""
        return self.config.component_id

    @property
    def rhetor_url(self) -> str:
        """Base URL of Rhetor (path prefix kept)."""
        return self.config.base_url

    @property
    def dialect(self) -> str | None:
        """``v1`` or ``classic`` once known (pinned or detected)."""
        return self._dialect_name

    @property
    def transport(self) -> str:
        """The transport generation currently uses: ``http`` or ``ws``."""
        return "ws" if self._use_ws else "http"

    async def __aenter__(self) -> TektonLLMClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection this client opened (idempotent; the client re-opens lazily if used again)."""
        http, self._http = self._http, None
        ws, self._ws = self._ws, None
        ollama, self._ollama = self._ollama, None
        if http is not None:
            await http.aclose()
        if ws is not None:
            await ws.close()
        if ollama is not None:
            await ollama.aclose()

    # ----------------------------------------------------------------------------------------------- plumbing

    def _transport(self) -> HttpTransport:
        if self._http is None:
            from ._transport.http import HttpTransport

            self._http = HttpTransport(self.config)
        return self._http

    async def _dialect(self, request_id: str | None = None) -> HttpDialect:
        if self._dialect_name is not None and self._dialect_obj is not None:
            return self._dialect_obj
        from ._dialects import DIALECTS

        if self._dialect_name is None:
            if self._detect_lock is None:
                self._detect_lock = asyncio.Lock()
            async with self._detect_lock:
                if self._dialect_name is None:
                    from ._dialects.detect import detect_dialect

                    self._dialect_name = await detect_dialect(self._transport(), request_id)
                    logger.info("Rhetor at %s speaks %s", self.config.base_url, self._dialect_name)
        self._dialect_obj = DIALECTS[self._dialect_name]
        return self._dialect_obj

    def _forget_dialect(self) -> None:
        if self.config.api == "auto":
            self._dialect_name = None
            self._dialect_obj = None

    def _ws_client(self, dialect: str) -> Any:
        if self._ws is None:
            from .ws_client import TektonLLMWebSocketClient

            self._ws = TektonLLMWebSocketClient(
                self.config.component_id,
                rhetor_url=self.config.ws_url,
                auth_token=self.config.auth_token,
                dialect=dialect,
                timeout=self.config.timeout,
                frame_timeout=self.config.stream_idle_timeout,
                # The client's own retry policy paces attempts; the socket should not add its 5 s default.
                reconnect_interval=int(self.config.backoff_base * 1000),
            )
        return self._ws

    def _switch_to_ws(self, error: exc.TektonLLMError) -> bool:
        """In ``auto`` transport, a v1 HTTP generation route that is broken as shipped moves generation to WS."""
        if self._use_ws or self.config.transport != "auto" or self._dialect_name != "v1":
            return False
        broken_route = isinstance(error, exc.HTTPStatusError) and error.status_code in _SWITCH_STATUSES
        if broken_route or (isinstance(error, exc.ProviderError) and not isinstance(error, exc.EmptyAnswerError)):
            logger.warning(
                "Rhetor's HTTP chat route failed (%s); generating over WebSocket %s for the rest of this client's life",
                error,
                self.config.ws_url,
            )
            self._use_ws = True
            return True
        return False

    # ------------------------------------------------------------------------------------------ request model

    def _effective(self, name: str) -> str | None:
        """Provider or model at request time, honouring live ``settings`` assignments."""
        if name == "provider":
            if not self._pinned_provider and self.settings is not None and self.settings.provider_id:
                return self.settings.provider_id
            return self.config.provider_id
        if not self._pinned_model and self.settings is not None and self.settings.model_id:
            return self.settings.model_id
        return self.config.model_id

    def build_request(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        *,
        system_prompt: str | None = None,
        options: Mapping[str, Any] | None = None,
        settings: LLMSettings | None = None,
        context_id: str | None = None,
        stream: bool = False,
    ) -> LLMRequest:
        """The logical request for a call: ``options`` > explicit ``settings`` > client ``llm_settings`` > config."""
        msgs = [message_dict(m) for m in messages]
        systems: list[str] = [system_prompt] if system_prompt else []
        while msgs and msgs[0]["role"] == "system":
            systems.append(msgs.pop(0)["content"])
        if not msgs:
            raise exc.InvalidRequestError("at least one non-system message is required")
        merged: dict[str, Any] = {}
        if self.llm_settings is not None:
            merged.update(self.llm_settings.explicit())
        if settings is not None:
            merged.update(settings.explicit())
        merged.update({k: v for k, v in (options or {}).items() if v is not None})
        if "stop_sequences" in merged and "stop" not in merged:
            merged["stop"] = merged.pop("stop_sequences")
        extra = {
            k: v
            for k, v in merged.items()
            if k not in _REQUEST_OPTIONS
            and k
            not in ("stop", "rhetor_url", "auth_token", "max_retries", "retry_delay", "use_fallback", "templates_dir")
        }
        timeout = merged.get("timeout")
        return LLMRequest(
            messages=msgs,
            system_prompt="\n\n".join(s for s in systems if s) or None,
            model=merged.get("model") or self._effective("model"),
            provider=merged.get("provider") or self._effective("provider"),
            temperature=merged.get("temperature"),
            max_tokens=merged.get("max_tokens"),
            top_p=merged.get("top_p"),
            stop=list(merged["stop"]) if merged.get("stop") else None,
            context_id=context_id or self.config.context_id or self.config.component_id,
            task_type=merged.get("task_type"),
            component=self.config.component_id,
            stream=stream,
            extra=extra,
            timeout=float(timeout) if timeout else None,
        )

    # --------------------------------------------------------------------------------------------- generation

    @overload
    def generate_text(
        self,
        prompt: str,
        system_prompt: str | None = ...,
        streaming: Literal[False] = ...,
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
        settings: LLMSettings | None = ...,
        chat_history: Sequence[Message | Mapping[str, Any]] | None = ...,
    ) -> Awaitable[CompletionResponse]: ...

    @overload
    def generate_text(
        self,
        prompt: str,
        system_prompt: str | None = ...,
        *,
        streaming: Literal[True],
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
        settings: LLMSettings | None = ...,
        chat_history: Sequence[Message | Mapping[str, Any]] | None = ...,
    ) -> TextStream: ...

    @overload
    def generate_text(
        self,
        prompt: str,
        system_prompt: str | None = ...,
        streaming: bool = ...,
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
        settings: LLMSettings | None = ...,
        chat_history: Sequence[Message | Mapping[str, Any]] | None = ...,
    ) -> Awaitable[CompletionResponse] | TextStream: ...

    def generate_text(
        self,
        prompt: str,
        system_prompt: str | None = None,
        streaming: bool = False,
        callback: ChunkCallback | None = None,
        context_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        settings: LLMSettings | None = None,
        chat_history: Sequence[Message | Mapping[str, Any]] | None = None,
    ) -> Awaitable[CompletionResponse] | TextStream:
        """Answer one prompt: await it for a ``CompletionResponse``; with ``streaming=True`` get a ``TextStream``.

        The stream is usable with ``async for`` directly and may also be awaited (it returns itself).
        """
        remember = chat_history is None and self.context_manager is not None
        if self.context_manager is not None and chat_history is None:
            chat_history = self.context_manager.messages_for_request(None, context_id or self.config.context_id)
        history = [message_dict(m) for m in (chat_history or [])]
        systems = [m["content"] for m in history if m["role"] == "system"]
        turns = [m for m in history if m["role"] != "system"]
        system = "\n\n".join([s for s in [system_prompt, *systems] if s]) or None
        request = self.build_request(
            [*turns, {"role": "user", "content": prompt}],
            system_prompt=system,
            options=options,
            settings=settings,
            context_id=context_id,
            stream=streaming,
        )
        request.remember = remember
        if streaming:
            return TextStream(self._stream_chunks(request), callback)
        return self._complete(request, callback)

    @overload
    def generate_chat_response(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = ...,
        streaming: Literal[False] = ...,
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
    ) -> Awaitable[CompletionResponse]: ...

    @overload
    def generate_chat_response(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = ...,
        *,
        streaming: Literal[True],
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
    ) -> TextStream: ...

    @overload
    def generate_chat_response(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = ...,
        streaming: bool = ...,
        callback: ChunkCallback | None = ...,
        context_id: str | None = ...,
        options: Mapping[str, Any] | None = ...,
    ) -> Awaitable[CompletionResponse] | TextStream: ...

    def generate_chat_response(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = None,
        streaming: bool = False,
        callback: ChunkCallback | None = None,
        context_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Awaitable[CompletionResponse] | TextStream:
        """Answer a conversation (a leading system message is the system prompt); streams as ``generate_text``."""
        request = self.build_request(
            messages, system_prompt=system_prompt, options=options, context_id=context_id, stream=streaming
        )
        if streaming:
            return TextStream(self._stream_chunks(request), callback)
        return self._complete(request, callback)

    async def generate_batch(
        self,
        prompts: Sequence[str],
        *,
        concurrency: int = 4,
        system_prompt: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> list[BatchResult]:
        """Answer many prompts with at most ``concurrency`` in flight; each item carries its response or error."""
        if concurrency < 1:
            raise exc.InvalidRequestError("concurrency must be >= 1")
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, prompt: str) -> BatchResult:
            async with gate:
                try:
                    response = await self.generate_text(prompt, system_prompt=system_prompt, options=options)
                except exc.TektonLLMError as error:
                    return BatchResult(index, prompt, None, error)
                return BatchResult(index, prompt, response, None)

        return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts))))

    async def _complete(self, request: LLMRequest, callback: ChunkCallback | None = None) -> CompletionResponse:
        self._check_budget(request)
        if self.cache is not None:
            cached = self.cache.get(request)
            if cached is not None:
                return cached
        started = time.perf_counter()
        try:
            event = await self._rhetor_complete(request)
        except exc.TektonLLMError as error:
            event = await self._fall_back(request, error)
        response = CompletionResponse(
            content=event.text,
            model=event.model or request.model or "",
            provider=event.provider or request.provider or "",
            finish_reason="stop",
            usage=_usage(event),
            context_id=event.context_id or request.context_id or "",
            fallback=event.fallback,
            latency=time.perf_counter() - started,
            error=("LLM service unavailable" if event.provider == self.adapter.name else None),
            request_id=request.request_id,
        )
        self._after_answer(request, response)
        if self.cache is not None and not response.fallback:
            self.cache.put(request, response)
        if callback is not None:
            from ._stream import call_callback

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

    async def _guard(self, request: LLMRequest) -> None:
        """Circuit breaker: while open, Rhetor is skipped; after the cool-down one ``/health`` probe decides."""
        state = self.breaker.state
        if state == "closed":
            return
        if state == "half-open":
            try:
                await self._transport().request("GET", "/health", request_id=request.request_id, timeout=2.0)
            except exc.TektonLLMError:
                self.breaker.record_failure()
            else:
                logger.info("Rhetor at %s answers again; circuit closed", self.config.base_url)
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

    async def _rhetor_complete(self, request: LLMRequest) -> StreamEvent:
        """The primary model, then the adapter's ``fallback_models``, each through Rhetor under the retry policy."""
        if self.breaker.state != "closed":
            await self._guard(request)
        try:
            try:
                event = await self._rhetor_complete_once(request)
            except exc.TektonLLMError as error:
                if not self.adapter.fallback_models or not (error.unavailable or isinstance(error, exc.ProviderError)):
                    raise
                event = await self._fallback_models(request, error)
        except exc.TektonLLMError as error:
            self._note(error)
            raise
        self._note(None)
        return event

    async def _fallback_models(self, request: LLMRequest, error: exc.TektonLLMError) -> StreamEvent:
        for model in self.adapter.fallback_models:
            logger.info("model %s failed (%s); trying fallback model %s", request.model, error, model)
            try:
                return await self._rhetor_complete_once(_with_model(request, model))
            except exc.TektonLLMError as next_error:
                if not (next_error.unavailable or isinstance(next_error, exc.ProviderError)):
                    raise
                error = next_error
        raise error

    async def _rhetor_complete_once(self, request: LLMRequest) -> StreamEvent:
        event: StreamEvent | None = None
        async for attempt in self.retry_policy.attempts():
            async with attempt:
                dialect = await self._dialect(request.request_id)
                try:
                    event = await self._complete_over(dialect, request)
                except exc.TektonLLMError as error:
                    if not self._switch_to_ws(error):
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
        ws = self._ws_client(dialect.name)
        source = ws.stream_request(request)
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

    # ---------------------------------------------------------------------------------------------- streaming

    async def _stream_chunks(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]:
        """Rhetor's events as chunks, ending with exactly one ``done`` chunk; fallback only before any text."""
        self._check_budget(request)
        parts: list[str] = []
        delivered = False
        model = request.model or ""
        provider = request.provider or ""
        context_id = request.context_id or ""
        events: AsyncIterator[StreamEvent] | None = None
        try:
            first, events = await self._open_rhetor_stream(request)
            event = first
            while event is not None:
                model = event.model or model
                provider = event.provider or provider
                context_id = event.context_id or context_id
                if event.text:
                    parts.append(event.text)
                    delivered = True
                    yield StreamingChunk(
                        chunk=event.text,
                        context_id=context_id,
                        model=model,
                        provider=provider,
                        fallback=event.fallback,
                        request_id=request.request_id,
                    )
                if event.done:
                    break
                event = await anext(events, None)
        except exc.TektonLLMError as error:
            if delivered:
                if isinstance(error, exc.IncompleteStreamError):
                    error.partial_text = "".join(parts)
                    raise
                raise exc.IncompleteStreamError(
                    f"stream broke after {len(''.join(parts))} characters: {error}",
                    partial_text="".join(parts),
                    request_id=request.request_id,
                    dialect=error.dialect,
                ) from error
            if not (self.config.use_fallback and error.unavailable):
                raise
            logger.warning("Rhetor unavailable for a stream (%s); using the fallback chain", error)
            async for chunk in self._fallback_stream(request):
                yield chunk
            return
        finally:
            if events is not None:
                await _aclose(events)
        if not delivered:
            # Nothing but empty chunks: a silent empty answer (v1 with an unavailable provider).
            empty = exc.EmptyAnswerError("Rhetor returned an empty answer", request_id=request.request_id)
            if not self.config.use_fallback:
                raise empty
            async for chunk in self._fallback_stream(request):
                yield chunk
            return
        usage_response = CompletionResponse(
            content="".join(parts), model=model, provider=provider, context_id=context_id
        )
        self._after_answer(request, usage_response)
        yield StreamingChunk(
            chunk="", context_id=context_id, model=model, provider=provider, done=True, request_id=request.request_id
        )

    async def _fallback_stream(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]:
        for link in self._fallback_links():
            delivered = False
            try:
                async for event in link.stream(request):
                    if event.text or event.done:
                        delivered = delivered or bool(event.text)
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
                if delivered:
                    raise exc.IncompleteStreamError(
                        f"fallback stream from {link.name} broke: {error}", request_id=request.request_id
                    ) from error
                logger.info("fallback %s failed: %s", link.name, error)

    async def _open_rhetor_stream(self, request: LLMRequest) -> tuple[StreamEvent | None, AsyncIterator[StreamEvent]]:
        """Open the stream under the retry policy: only its opening and first event are retried."""
        if self.breaker.state != "closed":
            await self._guard(request)
        events: AsyncIterator[StreamEvent] | None = None
        first: StreamEvent | None = None
        try:
            async for attempt in self.retry_policy.attempts():
                async with attempt:
                    dialect = await self._dialect(request.request_id)
                    events, first = await self._open_stream(dialect, request)
        except exc.TektonLLMError as error:
            self._note(error)
            raise
        self._note(None)
        assert events is not None
        return first, events

    async def _open_stream(
        self, dialect: HttpDialect, request: LLMRequest
    ) -> tuple[AsyncIterator[StreamEvent], StreamEvent | None]:
        """Start a stream and read its first event (switching v1 to WebSocket when its HTTP route is broken)."""
        events = self._events_over(dialect, request)
        try:
            first = await events.__anext__()
        except StopAsyncIteration:
            return events, None
        except exc.TektonLLMError as error:
            if not self._switch_to_ws(error):
                raise
            events = self._events_over(dialect, request)
            try:
                first = await events.__anext__()
            except StopAsyncIteration:
                return events, None
        return events, first

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
            raise exc.ConnectionError(
                "classic stream closed before any event", request_id=request.request_id, dialect=dialect.name
            )
        if not saw_done:
            yield StreamEvent(done=True)

    # ------------------------------------------------------------------------------------------- other reads

    async def health(self) -> HealthStatus:
        """``GET /health``: status, detected generation and raw body (raises when Rhetor is unreachable)."""
        from ._dialects.detect import dialect_from_health

        body = (await self._transport().request("GET", "/health")).body
        body = body if isinstance(body, dict) else {}
        status = str(body.get("status", "unknown"))
        return HealthStatus(
            status=status,
            healthy=status in ("healthy", "ok"),
            dialect=self._dialect_name or dialect_from_health(body),
            version=body.get("version"),
            raw=body,
        )

    async def get_providers(self) -> AvailableProviders:
        """Providers and their models. v1 has no providers route: its model listing (or the defaults) is used."""
        dialect = await self._dialect()
        route = dialect.providers_route()
        body: Any = {}
        if route is not None:
            try:
                body = (await self._transport().request("GET", route, dialect=dialect.name)).body
            except (exc.ServerError, exc.NotFoundError, exc.ProtocolError) as error:
                if dialect.name != "v1":
                    raise
                logger.info("v1 model listing unavailable (%s); reporting configured defaults", error)
                body = {}
        listing = dialect.parse_providers(body, self._effective("provider"), self._effective("model"))
        if not listing.providers and (self._effective("provider") or self._effective("model")):
            provider = self._effective("provider") or "rhetor"
            model = self._effective("model")
            listing.providers[provider] = {
                "name": provider,
                "available": True,
                "models": {model: {"id": model, "name": model, "provider": provider}} if model else {},
            }
        return listing

    async def set_provider(self, provider_id: str, model_id: str) -> dict[str, Any]:
        """Change Rhetor's default provider/model (classic only) and use them for this client's requests."""
        dialect = await self._dialect()
        route = dialect.set_provider(provider_id, model_id)
        if route is None:
            raise exc.UnsupportedOperation(
                f"Rhetor {dialect.name} has no set-provider endpoint; pass provider/model per request instead",
                dialect=dialect.name,
            )
        path, body = route
        result = (await self._transport().request("POST", path, json_body=body, dialect=dialect.name)).body
        self.config = self.config.with_changes(provider_id=provider_id, model_id=model_id)
        self._pinned_provider = self._pinned_model = True
        return result if isinstance(result, dict) else {"success": True}

    async def get_context(self, context_id: str) -> dict[str, Any]:
        """A server-side context (v1 as shipped answers 500 here; the error says so)."""
        dialect = await self._dialect()
        body = (await self._transport().request("GET", dialect.context_route(context_id), dialect=dialect.name)).body
        return body if isinstance(body, dict) else {"context": body}

    async def clear_context(self, context_id: str) -> bool:
        """Delete a server-side context (both generations answer success even for unknown ids)."""
        dialect = await self._dialect()
        await self._transport().request("DELETE", dialect.context_route(context_id), dialect=dialect.name)
        return True

    async def get_budget_usage(self, period: str = "daily") -> dict[str, Any]:
        """Rhetor's own usage summary (v1: ``/api/v1/budget/usage``; classic: ``/budget/summary``)."""
        dialect = await self._dialect()
        routes = dialect.budget_routes()
        path = routes.get("summary", routes["usage"])
        params = {"period": period} if "summary" in routes else None
        body = (await self._transport().request("GET", path, params=params, dialect=dialect.name)).body
        return body if isinstance(body, dict) else {}

    async def get_budget_status(self) -> dict[str, Any]:
        """Classic's per-period limits and usage (``/budget``); v1 has no such route."""
        dialect = await self._dialect()
        path = dialect.budget_routes().get("status")
        if path is None:
            raise exc.UnsupportedOperation(f"Rhetor {dialect.name} has no budget status route", dialect=dialect.name)
        body = (await self._transport().request("GET", path, dialect=dialect.name)).body
        return body if isinstance(body, dict) else {}


def _with_model(request: LLMRequest, model: str | None) -> LLMRequest:
    from dataclasses import replace

    return replace(request, model=model, request_id=new_request_id())


def _usage(event: StreamEvent) -> dict[str, int] | None:
    raw = event.raw or {}
    usage = raw.get("usage")
    if isinstance(usage, dict):
        return {str(k): int(v) for k, v in usage.items() if isinstance(v, (int, float))}
    return None


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    close: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


Client = TektonLLMClient
