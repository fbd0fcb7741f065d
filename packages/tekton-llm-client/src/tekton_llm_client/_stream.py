"""The text stream object returned by streaming calls: async-iterable *and* awaitable.

Real components use every shape: ``await`` then ``async for``, ``async for`` without ``await``, and ``await`` then
hand the stream to ``StreamHandler``. Awaiting returns the stream itself, so all of them work.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

from .models import StreamingChunk

__all__ = ["ChunkCallback", "StopCutter", "TextStream", "call_callback", "cut_at_stop"]

ChunkCallback = Callable[[StreamingChunk], Any]


async def call_callback(callback: Callable[[Any], Any], item: Any) -> None:
    """Call a sync or async callback; drain it when it is an async generator function."""
    result = callback(item)
    if inspect.isawaitable(result):
        await result
    elif hasattr(result, "__aiter__"):
        async for _ in result:
            pass


class TextStream:
    """A stream of ``StreamingChunk``; the last one has ``done=True``. Errors raise typed exceptions."""

    def __init__(self, source: AsyncIterator[StreamingChunk], callback: ChunkCallback | None = None) -> None:
        self._source = source
        self._callback = callback
        self._model_info: dict[str, Any] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"TextStream(model_info={self._model_info!r}, closed={self._closed})"

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> StreamingChunk:
        if self._closed:
            raise StopAsyncIteration
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._closed = True
            raise
        info = self._model_info
        if (chunk.model or chunk.provider) and (
            info.get("model") != chunk.model or info.get("provider") != chunk.provider
        ):
            self._model_info = {"model": chunk.model, "provider": chunk.provider, "fallback": chunk.fallback}
        if self._callback is not None:
            await call_callback(self._callback, chunk)
        return chunk

    def __await__(self) -> Generator[Any, None, TextStream]:
        return self._self().__await__()

    async def _self(self) -> TextStream:
        return self

    async def text(self) -> str:
        """Consume the rest of the stream and return its joined text."""
        return "".join([chunk.chunk async for chunk in self])

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        self._closed = True
        close = getattr(self._source, "aclose", None)
        if close is not None:
            result = close()
            if isinstance(result, Awaitable):
                await result


def cut_at_stop(text: str, stops: list[str] | None) -> str:
    """``text`` up to the first stop sequence. Rhetor has no stop parameter, so the client applies them."""
    if not stops:
        return text
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]


class StopCutter:
    """Applies stop sequences to a stream: holds back only what could be the start of a stop sequence."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._hold = max((len(s) for s in self._stops), default=1) - 1
        self._buffer = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of ``text`` that is certainly before any stop sequence."""
        if self.stopped:
            return ""
        self._buffer += text
        cut = cut_at_stop(self._buffer, self._stops)
        if len(cut) < len(self._buffer):
            self.stopped = True
            self._buffer = ""
            return cut
        safe = len(self._buffer) - self._hold
        if safe <= 0:
            return ""
        out, self._buffer = self._buffer[:safe], self._buffer[safe:]
        return out

    def flush(self) -> str:
        """What is still held back once the stream ended without a stop sequence."""
        out, self._buffer = self._buffer, ""
        return out
