"""``TektonLLMClient``: the one async client for Rhetor.

A call becomes one ``LLMRequest`` (``_request.build_request``); ``Generation`` (``_generation.py``) shapes the answer
that ``Pipeline.open`` (``_pipeline.py``) gets through the breaker, the retry policy and the detected dialect over
HTTP or WebSocket, or, when Rhetor is unavailable, from the fallback chain (extra Rhetor models, Ollama, a local
canned answer, marked ``fallback=True``). The OpenAI-shaped call shapes are made in ``_compat_client.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _compat_client as compat
from . import exceptions as exc
from ._breaker import CircuitBreaker
from ._dialects.base import HttpDialect
from ._generation import Generation
from ._pipeline import Pipeline
from ._ratelimit import RateLimiter, RateLimits, limiter_for
from ._request import LLMRequest, RequestDefaults, build_request, options_dict
from ._stream import ChunkCallback, TextStream
from ._transport.http import HttpTransport
from ._urls import safe_url
from .adapters.fallback import LocalFallbackAdapter
from .config import ClientConfig, resolve_config
from .models import (
    AvailableProviders,
    ChatCompletion,
    ChatCompletionChunk,
    CompletionResponse,
    HealthStatus,
    Message,
    message_dict,
)
from .settings import ClientSettings, LLMSettings
from .utils.retries import RetryPolicy

if TYPE_CHECKING:
    from .budget import BudgetTracker
    from .cache import ResponseCache
    from .context_manager import ContextManager

__all__ = ["BatchResult", "Client", "TektonLLMClient"]

logger = logging.getLogger("tekton_llm_client")


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


class TektonLLMClient:
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
        rate_limits: RateLimits | Mapping[str, Any] | None = None,
    ) -> None:
        config = resolve_config(
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
            rate_limits=rate_limits,
        )
        self.settings = settings
        self.llm_settings = llm_settings
        # Live settings (Hermes assigns settings.provider_id after construction) apply unless an argument pinned them.
        self._pinned_provider = provider_id is not None
        self._pinned_model = model_id is not None or default_model is not None
        self._pipeline = Pipeline(
            config,
            adapter=adapter if adapter is not None else LocalFallbackAdapter(config.component_id),
            retry_policy=RetryPolicy(
                max_retries=config.max_retries,
                backoff_base=config.backoff_base,
                backoff_cap=config.backoff_cap,
                retry_after_cap=config.retry_after_cap,
            ),
            breaker=CircuitBreaker(breaker_threshold, breaker_cooldown),
            # Every client of a component shares its limiter, also one without limits of its own (see _ratelimit).
            limiter=limiter_for(config.component_id, config.rate_limits or RateLimits()),
        )
        self._generation = Generation(self._pipeline, config.component_id)
        self._generation.cache = cache
        self._generation.budget = budget
        self._generation.context_manager = context_manager

    # ----------------------------------------------------------------------------------------------- lifecycle

    def __repr__(self) -> str:
        return (
            f"TektonLLMClient(component_id={self.config.component_id!r}, "
            f"rhetor_url={safe_url(self.config.base_url)!r}, "
            f"dialect={self.dialect or 'auto'!s}, transport={'ws' if self._pipeline.use_ws else self.config.transport})"
        )

    @property
    def config(self) -> ClientConfig:
        """The effective configuration (resolved once, at construction)."""
        return self._pipeline.config

    @config.setter
    def config(self, value: ClientConfig) -> None:
        self._pipeline.config = value

    @property
    def adapter(self) -> LocalFallbackAdapter:
        """The fallback adapter: its ``fallback_models`` are tried before the chain moves past Rhetor."""
        return self._pipeline.adapter

    @property
    def retry_policy(self) -> RetryPolicy:
        """The one retry policy of this client (requests and WebSocket reconnects alike)."""
        return self._pipeline.retry_policy

    @property
    def rate_limiter(self) -> RateLimiter:
        """The component's client-side rate limiter, shared with its other clients in this process (every client
        has one: a client without limits of its own counts against its component's, and a 429 pauses it)."""
        limiter = self._pipeline.limiter
        assert limiter is not None  # always passed above
        return limiter

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker in front of Rhetor."""
        return self._pipeline.breaker

    @property
    def cache(self) -> ResponseCache | None:
        """Response cache for non-streaming calls (``None``: no caching)."""
        return self._generation.cache

    @cache.setter
    def cache(self, value: ResponseCache | None) -> None:
        self._generation.cache = value

    @property
    def budget(self) -> BudgetTracker | None:
        """Client-side budget tracker (``None``: no accounting)."""
        return self._generation.budget

    @budget.setter
    def budget(self, value: BudgetTracker | None) -> None:
        self._generation.budget = value

    @property
    def context_manager(self) -> ContextManager | None:
        """Conversation memory used by ``generate_text`` without ``chat_history``."""
        return self._generation.context_manager

    @context_manager.setter
    def context_manager(self, value: ContextManager | None) -> None:
        self._generation.context_manager = value

    @property
    def component_id(self) -> str:
        """The calling component's id."""
        return self.config.component_id

    @property
    def rhetor_url(self) -> str:
        """Base URL of Rhetor (path prefix kept, credentials taken out)."""
        return self.config.base_url

    @property
    def dialect(self) -> str | None:
        """``v1`` or ``classic`` once known (pinned or detected)."""
        return self._pipeline.dialect_name

    @property
    def transport(self) -> str:
        """The transport generation currently uses: ``http`` or ``ws``."""
        return "ws" if self._pipeline.use_ws else "http"

    async def __aenter__(self) -> TektonLLMClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection this client opened (idempotent; the client re-opens lazily if used again)."""
        await self._pipeline.aclose()

    async def initialize(self) -> bool:
        """Optional warm-up: detect the generation. Never raises; ``False`` when Rhetor is unreachable."""
        try:
            await self._pipeline.dialect()
        except exc.TektonLLMError:
            return False
        return True

    async def shutdown(self) -> None:
        """Release connections (idempotent; the client re-opens lazily)."""
        await self.aclose()

    # ----------------------------------------------------------------------------------------------- plumbing

    @property
    def _http(self) -> HttpTransport | None:
        return self._pipeline._http

    def _transport(self) -> HttpTransport:
        return self._pipeline.http()

    async def _dialect(self, request_id: str | None = None) -> HttpDialect:
        return await self._pipeline.dialect(request_id)

    # ------------------------------------------------------------------------------------------ request model

    def _effective(self, name: str) -> str | None:
        """Provider or model at request time, honouring live ``settings`` assignments."""
        config = self._pipeline.config
        if name == "provider":
            if not self._pinned_provider and self.settings is not None and self.settings.provider_id:
                return self.settings.provider_id
            return config.provider_id
        if not self._pinned_model and self.settings is not None and self.settings.model_id:
            return self.settings.model_id
        return config.model_id

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
        merged: dict[str, Any] = {}
        if self.llm_settings is not None:
            # Its provider/model were folded into the configuration (below settings.provider_id/model_id).
            merged.update({k: v for k, v in self.llm_settings.explicit().items() if k not in ("provider", "model")})
        if settings is not None:
            merged.update(settings.explicit())
        merged.update({k: v for k, v in (options or {}).items() if v is not None})
        config = self._pipeline.config
        defaults = RequestDefaults(
            component=config.component_id,
            model=self._effective("model"),
            provider=self._effective("provider"),
            context_id=config.context_id,
        )
        return build_request(
            messages, defaults, system_prompt=system_prompt, options=merged, context_id=context_id, stream=stream
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
        memory = self._generation.context_manager if chat_history is None else None
        if memory is not None:
            # One conversation id for reading the history and recording the exchange.
            context_id = context_id or memory.default_context_id
            chat_history = memory.messages_for_request(None, context_id)
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
        request.remember = memory is not None
        return self._generation.dispatch(request, callback)

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
        return self._generation.dispatch(request, callback)

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
            dialect=self.dialect or dialect_from_health(body),
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
        self._pipeline.config = self.config.with_changes(provider_id=provider_id, model_id=model_id)
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

    # ---------------------------------------------------------------------------- compat call shapes (§3.2-3.6)

    def generate_chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = None,
        settings: LLMSettings | None = None,
        streaming: bool = False,
        options: Mapping[str, Any] | None = None,
        callback: ChunkCallback | None = None,
        context_id: str | None = None,
    ) -> Awaitable[CompletionResponse] | TextStream:
        """Chat with per-call ``settings``; the streaming result works with ``async for`` without ``await``."""
        request = self.build_request(
            messages,
            system_prompt=system_prompt,
            options=options,
            settings=settings,
            context_id=context_id,
            stream=streaming,
        )
        return self._generation.dispatch(request, callback)

    async def chat_completion(self, messages: Sequence[Any], options: Any = None) -> ChatCompletion:
        """OpenAI-shaped completion: ``.choices[0].message.content``; ``fallback``/``error`` mark a fallback answer."""
        response = await self._generation.complete(self.build_request(messages, options=options_dict(options)))
        return compat.chat_completion(response)

    def stream_chat_completion(
        self, messages: Sequence[Any], options: Any = None
    ) -> AsyncIterator[ChatCompletionChunk]:
        """OpenAI-shaped stream (no ``await``): deltas, then one item whose ``finish_reason`` is set."""
        request = self.build_request(messages, options=options_dict(options), stream=True)
        return compat.completion_chunks(self._generation.chunks(request), f"chatcmpl-{request.request_id}")

    async def list_models(self) -> list[dict[str, Any]]:
        """Flat list ``[{"id", "provider", "name"}]`` of available models; empty when there are none."""
        return compat.model_list(await self.get_providers())

    async def chat(
        self,
        messages: Sequence[Any],
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """The same request as ``chat_completion``, answered as a plain OpenAI-style dict (plus ``fallback`` and
        ``error``, which mark a fallback answer)."""
        options = {"model": model, "temperature": temperature, "max_tokens": max_tokens, "stop_sequences": stop}
        completion = await self.chat_completion(messages, {**options, **params})
        return compat.chat_dict(completion)


Client = TektonLLMClient
