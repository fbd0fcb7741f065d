"""Client-side LLM usage accounting and budget limits, checked before a request leaves the process.

Rhetor keeps its own budget, but only per server and it cannot stop a request before the provider is paid (its
budget endpoints are read-only or broken as shipped, rhetor-protocol.md §4.8, §6.9). ``BudgetTracker`` records each
answer's usage per component/provider/model (the response's ``usage`` when the server reports it, else tokens
estimated with the token counter) and applies limits per calendar period with the same policies Rhetor uses:
``ignore`` (account only), ``warn`` (log a WARNING once per limit and period) and ``enforce`` (``check`` raises
``BudgetExceededError`` so the request is never sent).

Concurrent requests must not all pass a check made against the same usage, so a check that lets a request through
also *holds* its size against the limits until the answer is recorded (then the actual usage replaces the hold) or
the request fails (then the hold is released): :meth:`BudgetTracker.reserve` does this explicitly, and ``check``
followed by ``record`` in the same task does it implicitly (see :meth:`BudgetTracker.check`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from types import MappingProxyType, TracebackType
from typing import Any, Literal, get_args

from .exceptions import BudgetExceededError, ConfigurationError
from .models import CompletionResponse
from .utils.token_counter import count_message_tokens, count_tokens

__all__ = [
    "BudgetCheck",
    "BudgetLimit",
    "BudgetReservation",
    "BudgetTracker",
    "BudgetViolation",
    "Period",
    "Policy",
    "UsageRecord",
    "UsageSummary",
    "period_start",
]

logger = logging.getLogger("tekton_llm_client")

Period = Literal["hourly", "daily", "weekly", "monthly"]
Policy = Literal["ignore", "warn", "enforce"]
GroupBy = Literal["provider", "model", "component"]

_PERIODS: tuple[str, ...] = get_args(Period)
_POLICIES: tuple[str, ...] = get_args(Policy)


def period_start(period: Period, now: float, tz: tzinfo | None = None) -> float:
    """Epoch seconds at which the calendar period containing ``now`` began (weeks start on Monday).

    Without ``tz`` the machine's local time is used, like Rhetor's own budget (naive local timestamps).
    """
    if period not in _PERIODS:
        raise ConfigurationError(f"period must be one of {', '.join(_PERIODS)}, got {period!r}")
    moment = datetime.fromtimestamp(now, tz) if tz is not None else datetime.fromtimestamp(now)
    if period == "hourly":
        start = moment.replace(minute=0, second=0, microsecond=0)
    else:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == "weekly":
            start -= timedelta(days=start.weekday())
        elif period == "monthly":
            start = start.replace(day=1)
    return start.timestamp()


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """A cap on tokens and/or cost per period, optionally scoped to one provider, model or component."""

    period: Period
    max_tokens: int | None = None
    max_cost: float | None = None
    policy: Policy = "warn"
    provider: str | None = None
    model: str | None = None
    component: str | None = None

    def __post_init__(self) -> None:
        if self.period not in _PERIODS:
            raise ConfigurationError(f"period must be one of {', '.join(_PERIODS)}, got {self.period!r}")
        if self.policy not in _POLICIES:
            raise ConfigurationError(f"policy must be one of {', '.join(_POLICIES)}, got {self.policy!r}")
        if self.max_tokens is None and self.max_cost is None:
            raise ConfigurationError("a budget limit needs max_tokens and/or max_cost")
        if (self.max_tokens is not None and self.max_tokens < 0) or (self.max_cost is not None and self.max_cost < 0):
            raise ConfigurationError("budget limits cannot be negative")

    def applies_to(self, provider: str | None, model: str | None, component: str | None) -> bool:
        """Whether usage of this provider/model/component counts against the limit."""
        return (
            (self.provider is None or self.provider == provider)
            and (self.model is None or self.model == model)
            and (self.component is None or self.component == component)
        )

    def describe(self) -> str:
        """Short human description for messages (``daily limit for component terma``)."""
        scope = [f"{name} {value}" for name, value in (("provider", self.provider), ("model", self.model),
                                                       ("component", self.component)) if value]
        return f"{self.period} limit" + (" for " + ", ".join(scope) if scope else "")


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One answer's usage. ``estimated`` is true when the tokens were counted client-side."""

    timestamp: float
    component: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class BudgetViolation:
    """A limit that the checked request would exceed, with the numbers that show it."""

    limit: BudgetLimit
    used_tokens: int
    used_cost: float
    requested_tokens: int
    requested_cost: float

    def message(self) -> str:
        """What was exceeded, safe to log."""
        parts = []
        if self.limit.max_tokens is not None and self.used_tokens + self.requested_tokens > self.limit.max_tokens:
            parts.append(
                f"tokens {self.used_tokens} used + {self.requested_tokens} requested > {self.limit.max_tokens}"
            )
        if self.limit.max_cost is not None and self.used_cost + self.requested_cost > self.limit.max_cost:
            parts.append(
                f"cost {self.used_cost:.4f} used + {self.requested_cost:.4f} requested > {self.limit.max_cost:.4f}"
            )
        return f"{self.limit.describe()} ({self.limit.policy}): " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """Result of :meth:`BudgetTracker.check`: ``allowed`` is false only when an ``enforce`` limit is exceeded.

    ``reservation`` is the hold the check placed (``None`` when no limit applies to the request).
    """

    allowed: bool
    violations: tuple[BudgetViolation, ...] = ()
    requested_tokens: int = 0
    requested_cost: float = 0.0
    reservation: BudgetReservation | None = field(default=None, compare=False, repr=False)


ReservationState = Literal["held", "settled", "released"]


class BudgetReservation:
    """A request's tokens and cost, held against the limits from its check until its answer or failure.

    Without the hold, requests checked at the same time all see the same usage and all pass. ``settle()`` replaces
    the hold with the answer's actual usage (same arguments as :meth:`BudgetTracker.record`), ``release()`` drops
    it when the request failed or was answered by a fallback. As a context manager, a hold still open at the end of
    the block is released. Thread safe; ``release`` is idempotent.
    """

    __slots__ = ("_detach", "_owner", "_state", "_tracker", "component", "cost", "model", "number", "provider",
                 "timestamp", "tokens")

    def __init__(
        self,
        tracker: BudgetTracker,
        number: int,
        *,
        provider: str | None,
        model: str | None,
        component: str,
        tokens: int,
        cost: float,
        timestamp: float,
    ) -> None:
        self._tracker = tracker
        self.number = number
        self.provider = provider
        self.model = model
        self.component = component
        self.tokens = tokens
        self.cost = cost
        self.timestamp = timestamp
        self._state: ReservationState = "held"
        self._detach: Callable[[], None] | None = None
        self._owner: object = None  # the task (or thread) whose record() settles an implicit hold

    def __repr__(self) -> str:
        return f"BudgetReservation(tokens={self.tokens}, cost={self.cost:.4f}, state={self._state!r})"

    @property
    def state(self) -> ReservationState:
        """``held`` until ``settle()`` or ``release()``."""
        return self._state

    def settle(self, response: CompletionResponse | None = None, **usage: Any) -> UsageRecord:
        """Replace the hold with the answer's usage: a ``CompletionResponse`` and/or ``record()`` keywords.

        Settling a released reservation still records the usage (the answer was paid for); settling twice is a
        programming error (``RuntimeError``).
        """
        if response is not None:
            usage = {**_response_usage(response), **usage}
        usage.setdefault("provider", self.provider)
        usage.setdefault("model", self.model)
        usage.setdefault("component", self.component)
        return self._tracker._account(self._tracker._build_record(**usage), self)

    def release(self) -> None:
        """Drop the hold: the request failed, was refused or was answered by a fallback (no usage to count)."""
        self._tracker._drop_hold(self, "released")

    def __enter__(self) -> BudgetReservation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


_PENDING: ContextVar[Mapping[int, BudgetReservation]] = ContextVar("tekton_llm_budget_pending")
"""Per task (or thread): the hold of a ``check()`` whose ``record()`` has not come yet, by tracker. Never mutated in
place — a new mapping is set each time, so tasks that inherit a context do not share entries."""
_NOTHING_PENDING: Mapping[int, BudgetReservation] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Usage in one period, shaped like Rhetor v1's ``/api/v1/budget/usage`` answer."""

    period: Period
    start: float
    total_input_tokens: int
    total_output_tokens: int
    total_cost: float
    count: int
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.total_input_tokens + self.total_output_tokens

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (``start`` as an ISO timestamp)."""
        return {
            "period": self.period,
            "start": datetime.fromtimestamp(self.start).isoformat(),
            "total_cost": self.total_cost,
            "total_input_tokens": self.total_input_tokens,
            "total_output_tokens": self.total_output_tokens,
            "total_tokens": self.total_tokens,
            "count": self.count,
            "groups": {key: dict(value) for key, value in self.groups.items()},
        }


Prices = Mapping[str, tuple[float, float]]


class BudgetTracker:
    """Usage per component/provider/model and per-period limits, for one process.

    ``prices`` maps ``"provider/model"``, ``"model"`` or ``"provider"`` (first match wins) to the cost per 1,000
    input and output tokens; usage of anything unpriced costs 0.0, so cost limits only bite for priced models.
    ``clock`` (epoch seconds) and ``tz`` are injectable for tests. All methods take a lock and never block on I/O,
    so the tracker can be shared by threads and by tasks of one event loop.
    """

    def __init__(
        self,
        component_id: str = "default",
        *,
        limits: Iterable[BudgetLimit] = (),
        prices: Prices | None = None,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
    ) -> None:
        self.component_id = component_id
        self._limits: list[BudgetLimit] = list(limits)
        self._prices: dict[str, tuple[float, float]] = dict(prices or {})
        self._clock = clock
        self._tz = tz
        self._records: list[UsageRecord] = []
        self._holds: dict[int, BudgetReservation] = {}
        self._numbers = itertools.count()
        self._warned: set[tuple[BudgetLimit, float]] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BudgetTracker(component_id={self.component_id!r}, limits={len(self._limits)}, "
            f"records={len(self._records)}, holds={len(self._holds)})"
        )

    # -- configuration -------------------------------------------------------------------------------------------

    @property
    def limits(self) -> tuple[BudgetLimit, ...]:
        """The configured limits."""
        with self._lock:
            return tuple(self._limits)

    def add_limit(self, limit: BudgetLimit) -> None:
        """Add a limit (several limits may apply to one request; every one is checked)."""
        with self._lock:
            self._limits.append(limit)

    def clear_limits(self) -> None:
        """Remove every limit (recorded usage stays)."""
        with self._lock:
            self._limits.clear()
            self._warned.clear()

    def set_price(self, key: str, input_per_1k: float, output_per_1k: float) -> None:
        """Price of a ``provider/model``, model or provider per 1,000 input and output tokens."""
        with self._lock:
            self._prices[key] = (input_per_1k, output_per_1k)

    def estimate_cost(self, provider: str | None, model: str | None, input_tokens: int, output_tokens: int) -> float:
        """Cost of the given tokens under the configured prices (0.0 when unpriced)."""
        for key in (f"{provider}/{model}", model, provider):
            if key and key in self._prices:
                per_in, per_out = self._prices[key]
                return (input_tokens * per_in + output_tokens * per_out) / 1000.0
        return 0.0

    # -- accounting ----------------------------------------------------------------------------------------------

    def record(
        self,
        *,
        provider: str | None,
        model: str | None,
        usage: Mapping[str, Any] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        messages: Iterable[Any] | None = None,
        prompt: str | None = None,
        completion: str | None = None,
        cost: float | None = None,
        component: str | None = None,
        timestamp: float | None = None,
    ) -> UsageRecord:
        """Account one answer and return the record; it settles the hold of a ``check()`` made in this task.

        Token numbers come from, in order: explicit ``input_tokens``/``output_tokens``; the response's ``usage``
        (``prompt_tokens``/``completion_tokens`` or ``input_tokens``/``output_tokens``; a lone ``total_tokens``
        counts as output); else an estimate from ``messages``/``prompt`` and ``completion``.
        """
        record = self._build_record(
            provider=provider, model=model, usage=usage, input_tokens=input_tokens, output_tokens=output_tokens,
            messages=messages, prompt=prompt, completion=completion, cost=cost, component=component,
            timestamp=timestamp,
        )
        return self._account(record, self._take_pending())

    def record_response(
        self,
        response: CompletionResponse,
        *,
        messages: Iterable[Any] | None = None,
        prompt: str | None = None,
        component: str | None = None,
    ) -> UsageRecord:
        """Account a ``CompletionResponse`` (its ``usage`` when present, else estimated from the texts)."""
        return self.record(**_response_usage(response), messages=messages, prompt=prompt, component=component)

    def _build_record(
        self,
        *,
        provider: str | None,
        model: str | None,
        usage: Mapping[str, Any] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        messages: Iterable[Any] | None = None,
        prompt: str | None = None,
        completion: str | None = None,
        cost: float | None = None,
        component: str | None = None,
        timestamp: float | None = None,
    ) -> UsageRecord:
        if usage:
            input_tokens, output_tokens = _from_usage(usage, input_tokens, output_tokens)
        estimated = False
        if input_tokens is None:
            input_tokens = self._estimate_input(messages, prompt, model)
            estimated = bool(messages or prompt)
        if output_tokens is None:
            output_tokens = count_tokens(completion or "", model)
            estimated = estimated or bool(completion)
        return UsageRecord(
            timestamp=self._clock() if timestamp is None else timestamp,
            component=component or self.component_id,
            provider=provider or "unknown",
            model=model or "unknown",
            input_tokens=max(0, int(input_tokens)),
            output_tokens=max(0, int(output_tokens)),
            cost=cost if cost is not None else self.estimate_cost(provider, model, input_tokens, output_tokens),
            estimated=estimated,
        )

    def _account(self, record: UsageRecord, hold: BudgetReservation | None) -> UsageRecord:
        """Add ``record`` and, in the same step, drop the hold it settles (so no check sees both or neither)."""
        with self._lock:
            if hold is not None:
                if hold._state == "settled":
                    raise RuntimeError("this budget reservation is already settled")
                self._drop_hold_locked(hold, "settled")
            self._records.append(record)
            self._prune_locked()
        return record

    @staticmethod
    def _estimate_input(messages: Iterable[Any] | None, prompt: str | None, model: str | None) -> int:
        if messages is not None:
            return count_message_tokens(messages, model)
        return count_tokens(prompt or "", model)

    def _prune_locked(self) -> None:
        # Nothing older than the earliest start of the longest periods can count against a limit any more.
        now = self._clock()
        horizon = min(period_start("monthly", now, self._tz), period_start("weekly", now, self._tz))
        if self._records and self._records[0].timestamp < horizon:
            self._records = [r for r in self._records if r.timestamp >= horizon]

    def reset(self) -> None:
        """Forget all recorded usage (holds of requests in flight stay until they settle or are released)."""
        with self._lock:
            self._records.clear()
            self._warned.clear()

    # -- holds ---------------------------------------------------------------------------------------------------

    @property
    def held_tokens(self) -> int:
        """Tokens currently held by requests that were let through and have not answered or failed yet."""
        with self._lock:
            self._release_orphans_locked()
            return sum(hold.tokens for hold in self._holds.values())

    def _release_orphans_locked(self) -> None:
        """Release implicit holds whose task has finished without a ``record()`` (its request failed).

        The task's done-callback does the same, but only on a later turn of the loop: a request that a failed
        one let through (``generate_batch``'s semaphore) checks before that turn comes.
        """
        for hold in list(self._holds.values()):
            owner = hold._owner
            if isinstance(owner, asyncio.Task) and owner.done():
                self._drop_hold_locked(hold, "released")

    def _drop_hold(self, hold: BudgetReservation, state: ReservationState) -> None:
        with self._lock:
            self._drop_hold_locked(hold, state)

    def _drop_hold_locked(self, hold: BudgetReservation, state: ReservationState) -> None:
        if hold._state != "held":
            return
        self._holds.pop(hold.number, None)
        hold._state = state
        detach, hold._detach = hold._detach, None
        if detach is not None:
            detach()

    def _take_pending(self) -> BudgetReservation | None:
        """The hold an earlier ``check()`` in this task/thread left for ``record()``, forgotten there.

        A task started from a task inherits its context, and so the parent's entry: only the owner takes it.
        """
        pending = _PENDING.get(_NOTHING_PENDING)
        hold = pending.get(id(self))
        if hold is None or hold._owner != _owner():
            return None
        _PENDING.set({key: value for key, value in pending.items() if key != id(self)})
        return hold

    def _leave_pending(self, hold: BudgetReservation) -> None:
        """Remember ``hold`` for this task's ``record()``; release it if the task ends first (the request failed)."""
        hold._owner = owner = _owner()
        _PENDING.set({**_PENDING.get(_NOTHING_PENDING), id(self): hold})
        if not isinstance(owner, asyncio.Task):  # no task: the next check() in this thread releases it
            return
        task = owner

        def on_done(_: object) -> None:
            hold.release()

        def detach() -> None:
            with contextlib.suppress(RuntimeError):
                if asyncio.current_task() is task:  # callbacks may only be removed from the task's own thread
                    task.remove_done_callback(on_done)

        task.add_done_callback(on_done)
        hold._detach = detach

    # -- limits --------------------------------------------------------------------------------------------------

    def _used_locked(self, limit: BudgetLimit, start: float, skip: int | None = None) -> tuple[int, float]:
        """Recorded usage in the period plus every hold, both as far as ``limit`` applies to them."""
        tokens, cost = 0, 0.0
        for record in self._records:
            if record.timestamp >= start and limit.applies_to(record.provider, record.model, record.component):
                tokens += record.total_tokens
                cost += record.cost
        for hold in self._holds.values():
            if hold.number != skip and limit.applies_to(hold.provider, hold.model, hold.component):
                tokens += hold.tokens
                cost += hold.cost
        return tokens, cost

    def check(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        component: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int = 0,
        messages: Iterable[Any] | None = None,
        prompt: str | None = None,
        cost: float | None = None,
    ) -> BudgetCheck:
        """Whether a request may be sent; call it before sending, and ``record()`` its answer in the same task.

        The request's size is ``input_tokens`` (else estimated from ``messages``/``prompt``) plus the expected
        ``output_tokens`` (a request without ``max_tokens`` can only be held for its input). Every applicable limit
        whose period usage, plus what requests in flight hold, plus this request would exceed it is a violation:
        ``enforce`` raises ``BudgetExceededError`` (nothing must be sent), ``warn`` logs one WARNING per limit and
        period, ``ignore`` only reports it in the result.

        A request let through holds its size until ``record()`` is called in the same asyncio task (or thread,
        outside asyncio), which replaces the hold with the actual usage; the hold is released when that task ends
        without a record (the request failed) or at the next ``check()`` there. For explicit control use
        :meth:`reserve`.
        """
        stale = self._take_pending()
        if stale is not None:
            stale.release()
        result = self._admit(
            provider=provider, model=model, component=component, input_tokens=input_tokens,
            output_tokens=output_tokens, messages=messages, prompt=prompt, cost=cost,
        )
        if result.reservation is not None:
            self._leave_pending(result.reservation)
        return result

    def reserve(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        component: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int = 0,
        messages: Iterable[Any] | None = None,
        prompt: str | None = None,
        cost: float | None = None,
    ) -> BudgetReservation:
        """``check()``, returning the hold for the caller to ``settle()`` with the answer or ``release()``.

        Raises ``BudgetExceededError`` under ``enforce`` like ``check()``; the reservation holds nothing when no
        limit applies (settling it still records the usage)::

            with tracker.reserve(provider=p, model=m, messages=msgs, output_tokens=256) as held:
                response = await send(...)
                held.settle(response)
        """
        result = self._admit(
            provider=provider, model=model, component=component, input_tokens=input_tokens,
            output_tokens=output_tokens, messages=messages, prompt=prompt, cost=cost,
        )
        if result.reservation is not None:
            return result.reservation
        return BudgetReservation(
            self, -1, provider=provider, model=model, component=component or self.component_id, tokens=0, cost=0.0,
            timestamp=self._clock(),
        )

    def _admit(
        self,
        *,
        provider: str | None,
        model: str | None,
        component: str | None,
        input_tokens: int | None,
        output_tokens: int,
        messages: Iterable[Any] | None,
        prompt: str | None,
        cost: float | None,
    ) -> BudgetCheck:
        """Check the request against every limit and, when it may go, place its hold — under one lock."""
        component = component or self.component_id
        if input_tokens is None:
            input_tokens = self._estimate_input(messages, prompt, model)
        requested_tokens = input_tokens + output_tokens
        requested_cost = cost if cost is not None else self.estimate_cost(provider, model, input_tokens, output_tokens)
        now = self._clock()
        with self._lock:
            self._release_orphans_locked()
            applicable = [limit for limit in self._limits if limit.applies_to(provider, model, component)]
            violations, to_warn = self._violations_locked(applicable, now, requested_tokens, requested_cost)
            enforced = [v for v in violations if v.limit.policy == "enforce"]
            hold = None
            if applicable and not enforced:
                hold = BudgetReservation(
                    self, next(self._numbers), provider=provider, model=model, component=component,
                    tokens=requested_tokens, cost=requested_cost, timestamp=now,
                )
                self._holds[hold.number] = hold
        for violation in to_warn:
            logger.warning("LLM budget exceeded for component %s: %s", component, violation.message())
        if enforced:
            raise BudgetExceededError(
                "LLM budget exceeded, request not sent: " + "; ".join(v.message() for v in enforced),
                details=enforced,
            )
        return BudgetCheck(
            allowed=True,
            violations=tuple(violations),
            requested_tokens=requested_tokens,
            requested_cost=requested_cost,
            reservation=hold,
        )

    def _violations_locked(
        self, limits: list[BudgetLimit], now: float, requested_tokens: int, requested_cost: float
    ) -> tuple[list[BudgetViolation], list[BudgetViolation]]:
        """The limits the request would exceed, and those of them to warn about now (once per period)."""
        violations: list[BudgetViolation] = []
        to_warn: list[BudgetViolation] = []
        for limit in limits:
            start = period_start(limit.period, now, self._tz)
            used_tokens, used_cost = self._used_locked(limit, start)
            over_tokens = limit.max_tokens is not None and used_tokens + requested_tokens > limit.max_tokens
            over_cost = limit.max_cost is not None and used_cost + requested_cost > limit.max_cost
            if not (over_tokens or over_cost):
                continue
            violation = BudgetViolation(limit, used_tokens, used_cost, requested_tokens, requested_cost)
            violations.append(violation)
            if limit.policy == "warn" and (limit, start) not in self._warned:
                self._warned.add((limit, start))
                to_warn.append(violation)
        return violations, to_warn

    # -- reporting -----------------------------------------------------------------------------------------------

    def usage(
        self,
        period: Period = "daily",
        *,
        group_by: GroupBy = "provider",
        provider: str | None = None,
        model: str | None = None,
        component: str | None = None,
    ) -> UsageSummary:
        """Usage in the current ``period``, optionally filtered, grouped by provider, model or component."""
        if group_by not in ("provider", "model", "component"):
            raise ConfigurationError(f"group_by must be provider, model or component, got {group_by!r}")
        start = period_start(period, self._clock(), self._tz)
        with self._lock:
            selected = [
                r for r in self._records
                if r.timestamp >= start
                and (provider is None or r.provider == provider)
                and (model is None or r.model == model)
                and (component is None or r.component == component)
            ]
        groups: dict[str, dict[str, Any]] = {}
        for record in selected:
            key = getattr(record, group_by)
            group = groups.setdefault(
                key, {"cost": 0.0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "count": 0}
            )
            group["cost"] += record.cost
            group["input_tokens"] += record.input_tokens
            group["output_tokens"] += record.output_tokens
            group["total_tokens"] += record.total_tokens
            group["count"] += 1
        return UsageSummary(
            period=period,
            start=start,
            total_input_tokens=sum(r.input_tokens for r in selected),
            total_output_tokens=sum(r.output_tokens for r in selected),
            total_cost=sum(r.cost for r in selected),
            count=len(selected),
            groups=groups,
        )


def _owner() -> object:
    """The running asyncio task, else the current thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop in this thread
        task = None
    return task if task is not None else threading.current_thread()


def _response_usage(response: CompletionResponse) -> dict[str, Any]:
    return {
        "provider": response.provider or None,
        "model": response.model or None,
        "usage": response.usage,
        "completion": response.content,
    }


def _from_usage(
    usage: Mapping[str, Any], input_tokens: int | None, output_tokens: int | None
) -> tuple[int | None, int | None]:
    """Explicit numbers win; then the usage's input/output keys; a lone ``total_tokens`` counts as output."""
    if input_tokens is None:
        input_tokens = _usage_int(usage, "prompt_tokens", "input_tokens")
    if output_tokens is None:
        output_tokens = _usage_int(usage, "completion_tokens", "output_tokens")
    if input_tokens is None and output_tokens is None:
        output_tokens = _usage_int(usage, "total_tokens")
    return input_tokens, output_tokens


def _usage_int(usage: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = usage.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return None
