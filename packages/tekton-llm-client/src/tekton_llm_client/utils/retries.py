"""The client's one retry loop: which failures are retried, how long to wait, and when to stop.

Callers write::

    result = await policy.run(do_request)     # do_request(number) -> awaitable; number counts attempts from 0

or, where the attempt is a block rather than a function::

    async for attempt in policy.attempts():
        async with attempt:
            result = await do_request()
    # result is set once the loop ends without raising

Both follow the same rules; ``run`` is the request path's form: its first attempt is a plain ``await`` (no async
generator or context manager per call, a measurable share of a request's client-side cost, benchmark P2).

Connection errors, timeouts, 408/409/429 and 5xx are retried (``TektonLLMError.retryable``); other 4xx never.
Backoff is exponential with full jitter and a cap; a server's ``Retry-After`` (already bounded by the transport)
replaces the computed delay. A stream wraps only its opening and first event in an attempt, so nothing is retried
after the caller has seen text.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

from ..exceptions import TektonLLMError

__all__ = ["Attempt", "AttemptEnded", "Pacing", "RetryPolicy"]

logger = logging.getLogger("tekton_llm_client")

T = TypeVar("T")

AttemptEnded = Callable[[int, "TektonLLMError | None"], None]
"""Told of each attempt's end (``RetryPolicy.run``): its number and the failure that earns a retry, or ``None`` when
it succeeded or failed for good (the failure then propagates)."""


@dataclass(slots=True)
class Attempt:
    """One try. As an async context manager it records a retryable failure instead of raising it."""

    number: int
    policy: RetryPolicy
    error: TektonLLMError | None = None

    async def __aenter__(self) -> Attempt:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if isinstance(exc, TektonLLMError) and self.policy.should_retry(exc, self.number):
            self.error = exc
            return True
        return False


@dataclass(slots=True)
class RetryPolicy:
    """Retry limits and backoff. ``max_retries`` counts retries, so there are ``max_retries + 1`` attempts."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    rand: Callable[[], float] = field(default=random.random)

    def should_retry(self, error: TektonLLMError, number: int) -> bool:
        """Whether attempt ``number`` (0-based) failing with ``error`` earns another attempt."""
        return error.retryable and number < self.max_retries

    def delay(self, error: TektonLLMError, number: int) -> float:
        """Seconds to wait before attempt ``number + 1``."""
        hint = getattr(error, "retry_after", None)
        if isinstance(hint, (int, float)) and hint >= 0:
            return min(float(hint), self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0**number)
        return ceiling * self.rand()

    async def run(self, operation: Callable[[int], Awaitable[T]], ended: AttemptEnded | None = None) -> T:
        """Await ``operation(number)`` until it returns; a retryable failure waits its delay and tries again, the
        last failure (or one never retried) propagates as raised. ``ended`` is told of each attempt's end."""
        number = 0
        while True:
            failure: TektonLLMError | None = None
            try:
                return await operation(number)
            except TektonLLMError as error:
                if not self.should_retry(error, number):
                    raise
                failure = error
            finally:
                if ended is not None:
                    ended(number, failure)
            await self._before_retry(failure, number)
            number += 1

    async def attempts(self) -> AsyncIterator[Attempt]:
        """Yield attempts until one finishes without a recorded failure; re-raise the last one when out of tries."""
        number = 0
        while True:
            attempt = Attempt(number, self)
            yield attempt
            error = attempt.error
            if error is None:
                return
            await self._before_retry(error, number)
            number += 1

    async def _before_retry(self, error: TektonLLMError, number: int) -> None:
        """Log the retry of failed attempt ``number`` and wait its delay."""
        wait = self.delay(error, number)
        logger.warning(
            "retrying after %s (attempt %d of %d) in %.2fs (request_id=%s)",
            type(error).__name__,
            number + 2,
            self.max_retries + 1,
            wait,
            error.request_id,
        )
        await self.sleep(wait)


@dataclass(slots=True)
class Pacing:
    """The policy's backoff spread over separate calls: each failed call raises at once, and the next call waits
    the delay its predecessors' failures earned (reset by a success). For reconnects of a long-lived socket."""

    policy: RetryPolicy
    failures: int = 0
    next_at: float = 0.0

    async def wait(self) -> None:
        """Sleep (the policy's ``sleep``) until the next attempt is due."""
        wait = self.next_at - time.monotonic()
        if wait > 0:
            await self.policy.sleep(wait)

    def failed(self, error: TektonLLMError) -> None:
        """Record a failed attempt: the next one waits the policy's delay for it."""
        self.next_at = time.monotonic() + self.policy.delay(error, self.failures)
        self.failures += 1

    def succeeded(self) -> None:
        """Record a successful attempt: the next one need not wait."""
        self.failures, self.next_at = 0, 0.0
