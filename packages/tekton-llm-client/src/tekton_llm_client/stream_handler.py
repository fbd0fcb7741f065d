"""Consume a streamed answer: accumulate its text and feed each piece to a callback.

Component code hands over every stream shape it has: the client's stream object (async-iterable *and* awaitable),
an async generator of ``StreamingChunk`` or of plain ``str``, or a coroutine that resolves to one of those. It also
passes every callback shape: plain functions, ``async def`` functions and async *generator* functions (Athena's
callback ``yield``s). This module accepts all of them, so the call sites work unchanged.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Any, TypeAlias

from ._stream import call_callback as invoke_callback
from .exceptions import ConfigurationError

__all__ = ["StreamHandler", "StreamSource", "collect_stream", "invoke_callback", "stream_to_string"]

logger = logging.getLogger(__name__)

StreamSource: TypeAlias = AsyncIterable[Any] | Awaitable[Any] | Iterable[Any]
"""A stream object, an async (or plain) iterable of ``StreamingChunk``/``str``, or an awaitable of one."""

Callback: TypeAlias = Callable[[Any], Any]

# An awaitable may resolve to another awaitable (a coroutine returning the client's stream object); stop somewhere.
_MAX_AWAIT_DEPTH = 4


async def _from_iterable(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _open(stream: StreamSource) -> AsyncIterator[Any]:
    """An async iterator over ``stream``, awaiting it first when it is only awaitable."""
    source: Any = stream
    for _ in range(_MAX_AWAIT_DEPTH):
        if hasattr(source, "__aiter__"):
            return aiter(source)
        if not inspect.isawaitable(source):
            break
        source = await source
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, Mapping)):
        return _from_iterable(source)
    raise TypeError(f"expected a stream (async iterable or awaitable of one), got {type(source).__name__}")


async def _close(iterator: AsyncIterator[Any]) -> None:
    """Release the producer (e.g. the HTTP response behind a client stream) when we stop reading early."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def _parts(item: Any) -> tuple[str, bool, str | None]:
    """``(text, done, error)`` of one stream item: a ``StreamingChunk``-like object, a ``str`` or a dict."""
    if isinstance(item, str):
        return item, False, None
    if isinstance(item, Mapping):
        text = item.get("chunk", item.get("content"))
        error = item.get("error")
        return ("" if text is None else str(text)), bool(item.get("done")), (str(error) if error else None)
    if hasattr(item, "chunk"):
        error = getattr(item, "error", None)
        text = item.chunk
        return ("" if text is None else str(text)), bool(getattr(item, "done", False)), (str(error) if error else None)
    return str(item), False, None


class StreamHandler:
    """Accumulates a stream's text (``buffer``) and passes each piece to ``callback``.

    ``callback_fn`` is an alias of ``callback``. ``process_fn(item)``, when given, produces what the callback
    receives for each item instead of the item's text.
    """

    def __init__(
        self,
        callback: Callback | None = None,
        buffer_size: int = 8192,
        *,
        callback_fn: Callback | None = None,
        process_fn: Callable[[Any], Any] | None = None,
    ) -> None:
        if callback is not None and callback_fn is not None:
            raise ConfigurationError("pass either callback or callback_fn, not both")
        self.callback = callback if callback is not None else callback_fn
        self.process_fn = process_fn
        self.buffer_size = buffer_size
        self._pieces: list[str] = []
        self.done = False
        self.error: str | None = None

    @property
    def buffer(self) -> str:
        """Text accumulated so far (joined lazily, so long streams stay linear)."""
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    @buffer.setter
    def buffer(self, value: str) -> None:
        self._pieces = [value] if value else []

    def _reset(self) -> None:
        self._pieces = []
        self.done = False
        self.error = None

    def _record_error(self, error: str) -> None:
        self.error = error
        logger.warning("stream ended with an error: %s", error)

    async def _items(self, stream: StreamSource) -> AsyncGenerator[tuple[Any, str, bool, str | None], None]:
        """``(item, text, done, error)`` per item, ending after a ``done`` or ``error`` item (recorded on ``self``);
        the stream is always closed. The one loop every method below shares."""
        iterator = await _open(stream)
        try:
            async for item in iterator:
                text, done, error = _parts(item)
                yield item, text, done, error
                if error:
                    self._record_error(error)
                    break
                if done:
                    self.done = True
                    break
        finally:
            await _close(iterator)

    async def _notify(self, item: Any, text: str) -> None:
        if self.callback is None:
            return
        value = self.process_fn(item) if self.process_fn is not None else text
        await invoke_callback(self.callback, value)

    async def process_stream(self, stream: StreamSource, transform: Callable[[str], str] | None = None) -> str:
        """Consume ``stream`` and return its text; stops after a ``done`` item or an item with an ``error``."""
        self._reset()
        async with aclosing(self._items(stream)) as items:
            async for item, text, _done, _error in items:
                if transform is not None:
                    text = transform(text)
                self._pieces.append(text)
                await self._notify(item, text)
        return self.buffer

    async def process_stream_with_context(
        self,
        stream: StreamSource,
        transform: Callable[[str], str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield ``{"content", "done", "error", **context, "timestamp"}`` per item (legacy Rhetor shape).

        A callable ``context["timestamp"]`` is called per item; the ``done`` item also carries ``complete_text``.
        """
        self._reset()
        context = dict(context or {})
        stamp = context.get("timestamp")
        async with aclosing(self._items(stream)) as items:
            async for item, text, done, error in items:
                if transform is not None:
                    text = transform(text)
                self._pieces.append(text)
                timestamp = stamp() if callable(stamp) else stamp
                if timestamp is None:
                    timestamp = datetime.now().isoformat()
                response: dict[str, Any] = {"content": text, "done": done, "error": error, **context}
                response["timestamp"] = timestamp
                await self._notify(item, text)
                if done:
                    response["complete_text"] = self.buffer
                yield response

    async def collect_stream_segments(
        self, stream: StreamSource, delimiter: str, include_delimiter: bool = False
    ) -> AsyncIterator[str]:
        """Yield the stream's text cut at ``delimiter`` (legacy); the remainder is yielded when the stream ends."""
        if not delimiter:
            raise ConfigurationError("delimiter must not be empty")
        self._reset()
        pending = ""
        async with aclosing(self._items(stream)) as items:
            async for _item, text, _done, _error in items:
                pending += text
                while (index := pending.find(delimiter)) >= 0:
                    cut = index + len(delimiter)
                    segment = pending[:cut] if include_delimiter else pending[:index]
                    pending = pending[cut:]
                    self.buffer = pending
                    yield segment
                self.buffer = pending
        if pending:
            self.buffer = ""
            yield pending

    async def buffer_until(
        self, stream: StreamSource, condition: Callable[[str], bool], max_buffer_size: int | None = None
    ) -> AsyncIterator[str]:
        """Yield accumulated text whenever ``condition(text)`` holds or it reaches the size limit (legacy)."""
        limit = max_buffer_size or self.buffer_size
        self._reset()
        pending = ""
        async with aclosing(self._items(stream)) as items:
            async for _item, text, _done, _error in items:
                pending += text
                if pending and (condition(pending) or len(pending) >= limit):
                    self.buffer = ""
                    yield pending
                    pending = ""
                self.buffer = pending
        if pending:
            self.buffer = ""
            yield pending


async def collect_stream(stream: StreamSource) -> str:
    """The whole text of ``stream``."""
    return await StreamHandler().process_stream(stream)


async def stream_to_string(stream: StreamSource, callback: Callback | None = None) -> str:
    """The whole text of ``stream``, calling ``callback`` per piece (sync, async or async-generator callable)."""
    return await StreamHandler(callback=callback).process_stream(stream)
