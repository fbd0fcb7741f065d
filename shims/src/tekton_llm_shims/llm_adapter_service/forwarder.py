"""What the service does with a legacy request: one request of the shared client to Rhetor.

The retired LLM Adapter service answered from its own Claude client. Here every answer comes from Rhetor through
one ``TektonLLMClient`` (created lazily, reused, closed at shutdown); this module turns the legacy request fields
into client calls and the client's answers and failures into the legacy result shapes (rhetor-protocol.md §8).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tekton_llm_client.client import TektonLLMClient
from tekton_llm_client.exceptions import EmptyAnswerError, ProviderError
from tekton_llm_client.models import AvailableProviders

from .._common import resolve_rhetor_url, server_message
from .._providers import classic_providers, rhetor_listing

__all__ = ["VERSION", "Forwarder", "LegacyRequest", "now_iso"]

VERSION = "0.1.0"
DEFAULT_CONTEXT = "ergon"
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


def now_iso() -> str:
    """The legacy service's timestamps: naive local ISO-8601."""
    return datetime.now().isoformat()


@dataclass(frozen=True, slots=True)
class LegacyRequest:
    """The fields of a legacy ``/message``, ``/stream`` or ``LLM_REQUEST``; ``options`` is the flat legacy form."""

    message: str
    context_id: str = DEFAULT_CONTEXT
    options: Mapping[str, Any] | None = None


class Forwarder:
    """Serves the legacy protocol's operations from Rhetor; the provider/model choice lives in this process."""

    def __init__(self, rhetor_url: str | None = None) -> None:
        self.rhetor_url = resolve_rhetor_url(rhetor_url)
        self.current_provider: str | None = None
        self.current_model: str | None = None
        self._client: TektonLLMClient | None = None

    def _get_client(self) -> TektonLLMClient:
        if self._client is None:
            self._client = TektonLLMClient("llm_adapter", rhetor_url=self.rhetor_url, use_fallback=False)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- listings -----------------------------------------------------------------------------------------------

    async def listing(self) -> AvailableProviders | None:
        """Rhetor's provider/model listing (either generation), or ``None`` within 2 s."""
        return await rhetor_listing(self._get_client(), timeout=2.0, classic_only=False)

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
        try:
            status = await self._get_client().health()
            rhetor = {"url": self.rhetor_url, "status": status.status, "dialect": status.dialect}
            healthy = status.healthy
        except Exception as error:
            rhetor = {"url": self.rhetor_url, "status": "unreachable", "error": server_message(error)}
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

    # -- generation ---------------------------------------------------------------------------------------------

    def _call(self, request: LegacyRequest) -> dict[str, Any]:
        options = dict(request.options or {})
        call_options = {
            "model": options.get("model") or self.current_model,
            "provider": self.current_provider,
            "temperature": options.get("temperature", DEFAULT_TEMPERATURE),
            "max_tokens": options.get("max_tokens", DEFAULT_MAX_TOKENS),
        }
        return {
            "messages": [{"role": "user", "content": request.message}],
            "context_id": request.context_id,
            "options": {key: value for key, value in call_options.items() if value is not None},
        }

    async def message(self, request: LegacyRequest) -> dict[str, Any]:
        """The legacy ``/message`` result: the answer, or ``{"error", "context", "timestamp"}``. Never raises."""
        try:
            response = await self._get_client().generate_chat_response(**self._call(request))
            if response.error:
                raise ProviderError(response.error)
            text, model = response.content, response.model
        except EmptyAnswerError:
            text, model = "", ""
        except Exception as error:
            return {"error": server_message(error), "context": request.context_id, "timestamp": now_iso()}
        context = request.context_id
        return {"message": text, "context": context, "model": model, "finished": True, "timestamp": now_iso()}

    async def chunks(self, request: LegacyRequest) -> AsyncGenerator[dict[str, Any], None]:
        """Stream events: ``{"chunk", "model", ...}`` per text piece, then ``done``, or one error event."""
        stream = self._get_client().generate_chat_response(**self._call(request), streaming=True)
        base = {"context": request.context_id}
        model = ""
        try:
            async with aclosing(_iterate(stream)) as items:
                async for item in items:
                    model = item.model or model
                    if item.error:
                        raise ProviderError(item.error)
                    if item.chunk:
                        yield {"chunk": item.chunk, **base, "model": model, "timestamp": now_iso(), "done": False}
        except EmptyAnswerError:
            pass
        except Exception as error:
            yield {"error": server_message(error), **base, "timestamp": now_iso(), "done": True}
            return
        yield {"chunk": "", **base, "model": model, "timestamp": now_iso(), "done": True}


async def _iterate(stream: Any) -> AsyncGenerator[Any, None]:
    try:
        async for item in stream:
            yield item
    finally:
        await stream.aclose()


def _claude_available(listing: AvailableProviders | None) -> bool:
    if listing is None:
        return False
    return bool(listing.providers.get("anthropic", {}).get("available", False))


def _copy(providers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: {**value, "models": [dict(model) for model in value["models"]]} for key, value in providers.items()}
