"""What the service does with a legacy request: one request of its client to Rhetor.

The retired LLM Adapter service answered from its own Claude client. Here every answer comes from Rhetor through
the forwarder's own ``TektonLLMClient`` (created lazily, reused, closed at the app's shutdown: the shims'
``ClientHolder`` with a private client); this module turns the legacy request fields into client calls and the
client's answers and failures into the legacy result shapes (rhetor-protocol.md §8).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from tekton_llm_client._adapter_protocol import DEFAULT_CONTEXT, VERSION, LegacyRequest, now_iso
from tekton_llm_client.models import AvailableProviders

from .._common import ClientHolder, redact_credentials, resolve_rhetor_url, server_message
from .._providers import classic_providers, rhetor_listing

__all__ = ["DEFAULT_CONTEXT", "VERSION", "Forwarder", "LegacyRequest", "now_iso"]

DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 4000

_STATIC_PROVIDERS: dict[str, dict[str, Any]] = {
    "anthropic": {
        "name": "Anthropic Claude",
        "available": False,
        "models": [
            {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
            {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        ],
    },
    "simulated": {
        "name": "Simulated LLM",
        "available": True,
        "models": [
            {"id": "simulated-fast", "name": "Fast Simulation"},
            {"id": "simulated-standard", "name": "Standard Simulation"},
        ],
    },
}
"""The legacy service's own listing, reported when Rhetor has none to offer."""


class Forwarder(ClientHolder):
    """The service's ``AdapterBackend``: the legacy operations answered from Rhetor; the provider/model choice
    (``POST /provider``) lives in this process."""

    _component_id = "llm_adapter"
    _owns_client = True  # the app's lifespan closes it; no adapter shares it

    def __init__(self, rhetor_url: str | None = None) -> None:
        self._init_client(resolve_rhetor_url(rhetor_url))
        self.current_provider: str | None = None
        self.current_model: str | None = None

    @property
    def rhetor_url(self) -> str:
        """Where the answers come from."""
        return self.llm_url

    # -- listings -----------------------------------------------------------------------------------------------

    async def listing(self) -> AvailableProviders | None:
        """Rhetor's provider/model listing (either generation), or ``None`` within 2 s."""
        return await rhetor_listing(await self._active_client(), timeout=2.0, classic_only=False)

    async def providers(self) -> dict[str, Any]:
        """The legacy ``GET /providers`` body."""
        listing = await self.listing()
        if listing is None:
            providers, provider, model = _copy(_STATIC_PROVIDERS), "simulated", "simulated-standard"
        else:
            providers, provider, model = classic_providers(listing), listing.default_provider, listing.default_model
        return {
            "providers": providers,
            "current_provider": self.current_provider or provider,
            "current_model": self.current_model or model,
        }

    async def health(self) -> dict[str, Any]:
        """The legacy ``GET /health`` body plus a ``rhetor`` entry saying where answers come from."""
        listing = await self.listing()
        url = redact_credentials(self.rhetor_url)  # the body is public: a URL's credentials stay out of it
        try:
            status = await (await self._active_client()).health()
            rhetor = {"url": url, "status": status.status, "dialect": status.dialect}
            healthy = status.healthy
        except Exception as error:
            rhetor = {"url": url, "status": "unreachable", "error": server_message(error)}
            healthy = False
        return {
            "status": "healthy" if healthy else "degraded",
            "version": VERSION,
            "claude_available": _claude_available(listing),
            "providers": list(listing.providers) if listing is not None else list(_STATIC_PROVIDERS),
            "rhetor": rhetor,
        }

    async def claude_available(self) -> bool:
        return _claude_available(await self.listing())

    async def select(self, provider_id: str, model_id: str) -> None:
        """``POST /provider``: the original accepted and ignored it; here it selects for later requests."""
        self.current_provider, self.current_model = provider_id, model_id

    async def pause(self) -> None:
        """Answers start at once."""

    # -- generation ---------------------------------------------------------------------------------------------

    def _settings(self, request: LegacyRequest) -> dict[str, Any]:
        """The client request for a legacy one: its message as the only turn, its options, this process's choice."""
        options = dict(request.options or {})
        return {
            "context_id": request.context_id,
            "model": options.get("model") or self.current_model,
            "provider": self.current_provider,
            "temperature": options.get("temperature", DEFAULT_TEMPERATURE),
            "max_tokens": options.get("max_tokens", DEFAULT_MAX_TOKENS),
        }

    async def message(self, request: LegacyRequest) -> dict[str, Any]:
        """The legacy ``/message`` result: the answer, or ``{"error", "context", "timestamp"}``. Never raises."""
        try:
            response = await self._complete(_turn(request), **self._settings(request))
        except Exception as error:
            return {"error": server_message(error), "context": request.context_id, "timestamp": now_iso()}
        context = request.context_id
        return {
            "message": response.content,
            "context": context,
            "model": response.model,
            "finished": True,
            "timestamp": now_iso(),
        }

    async def chunks(self, request: LegacyRequest) -> AsyncGenerator[dict[str, Any], None]:
        """Stream events: ``{"chunk", "model", ...}`` per text piece, then ``done``, or one error event."""
        base = {"context": request.context_id}
        model = ""
        try:
            async with aclosing(self._stream(_turn(request), **self._settings(request))) as items:
                async for item in items:
                    model = item.model or model
                    yield {"chunk": item.chunk, **base, "model": model, "timestamp": now_iso(), "done": False}
        except Exception as error:
            yield {"error": server_message(error), **base, "timestamp": now_iso(), "done": True}
            return
        yield {"chunk": "", **base, "model": model, "timestamp": now_iso(), "done": True}


def _turn(request: LegacyRequest) -> list[dict[str, str]]:
    return [{"role": "user", "content": request.message}]


def _claude_available(listing: AvailableProviders | None) -> bool:
    if listing is None:
        return False
    return bool(listing.providers.get("anthropic", {}).get("available", False))


def _copy(providers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: {**value, "models": [dict(model) for model in value["models"]]} for key, value in providers.items()}
