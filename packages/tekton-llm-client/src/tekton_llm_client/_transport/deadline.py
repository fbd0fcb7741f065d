"""A reschedulable deadline for stream reads (first-event and idle deadlines).

``asyncio.timeout`` does this on 3.11+; 3.10 gets a small equivalent. One deadline object per stream, rescheduled on
every event, costs no task per event (``asyncio.wait_for`` would create one per read).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

__all__ = ["Deadline", "deadline"]


class Deadline(Protocol):
    """What a stream reader needs from a deadline."""

    def reschedule(self, when: float | None) -> None: ...

    def expired(self) -> bool: ...


if sys.version_info >= (3, 11):

    @asynccontextmanager
    async def deadline(delay: float) -> AsyncIterator[Deadline]:
        """Raise ``builtins.TimeoutError`` when the deadline passes before it is rescheduled."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(loop.time() + delay) as cm:
            yield cm

else:  # pragma: no cover - exercised by the 3.10 nox session

    class _Deadline310:
        def __init__(self, task: asyncio.Task[object], loop: asyncio.AbstractEventLoop) -> None:
            self._task = task
            self._loop = loop
            self._handle: asyncio.TimerHandle | None = None
            self._fired = False

        def reschedule(self, when: float | None) -> None:
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
            if when is not None:
                self._handle = self._loop.call_at(when, self._fire)

        def _fire(self) -> None:
            self._fired = True
            self._task.cancel()

        def expired(self) -> bool:
            return self._fired

    @asynccontextmanager
    async def deadline(delay: float) -> AsyncIterator[Deadline]:
        """Raise ``builtins.TimeoutError`` when the deadline passes before it is rescheduled."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        dl = _Deadline310(task, loop)
        dl.reschedule(loop.time() + delay)
        try:
            yield dl
        except asyncio.CancelledError:
            if dl.expired():
                raise TimeoutError from None
            raise
        finally:
            dl.reschedule(None)
