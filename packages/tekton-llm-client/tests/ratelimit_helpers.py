"""Helpers shared by the rate-limit tests (``test_ratelimit*.py``): unique component ids, a hand-moved clock,
stepping the event loop without a timed sleep, and counting times per sliding window."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

_ids = itertools.count()


def component(prefix: str = "rl") -> str:
    """A component id no other test uses: limiters are shared per component for the whole process."""
    return f"{prefix}-{next(_ids)}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def max_in_window(times: list[float], window: float) -> int:
    """The most ``times`` in any half-open interval ``(t - window, t]``."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def until(condition: Callable[[], bool], steps: int = 1000) -> None:
    """Step the event loop (no timed sleep) until ``condition`` holds."""
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")
