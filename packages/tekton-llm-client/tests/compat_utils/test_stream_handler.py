"""StreamHandler, collect_stream, stream_to_string (compat-api §12), fed with async generators of StreamingChunk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest
from tekton_llm_client.exceptions import TektonLLMError
from tekton_llm_client.models import StreamingChunk
from tekton_llm_client.stream_handler import StreamHandler, collect_stream, invoke_callback, stream_to_string


def chunk(text: str, *, done: bool = False, error: str | None = None) -> StreamingChunk:
    return StreamingChunk(chunk=text, context_id="c", model="m", provider="p", done=done, error=error)


async def chunks(*items: StreamingChunk | str) -> AsyncIterator[StreamingChunk | str]:
    for item in items:
        yield item


class TwoWayStream:
    """Shaped like the client's stream object: async-iterable and awaitable (awaiting yields itself)."""

    def __init__(self, *items: StreamingChunk) -> None:
        self._items = list(items)
        self.closed = False
        self.consumed = 0
        self._model_info = {"model": "m", "provider": "p"}

    def __aiter__(self) -> TwoWayStream:
        return self

    async def __anext__(self) -> StreamingChunk:
        if not self._items:
            raise StopAsyncIteration
        self.consumed += 1
        return self._items.pop(0)

    def __await__(self) -> Generator[Any, None, TwoWayStream]:
        if False:  # pragma: no cover - makes this a generator without suspending
            yield
        return self

    async def aclose(self) -> None:
        self.closed = True


SAMPLE = (chunk("Hel"), chunk("lo "), chunk("world"), chunk("", done=True))


async def test_process_stream_returns_text_and_marks_done() -> None:
    handler = StreamHandler()
    assert await handler.process_stream(chunks(*SAMPLE)) == "Hello world"
    assert handler.buffer == "Hello world"
    assert handler.done is True
    assert handler.error is None


async def test_sync_callback_receives_each_text() -> None:
    seen: list[str] = []
    assert await StreamHandler(seen.append).process_stream(chunks(*SAMPLE)) == "Hello world"
    assert seen == ["Hel", "lo ", "world", ""]


async def test_async_callback_fn_is_awaited_per_chunk() -> None:
    seen: list[str] = []

    async def async_cb(text: str) -> None:
        seen.append(text.upper())

    text = await StreamHandler(callback_fn=async_cb).process_stream(chunks(*SAMPLE))
    assert text == "Hello world"
    assert seen == ["HEL", "LO ", "WORLD", ""]


async def test_async_generator_callback_is_drained_per_chunk() -> None:
    produced: list[str] = []

    async def async_gen_cb(text: str) -> AsyncIterator[str]:
        produced.append(f"start:{text}")
        yield f"data: {text}"
        produced.append(f"end:{text}")

    await StreamHandler(callback_fn=async_gen_cb).process_stream(chunks(chunk("a"), chunk("b", done=True)))
    assert produced == ["start:a", "end:a", "start:b", "end:b"]


async def test_process_fn_output_goes_to_the_callback() -> None:
    seen: list[str] = []
    handler = StreamHandler(
        callback=seen.append, process_fn=lambda item: json.dumps({"content": str(item), "model": item.model})
    )
    assert await handler.process_stream(chunks(chunk("x"), chunk("y", done=True))) == "xy"
    assert seen == ['{"content": "x", "model": "m"}', '{"content": "y", "model": "m"}']


def test_process_fn_alone_constructs() -> None:
    handler = StreamHandler(process_fn=lambda item: f"<{item}>")
    assert handler.callback is None
    assert handler.process_fn is not None
    assert handler.buffer_size == 8192


def test_callback_and_callback_fn_together_raise_value_error() -> None:
    with pytest.raises(ValueError) as info:
        StreamHandler(callback=print, callback_fn=print)
    assert isinstance(info.value, TektonLLMError)


async def test_transform_applies_before_buffer_and_callback() -> None:
    seen: list[str] = []
    text = await StreamHandler(seen.append).process_stream(chunks(*SAMPLE), transform=str.upper)
    assert text == "HELLO WORLD"
    assert seen == ["HEL", "LO ", "WORLD", ""]


async def test_stops_after_done_and_closes_the_stream() -> None:
    stream = TwoWayStream(chunk("a"), chunk("b", done=True), chunk("never"))
    assert await StreamHandler().process_stream(stream) == "ab"
    assert stream.consumed == 2
    assert stream.closed is True


async def test_error_item_ends_stream_and_is_recorded() -> None:
    handler = StreamHandler()
    text = await handler.process_stream(chunks(chunk("part"), chunk("", error="provider failed"), chunk("never")))
    assert text == "part"
    assert handler.error == "provider failed"
    assert handler.done is False


async def test_client_stream_object_used_directly_or_after_await() -> None:
    stream = TwoWayStream(*SAMPLE)
    assert await StreamHandler().process_stream(stream) == "Hello world"
    awaited = await TwoWayStream(*SAMPLE)
    assert await StreamHandler().process_stream(awaited) == "Hello world"


async def test_awaitable_resolving_to_a_stream() -> None:
    async def start_stream() -> AsyncIterator[StreamingChunk | str]:
        return chunks(*SAMPLE)

    assert await StreamHandler().process_stream(start_stream()) == "Hello world"


async def test_plain_string_items_are_accepted() -> None:
    assert await collect_stream(chunks("a", "b", "c")) == "abc"


async def test_dict_items_and_sync_iterables_are_accepted() -> None:
    items = [{"chunk": "x"}, {"content": "y"}, {"chunk": "", "done": True}]
    assert await collect_stream(items) == "xy"


async def test_unsupported_stream_raises_type_error() -> None:
    with pytest.raises(TypeError):
        await collect_stream(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await collect_stream("a string is not a stream")


async def test_handler_resets_between_streams() -> None:
    handler = StreamHandler()
    await handler.process_stream(chunks(chunk("one"), chunk("", error="e")))
    assert await handler.process_stream(chunks(chunk("two", done=True))) == "two"
    assert (handler.error, handler.done) == (None, True)


async def test_buffer_attribute_is_assignable() -> None:
    handler = StreamHandler()
    handler.buffer = "preset"
    assert handler.buffer == "preset"
    handler.buffer = ""
    assert handler.buffer == ""


async def test_collect_stream_and_stream_to_string() -> None:
    assert await collect_stream(chunks(*SAMPLE)) == "Hello world"
    seen: list[str] = []

    async def cb(text: str) -> None:
        seen.append(text)

    assert await stream_to_string(chunks(*SAMPLE), callback=cb) == "Hello world"
    assert seen == ["Hel", "lo ", "world", ""]
    assert await stream_to_string(chunks(*SAMPLE)) == "Hello world"


async def test_callback_exception_propagates_and_stream_is_closed() -> None:
    stream = TwoWayStream(*SAMPLE)

    def boom(text: str) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError):
        await StreamHandler(boom).process_stream(stream)
    assert stream.closed is True


async def test_invoke_callback_shapes() -> None:
    calls: list[str] = []

    def sync(value: str) -> str:
        calls.append(f"sync:{value}")
        return "ignored"

    async def coro(value: str) -> None:
        calls.append(f"coro:{value}")

    async def agen(value: str) -> AsyncIterator[int]:
        for i in range(2):
            calls.append(f"agen:{value}:{i}")
            yield i

    for callback in (sync, coro, agen):
        await invoke_callback(callback, "v")
    assert calls == ["sync:v", "coro:v", "agen:v:0", "agen:v:1"]


async def test_process_stream_with_context_yields_legacy_dicts() -> None:
    ticks = iter(["t1", "t2", "t3"])
    handler = StreamHandler()
    results = [
        item
        async for item in handler.process_stream_with_context(
            chunks("Hi", " there", chunk("", done=True)),
            transform=None,
            context={"context_id": "ctx", "model": "m", "provider": "p", "timestamp": lambda: next(ticks)},
        )
    ]
    assert results == [
        {
            "content": "Hi",
            "done": False,
            "error": None,
            "context_id": "ctx",
            "model": "m",
            "provider": "p",
            "timestamp": "t1",
        },
        {
            "content": " there",
            "done": False,
            "error": None,
            "context_id": "ctx",
            "model": "m",
            "provider": "p",
            "timestamp": "t2",
        },
        {
            "content": "",
            "done": True,
            "error": None,
            "context_id": "ctx",
            "model": "m",
            "provider": "p",
            "timestamp": "t3",
            "complete_text": "Hi there",
        },
    ]
    assert handler.done is True


async def test_process_stream_with_context_error_and_static_timestamp() -> None:
    handler = StreamHandler()
    results = [
        item
        async for item in handler.process_stream_with_context(
            chunks(chunk("a"), chunk("", error="boom"), chunk("never")),
            transform=lambda t: t * 2,
            context={"timestamp": "fixed"},
        )
    ]
    assert [(r["content"], r["error"], r["timestamp"]) for r in results] == [
        ("aa", None, "fixed"),
        ("", "boom", "fixed"),
    ]
    assert handler.error == "boom"


async def test_process_stream_with_context_default_timestamp_is_iso_text() -> None:
    results = [item async for item in StreamHandler().process_stream_with_context(chunks("x"))]
    assert len(results) == 1
    assert isinstance(results[0]["timestamp"], str)
    assert "T" in results[0]["timestamp"]


async def test_collect_stream_segments() -> None:
    handler = StreamHandler()
    stream = chunks(chunk("a|b"), chunk("c|"), chunk("d|e"), chunk("", done=True))
    assert [s async for s in handler.collect_stream_segments(stream, "|")] == ["a", "bc", "d", "e"]
    stream = chunks(chunk("a|b"), chunk("|c", done=True))
    assert [s async for s in StreamHandler().collect_stream_segments(stream, "|", include_delimiter=True)] == [
        "a|",
        "b|",
        "c",
    ]
    with pytest.raises(ValueError):
        [s async for s in StreamHandler().collect_stream_segments(chunks("x"), "")]


async def test_buffer_until() -> None:
    stream = chunks(chunk("one. "), chunk("two"), chunk(" three."), chunk(" four"), chunk("", done=True))
    out = [s async for s in StreamHandler().buffer_until(stream, lambda text: text.rstrip().endswith("."))]
    assert out == ["one. ", "two three.", " four"]
    stream = chunks(*(chunk("ab") for _ in range(5)))
    assert [s async for s in StreamHandler().buffer_until(stream, lambda _t: False, max_buffer_size=4)] == [
        "abab",
        "abab",
        "ab",
    ]
    handler = StreamHandler(buffer_size=3)
    assert [s async for s in handler.buffer_until(chunks("ab", "cd", chunk("", error="x")), lambda _t: False)] == [
        "abcd"
    ]
    assert handler.error == "x"


async def test_real_client_text_stream_awaited_or_not() -> None:
    from tekton_llm_client._stream import TextStream

    closed: list[bool] = []

    async def source() -> AsyncIterator[StreamingChunk]:
        try:
            for item in (chunk("a"), chunk("b"), chunk("", done=True), chunk("after done")):
                yield item
        finally:
            closed.append(True)

    seen: list[str] = []

    async def async_cb(text: str) -> None:
        seen.append(text)

    stream = await TextStream(source())
    assert await StreamHandler(callback_fn=async_cb).process_stream(stream) == "ab"
    assert seen == ["a", "b", ""]
    assert closed == [True]  # the handler closed the stream after the done item
    assert await collect_stream(TextStream(source())) == "ab"
