"""Migration progress from live traffic: every call of a legacy method records itself.

``records_legacy_calls`` wraps each legacy method of a shim class once, at import, so that a call counts in
``tekton.shim.calls`` and the GenAI spans it starts carry the same three attributes
(``tekton_llm_client.telemetry.shim_call``). The names are the ones ``tekton-migrate inventory --json`` reports,
so static inventory and live counters join on (component, class, method): component = the shim's component id,
class = the legacy class name (``LLMAdapter``), method = the legacy method name.

Only the outermost call counts: a legacy method the shim calls itself (Engram's ``analyze_memory`` calls ``chat``)
is part of the caller's call, and its spans carry the caller's names. While telemetry is off (``shim_call`` then
answers a ``nullcontext``) a call runs unwrapped after that one check.

An async call (coroutine or async generator) runs in a private copy of the caller's context, in which the
telemetry scope is open from the call's start to its end (for a stream: until the iteration ends, is abandoned or
closed). Steps of the call run in that copy; the caller's own context is never changed, so nothing leaks into the
caller's code between two chunks, and an abandoned stream closed later by the event loop (in another context)
still closes the scope in the context that opened it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from tekton_llm_client.telemetry import shim_call

from ._common import ClientHolder

__all__ = ["LEGACY_CALL_ATTRIBUTE", "legacy_call_names", "records_legacy_calls"]

T = TypeVar("T")
C = TypeVar("C", bound=type[ClientHolder])

LEGACY_CALL_ATTRIBUTE = "__tekton_shim_call__"
"""Set on each recording method: its ``(component, legacy class, method)``, as ``tekton.shim.calls`` counts it."""

NOT_LEGACY = frozenset({"aclose"})
"""Public methods the shims add (not legacy API, so not migration progress)."""

_recording: contextvars.ContextVar[bool] = contextvars.ContextVar("tekton_llm_shims.recording", default=False)


class _Scope:
    """One recorded async call: a private context in which ``shim_call`` is open until ``close``."""

    __slots__ = ("_context", "_exits")

    def __init__(self, manager: AbstractContextManager[None]) -> None:
        self._context = contextvars.copy_context()
        self._exits = contextlib.ExitStack()
        self._context.run(self._open, manager)

    def _open(self, manager: AbstractContextManager[None]) -> None:
        _recording.set(True)
        self._exits.enter_context(manager)

    def close(self) -> None:
        """End the scope (idempotent)."""
        self._context.run(self._exits.close)

    def __del__(self) -> None:
        # A stream returned by a recorded call (``chat(stream=True)``) and dropped unstarted never runs its
        # ``finally``; closing here keeps the scope's exit in the context that opened it.
        self.close()

    def run(self, awaitable: Awaitable[T]) -> _InContext[T]:
        return _InContext(self._context, awaitable)

    async def iterate(self, items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        """Yield ``items``, each step run in the scope; the scope ends with the iteration, however it ends."""
        try:
            while True:
                try:
                    item = await self.run(items.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            try:
                await self.run(items.aclose())
            finally:
                self.close()


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


def _outermost(names: tuple[str, str, str]) -> AbstractContextManager[None] | None:
    """The telemetry scope of a new outermost legacy call; ``None`` inside another one or while telemetry is off
    (``shim_call`` then answers a ``nullcontext``: the call runs as if unwrapped)."""
    if _recording.get():
        return None
    manager = shim_call(*names)
    return None if isinstance(manager, contextlib.nullcontext) else manager


def _sync_method(names: tuple[str, str, str], function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def call(self: object, *args: Any, **kwargs: Any) -> T:
        manager = _outermost(names)
        if manager is None:
            return function(self, *args, **kwargs)
        token = _recording.set(True)
        try:
            with manager:
                return function(self, *args, **kwargs)
        finally:
            _recording.reset(token)

    return call


def _async_method(names: tuple[str, str, str], function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(function)
    async def call(self: object, *args: Any, **kwargs: Any) -> T:
        manager = _outermost(names)
        if manager is None:
            return await function(self, *args, **kwargs)
        scope = _Scope(manager)
        try:
            result = await scope.run(function(self, *args, **kwargs))
        except BaseException:
            scope.close()
            raise
        if isinstance(result, AsyncGenerator):  # ``chat(stream=True)``: the stream is part of this call
            return cast(T, scope.iterate(result))
        scope.close()
        return result

    return call


def _async_generator_method(
    names: tuple[str, str, str], function: Callable[..., AsyncGenerator[T, None]]
) -> Callable[..., AsyncGenerator[T, None]]:
    @functools.wraps(function)
    async def call(self: object, *args: Any, **kwargs: Any) -> AsyncGenerator[T, None]:
        items = function(self, *args, **kwargs)
        manager = _outermost(names)
        recorded = items if manager is None else _Scope(manager).iterate(items)
        async with contextlib.aclosing(recorded):
            async for item in recorded:
                yield item

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
            wrapper: Callable[..., Any] = _async_generator_method(names, function)
        elif inspect.iscoroutinefunction(function):
            wrapper = _async_method(names, function)
        else:
            wrapper = _sync_method(names, function)
        setattr(wrapper, LEGACY_CALL_ATTRIBUTE, names)
        setattr(cls, name, wrapper)
    return cls
