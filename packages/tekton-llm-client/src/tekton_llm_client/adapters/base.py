"""The small interface every fallback link has."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol

from .._request import LLMRequest, StreamEvent


class FallbackLink(Protocol):
    """A provider the client turns to when Rhetor is unavailable."""

    name: str

    async def complete(self, request: LLMRequest) -> StreamEvent:
        """One whole answer as a done event."""
        ...

    def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """The answer as events, the last one done."""
        ...

    def events(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """What the client's pipeline reads: ``stream`` for streaming requests, else one done event."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
