"""A cheap deadline for stream reads (first-event and idle deadlines).

A stream moves its deadline on every event, thousands of times a second. Measured by
``benchmarks/bench_deadline.py`` (numbers in ``benchmarks/README.md``): an ``asyncio.timeout_at`` entered and left per
read, or one ``asyncio.timeout`` rescheduled per event, costs 4–7× this deadline's ``pause``/``move`` — 100 ms and
more on P3's 10,000-event stream — which is why this module is kept instead of ``asyncio.timeout``.
Moving the deadline is one float assignment, and the single timer re-arms itself lazily when it wakes up early.
While the consumer holds an event (``pause``), the deadline cannot fire, so a timeout never lands inside the
consumer's own code.

A stream may be read from several tasks (the sync facade runs each step in its own). ``move`` re-targets the
deadline at the task reading now, and when it fires the cancellation is taken back (``uncancel``) from that same
task — not from the task that created the deadline — so the reader comes out with ``TimeoutError`` and nothing
pending (``cancelling() == 0``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Deadline", "deadline"]


class Deadline:
    """Cancels its task when ``loop.time()`` passes ``when`` (unless paused); ``deadline()`` turns that into
    ``TimeoutError``."""

    __slots__ = ("_armed_at", "_delay", "_handle", "_loop", "_task", "fired", "paused", "when")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[object], delay: float) -> None:
        self._loop = loop
        self._task = task
        self.when = loop.time() + delay
        self.paused = False
        self.fired = False
        self._delay = delay
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0
        self._arm(self.when)

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = when
        self._handle = self._loop.call_at(when, self._wake)

    def move(self, delay: float) -> None:
        """Deadline is now ``delay`` seconds from now (and not paused), for the task that waits from now on
        (a stream may be read from several tasks, e.g. the sync facade runs each step in its own)."""
        self.paused = False
        task = asyncio.current_task()
        if task is not None:
            self._task = task
        self._delay = delay
        self.when = self._loop.time() + delay
        if self.when < self._armed_at:  # only when the deadline got shorter (first event → idle)
            self._arm(self.when)

    def pause(self) -> None:
        """Stop the clock until the next ``move``."""
        self.paused = True

    def _wake(self) -> None:
        now = self._loop.time()
        if self.paused or now < self.when:
            # Woke early (the deadline moved) or the consumer holds an event: look again later.
            self._handle = None
            self._arm(now + self._delay if self.paused else self.when)
            return
        self._handle = None
        self.fired = True
        self._task.cancel()

    @property
    def cancelled_task(self) -> asyncio.Task[object]:
        """The task the deadline cancels when it fires: the one reading when it last moved."""
        return self._task

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _uncancelled(task: asyncio.Task[object]) -> bool:
    """Take the deadline's cancellation back; ``False`` when another cancellation is still pending (3.10 keeps no
    count, so there the deadline's is the only one known)."""
    return sys.version_info < (3, 11) or task.uncancel() == 0


@asynccontextmanager
async def deadline(delay: float) -> AsyncIterator[Deadline]:
    """Raise ``builtins.TimeoutError`` when the deadline passes while the body is waiting."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    dl = Deadline(loop, task, delay)
    try:
        yield dl
    except asyncio.CancelledError:
        if dl.fired and _uncancelled(dl.cancelled_task):
            raise TimeoutError from None
        raise
    finally:
        dl.close()
