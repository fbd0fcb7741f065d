"""Migration progress from live traffic: every call of a legacy method records itself.

``records_legacy_calls`` wraps each legacy method of a shim class once, at import, so that a call counts in
``tekton.shim.calls`` and the GenAI spans it starts carry the same three attributes
(``tekton_llm_client.telemetry.shim_call``). The names are the ones ``tekton-migrate inventory --json`` reports,
so static inventory and live counters join on (component, class, method): component = the shim's component id,
class = the legacy class name (``LLMAdapter``), method = the legacy method name.

Which call counts is ``shim_call``'s rule, kept there only: the outermost one (Engram's ``analyze_memory`` calls
``chat``: one ``analyze_memory``, and its spans say so). While telemetry is off (``telemetry.recording()``, checked
once per call) a call runs unwrapped: the method itself, and for an async-generator method its own generator.

While telemetry is on, a sync or coroutine method runs inside ``with shim_call(...)`` in the caller's context, as
it would unwrapped: a context variable the method sets reaches its caller, on or off. A stream (an
async-generator method, or the one a coroutine returns: ``chat(stream=True)``) is read by the caller's code after
the call returned, so it cannot hold the scope open in the caller's context: the names would leak into the
caller's own work between two chunks, and a stream closed later elsewhere could not reset them. Each of its steps
runs instead in a snapshot of the context taken inside the scope; the one difference from telemetry off is that a
context variable the stream's own code sets stays in that snapshot.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, TypeVar, cast

from tekton_llm_client.telemetry import recording, shim_call

from ._common import ClientHolder

__all__ = ["LEGACY_CALL_ATTRIBUTE", "legacy_call_names", "records_legacy_calls"]

T = TypeVar("T")
C = TypeVar("C", bound=type[ClientHolder])
Names = tuple[str, str, str]

LEGACY_CALL_ATTRIBUTE = "__tekton_shim_call__"
"""Set on each recording method: its ``(component, legacy class, method)``, as ``tekton.shim.calls`` counts it."""

NOT_LEGACY = frozenset({"aclose"})
"""Public methods the shims add (not legacy API, so not migration progress)."""


class _InContext(Awaitable[T]):
    """Await ``awaitable`` with each of its steps run in ``context`` (``asyncio`` has no per-await context)."""

    __slots__ = ("_awaitable", "_context")

    def __init__(self, context: contextvars.Context, awaitable: Awaitable[T]) -> None:
        self._context = context
        self._awaitable = awaitable

    def __await__(self) -> Generator[Any, Any, T]:
        steps = self._awaitable.__await__()
        run = self._context.run
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                yielded = run(steps.send, sent) if thrown is None else run(steps.throw, thrown)
            except StopIteration as stop:
                return cast(T, stop.value)
            sent, thrown = None, None
            try:
                sent = yield yielded
            except GeneratorExit:
                run(steps.close)
                raise
            except BaseException as error:  # cancellation and other throws go on to the awaitable
                thrown = error


async def _in_context(context: contextvars.Context, items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Yield ``items`` with each step, and the closing however the iteration ends, run in ``context``."""
    try:
        while True:
            try:
                item = await _InContext(context, items.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        await _InContext(context, items.aclose())


def _recorded_stream(items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """``items`` read in a snapshot of this context (called inside the call's ``shim_call`` block)."""
    if getattr(items, "ag_code", None) is _in_context.__code__:
        return items  # a recorded stream made inside this call already reads in a snapshot of this scope
    return _in_context(contextvars.copy_context(), items)


def _sync_method(names: Names, function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def call(self: object, *args: Any, **kwargs: Any) -> T:
        if not recording():
            return function(self, *args, **kwargs)
        with shim_call(*names):
            return function(self, *args, **kwargs)

    return call


def _coroutine_method(names: Names, function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(function)
    async def call(self: object, *args: Any, **kwargs: Any) -> T:
        if not recording():
            return await function(self, *args, **kwargs)
        with shim_call(*names):
            result = await function(self, *args, **kwargs)
            if isinstance(result, AsyncGenerator):  # ``chat(stream=True)``: the stream is part of this call
                return cast(T, _recorded_stream(result))
            return result

    return call


def _stream_method(
    names: Names, function: Callable[..., AsyncGenerator[T, None]]
) -> Callable[..., AsyncGenerator[T, None]]:
    """A plain function answering an async generator (``inspect.isasyncgenfunction`` is false for it): the
    method's own generator while telemetry is off."""

    @functools.wraps(function)
    def call(self: object, *args: Any, **kwargs: Any) -> AsyncGenerator[T, None]:
        items = function(self, *args, **kwargs)
        if not recording():
            return items
        with shim_call(*names):
            return _recorded_stream(items)

    return call


def legacy_call_names(cls: type[ClientHolder]) -> frozenset[str]:
    """The legacy methods of shim class ``cls``: its public methods (minus ``NOT_LEGACY``) and ``_legacy_private``."""
    private = frozenset(cls._legacy_private)
    return frozenset(
        name
        for name in dir(cls)
        if (name in private or not name.startswith("_"))
        and name not in NOT_LEGACY
        and inspect.isfunction(inspect.getattr_static(cls, name))
    )


def records_legacy_calls(cls: C) -> C:
    """Class decorator: each legacy method of ``cls`` records its calls (sync, async and async-generator alike).

    Component = ``cls._component_id``, class = ``cls.__name__``, method = the method's name.
    """
    component = cls._component_id
    for name in sorted(legacy_call_names(cls)):
        function = getattr(cls, name)
        names = (component, cls.__name__, name)
        if inspect.isasyncgenfunction(function):
            wrapper: Callable[..., Any] = _stream_method(names, function)
        elif inspect.iscoroutinefunction(function):
            wrapper = _coroutine_method(names, function)
        else:
            wrapper = _sync_method(names, function)
        setattr(wrapper, LEGACY_CALL_ATTRIBUTE, names)
        setattr(cls, name, wrapper)
    return cls
