"""A blocking facade for sync callers: the async client driven by a private event loop.

It is a separate class (not a flag) so async code never blocks by accident; calling it from inside a running event
loop raises a clear error instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from . import exceptions as exc
from ._ratelimit import RateLimiter
from .client import TektonLLMClient
from .models import AvailableProviders, CompletionResponse, HealthStatus, Message, StreamingChunk
from .settings import LLMSettings

__all__ = ["SyncTektonLLMClient"]

T = TypeVar("T")


class SyncInsideEventLoopError(exc.TektonLLMError, RuntimeError):
    """The sync facade was called from a coroutine; use ``TektonLLMClient`` there."""


class SyncTektonLLMClient:
    """Same arguments and results as ``TektonLLMClient``, without ``await``. Use as a context manager or ``close()``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._client = TektonLLMClient(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    @property
    def client(self) -> TektonLLMClient:
        """The async client underneath."""
        return self._client

    @property
    def rate_limiter(self) -> RateLimiter:
        """The component's client-side rate limiter (``TektonLLMClient.rate_limiter``)."""
        return self._client.rate_limiter

    @staticmethod
    def _ensure_no_running_loop() -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise SyncInsideEventLoopError(
            "SyncTektonLLMClient was called inside a running event loop; await TektonLLMClient instead"
        )

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            self._ensure_no_running_loop()
        except SyncInsideEventLoopError:
            coro.close()
            raise
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(coro)

    def generate_text(
        self,
        prompt: str,
        system_prompt: str | None = None,
        context_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        settings: LLMSettings | None = None,
        chat_history: Sequence[Message | Mapping[str, Any]] | None = None,
    ) -> CompletionResponse:
        """Blocking ``generate_text``."""
        self._ensure_no_running_loop()
        return self._run(
            self._awaitable(
                self._client.generate_text(
                    prompt,
                    system_prompt,
                    context_id=context_id,
                    options=options,
                    settings=settings,
                    chat_history=chat_history,
                )
            )
        )

    def generate_chat_response(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = None,
        context_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> CompletionResponse:
        """Blocking ``generate_chat_response``."""
        self._ensure_no_running_loop()
        return self._run(
            self._awaitable(
                self._client.generate_chat_response(
                    messages,
                    system_prompt,
                    context_id=context_id,
                    options=options,
                )
            )
        )

    def stream_text(
        self,
        prompt: str,
        system_prompt: str | None = None,
        context_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[StreamingChunk]:
        """Iterate the chunks of a streamed answer."""
        self._ensure_no_running_loop()
        stream = self._client.generate_text(
            prompt, system_prompt, streaming=True, context_id=context_id, options=options
        )
        try:
            while True:
                try:
                    yield self._run(stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            if self._loop is not None and not self._loop.is_closed():
                self._run(stream.aclose())

    def health(self) -> HealthStatus:
        """Blocking ``health``."""
        return self._run(self._client.health())

    def get_providers(self) -> AvailableProviders:
        """Blocking ``get_providers``."""
        return self._run(self._client.get_providers())

    def close(self) -> None:
        """Close connections and the private loop (idempotent)."""
        if self._loop is not None and not self._loop.is_closed():
            self._run(self._client.aclose())
            self._loop.close()
        self._loop = None

    def __enter__(self) -> SyncTektonLLMClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    async def _awaitable(value: Awaitable[T]) -> T:
        return await value
