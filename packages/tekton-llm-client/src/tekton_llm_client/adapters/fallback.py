"""The last link of the chain: a deterministic, clearly worded "LLM service unavailable" answer.

``LocalFallbackAdapter`` (alias ``FallbackAdapter``) is also what components pass as ``adapter=``: its
``fallback_models`` are tried through Rhetor before the chain moves past Rhetor.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from .._request import LLMRequest, StreamEvent
from ..models import AvailableProviders, CompletionResponse, StreamingChunk

__all__ = [
    "FALLBACK_ERROR",
    "FALLBACK_MODEL",
    "FALLBACK_PROVIDER",
    "FALLBACK_TEXT",
    "FallbackAdapter",
    "LocalFallbackAdapter",
]

FALLBACK_PROVIDER = "local-fallback"
FALLBACK_MODEL = "local-fallback"
#: What ``error`` says on every shape of a local fallback answer (response, chunk, OpenAI-shaped result).
FALLBACK_ERROR = "LLM service unavailable"
FALLBACK_TEXT = (
    "LLM service unavailable: Rhetor could not be reached and no local model answered, "
    "so no answer was generated for this request. Please try again later."
)


class LocalFallbackAdapter:
    """Canned answers when nothing else can answer; ``fallback_models`` are extra Rhetor models to try first.

    Unknown keyword arguments are a ``TypeError`` (a misspelt ``fallback_model=`` must not pass silently), and
    ``is_available()`` is ``False``: no model stands behind the canned answer."""

    name = FALLBACK_PROVIDER

    def __init__(
        self,
        component_id: str | None = None,
        fallback_models: list[str] | None = None,
        max_retries: int = 1,
        timeout: float | None = None,
    ) -> None:
        self.component_id = component_id
        self.fallback_models = list(fallback_models or [])
        self.max_retries = max(1, int(max_retries))
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"LocalFallbackAdapter(fallback_models={self.fallback_models!r}, max_retries={self.max_retries})"

    def _event(self, request: LLMRequest) -> StreamEvent:
        return StreamEvent(
            text=FALLBACK_TEXT,
            done=True,
            model=FALLBACK_MODEL,
            provider=FALLBACK_PROVIDER,
            context_id=request.context_id,
            fallback=True,
            error=FALLBACK_ERROR,
        )

    async def complete(self, request: LLMRequest) -> StreamEvent:
        """The canned answer as one done event."""
        return self._event(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """The canned answer as one done event."""
        yield self._event(request)

    async def events(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """The canned answer as one done event (streaming or not)."""
        yield self._event(request)

    async def aclose(self) -> None:
        return None

    # Legacy adapter surface (0.2 package), answering locally.
    async def initialize(self) -> bool:
        return True

    async def shutdown(self) -> None:
        return None

    async def is_available(self) -> bool:
        """``False``: the local link only produces the "LLM service unavailable" notice, no model answers."""
        return False

    async def complete_chat(self, messages: list[Any] | None = None, **_: Any) -> CompletionResponse:
        return CompletionResponse(
            content=FALLBACK_TEXT,
            model=FALLBACK_MODEL,
            provider=FALLBACK_PROVIDER,
            fallback=True,
            context_id=self.component_id or "",
            error=FALLBACK_ERROR,
        )

    async def stream_chat(self, messages: list[Any] | None = None, **_: Any) -> AsyncIterator[StreamingChunk]:
        yield StreamingChunk(
            chunk=FALLBACK_TEXT,
            model=FALLBACK_MODEL,
            provider=FALLBACK_PROVIDER,
            fallback=True,
            done=True,
            context_id=self.component_id or "",
            error=FALLBACK_ERROR,
        )

    async def get_providers(self) -> AvailableProviders:
        return AvailableProviders(
            providers={FALLBACK_PROVIDER: self.get_provider_info()},
            default_provider=FALLBACK_PROVIDER,
            default_model=FALLBACK_MODEL,
        )

    def get_provider_info(self) -> dict[str, Any]:
        return {
            "name": "Local fallback",
            "available": False,
            "models": {FALLBACK_MODEL: {"id": FALLBACK_MODEL, "name": "Local fallback (canned answer)"}},
        }


FallbackAdapter = LocalFallbackAdapter
