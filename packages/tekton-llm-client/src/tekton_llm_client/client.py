"""``TektonLLMClient``: the one async client for Rhetor.

A call becomes one ``LLMRequest``; the detected dialect puts it on the wire over HTTP (or over WebSocket, when the
server's HTTP generation route is broken as shipped); the retry policy retries it before any text was seen; and when
Rhetor is unavailable the fallback chain (extra Rhetor models, Ollama, a local canned answer) answers with
``fallback=True``. The OpenAI-shaped and legacy call shapes live in ``_compat_client.py`` on top of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import exceptions as exc
from ._breaker import CircuitBreaker
from ._compat_client import CompatMixin
from ._generation import GenerationMixin
from ._request import LLMRequest
from ._stream import ChunkCallback, TextStream
from .adapters.fallback import LocalFallbackAdapter
from .config import ClientConfig, resolve_config, safe_url
from .models import AvailableProviders, CompletionResponse, HealthStatus, Message, message_dict
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


class TektonLLMClient(GenerationMixin, CompatMixin):
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
            f"TektonLLMClient(component_id={self.config.component_id!r}, "
            f"rhetor_url={safe_url(self.config.base_url)!r}, "
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
                    logger.info("Rhetor at %s speaks %s", safe_url(self.config.base_url), self._dialect_name)
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
            # Its provider/model were folded into the configuration (below settings.provider_id/model_id).
            merged.update({k: v for k, v in self.llm_settings.explicit().items() if k not in ("provider", "model")})
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
        memory = self.context_manager if chat_history is None else None
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
        return self._dispatch(request, callback)

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
        return self._dispatch(request, callback)

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


Client = TektonLLMClient
