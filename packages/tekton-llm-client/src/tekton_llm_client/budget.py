"""Client-side LLM usage accounting and budget limits, checked before a request leaves the process.

Rhetor keeps its own budget, but only per server and it cannot stop a request before the provider is paid (its
budget endpoints are read-only or broken as shipped, rhetor-protocol.md §4.8, §6.9). ``BudgetTracker`` records each
answer's usage per component/provider/model (the response's ``usage`` when the server reports it, else tokens
estimated with the token counter) and applies limits per calendar period with the same policies Rhetor uses:
``ignore`` (account only), ``warn`` (log a WARNING once per limit and period) and ``enforce`` (``BudgetExceededError``
so the request is never sent).

Concurrent requests must not all pass a check made against the same usage. What protects them is an explicit
:meth:`BudgetTracker.reserve`: under the tracker's lock it checks the request *and* holds its size against the
limits, until the :class:`BudgetReservation` is settled with the answer (the actual usage replaces the hold) or
released (failure, cache hit, fallback answer). The client does this for every request it sends. ``check()`` and
``record()`` keep their plain meaning for callers outside the client: a check holds nothing, a record accounts.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, tzinfo
from types import TracebackType
from typing import Any, Literal, get_args

from .exceptions import BudgetExceededError, ConfigurationError
from .models import CompletionResponse
from .utils.token_counter import count_message_tokens, count_tokens

__all__ = [
    "BudgetCheck",
    "BudgetLimit",
    "BudgetRequest",
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
_UNKNOWN = "unknown"  # what a record says when the answer named no provider or model
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

    def covers(self, provider: str | None, model: str | None, component: str | None) -> bool:
        """Like :meth:`applies_to`, but a provider or model that is not known (``None``/``"unknown"``) may be
        the scoped one, so it is counted: a request leaving the choice to Rhetor's default is checked against
        every provider/model-scoped limit, and usage recorded without a name counts against them too."""
        return (
            (self.provider is None or provider in (None, _UNKNOWN, self.provider))
            and (self.model is None or model in (None, _UNKNOWN, self.model))
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
    """A limit that the checked request would exceed, with the numbers that show it.

    ``used_*`` is what answers recorded in the period, ``held_*`` what requests in flight hold, ``requested_*``
    this request's size.
    """

    limit: BudgetLimit
    used_tokens: int
    used_cost: float
    requested_tokens: int
    requested_cost: float
    held_tokens: int = 0
    held_cost: float = 0.0

    def message(self) -> str:
        """What was exceeded, safe to log."""
        parts = []
        tokens = self.used_tokens + self.held_tokens + self.requested_tokens
        if self.limit.max_tokens is not None and tokens > self.limit.max_tokens:
            parts.append(
                f"tokens {self.used_tokens} used + {self.held_tokens} held + {self.requested_tokens} requested "
                f"> {self.limit.max_tokens}"
            )
        cost = self.used_cost + self.held_cost + self.requested_cost
        if self.limit.max_cost is not None and cost > self.limit.max_cost:
            parts.append(
                f"cost {self.used_cost:.4f} used + {self.held_cost:.4f} held + {self.requested_cost:.4f} requested "
                f"> {self.limit.max_cost:.4f}"
            )
        return f"{self.limit.describe()} ({self.limit.policy}): " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class BudgetRequest:
    """The size and scope of one request, as :meth:`BudgetTracker.check` and :meth:`~BudgetTracker.reserve` take it.

    ``input_tokens`` wins; else the input is estimated from ``messages`` (or ``prompt``). ``output_tokens`` is the
    answer's expected size (the request's ``max_tokens``; 0 when unknown, so only the input is held). ``cost``
    overrides the price-based estimate. ``component`` defaults to the tracker's.
    """

    provider: str | None = None
    model: str | None = None
    component: str | None = None
    input_tokens: int | None = None
    output_tokens: int = 0
    messages: Iterable[Any] | None = None
    prompt: str | None = None
    cost: float | None = None


_REQUEST_FIELDS = frozenset(f.name for f in fields(BudgetRequest))


def _request(request: BudgetRequest | None, options: Mapping[str, Any]) -> BudgetRequest:
    """The request given as a ``BudgetRequest`` or as its keywords (not both; unknown keywords are an error)."""
    if request is not None:
        if options:
            raise TypeError("pass a BudgetRequest or keywords, not both")
        return request
    unknown = set(options) - _REQUEST_FIELDS
    if unknown:
        raise TypeError(f"unknown budget request field(s): {', '.join(sorted(unknown))}")
    return BudgetRequest(**options)


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """Result of :meth:`BudgetTracker.check`: ``allowed`` is false only when an ``enforce`` limit is exceeded."""

    allowed: bool
    violations: tuple[BudgetViolation, ...] = ()
    requested_tokens: int = 0
    requested_cost: float = 0.0


ReservationState = Literal["held", "settled", "released"]


class BudgetReservation:
    """A request's tokens and cost, held against the limits from :meth:`BudgetTracker.reserve` until its answer.

    Without the hold, requests checked at the same time all see the same usage and all pass. Exactly one of:
    ``settle()`` replaces the hold with the answer's actual usage (same keywords as :meth:`BudgetTracker.record`;
    a second ``settle`` raises ``RuntimeError``), ``release()`` drops it when nothing was paid for (the request
    failed, was answered from the cache or by a fallback; a ``release`` after ``settle`` does nothing).
    ``finish(text)`` is the one call for the end of a request whatever happened. As a context manager, a hold
    still open at the end of the block is released. Thread safe.
    """

    __slots__ = ("_settled", "_state", "_tracker", "component", "cost", "input_tokens", "model", "number",
                 "provider", "timestamp", "tokens")

    def __init__(
        self,
        tracker: BudgetTracker,
        number: int,
        *,
        provider: str | None,
        model: str | None,
        component: str,
        input_tokens: int,
        tokens: int,
        cost: float,
        timestamp: float,
    ) -> None:
        self._tracker = tracker
        self.number = number
        self.provider = provider
        self.model = model
        self.component = component
        self.input_tokens = input_tokens
        self.tokens = tokens
        self.cost = cost
        self.timestamp = timestamp
        self._state: ReservationState = "held"

    def __repr__(self) -> str:
        return f"BudgetReservation(tokens={self.tokens}, cost={self.cost:.4f}, state={self._state!r})"

    @property
    def state(self) -> ReservationState:
        """``held`` until ``settle()`` (then ``settled``) or ``release()`` (then ``released``)."""
        return self._state

    def settle(self, response: CompletionResponse | None = None, **usage: Any) -> UsageRecord:
        """Replace the hold with the answer's usage: a ``CompletionResponse`` and/or ``record()`` keywords.

        What the answer does not say is taken from the reservation: its provider, model and component, and its
        input tokens (when neither the usage nor ``messages``/``prompt`` give them). Settling a released
        reservation still records the usage (the answer was paid for); settling twice raises ``RuntimeError``.
        """
        if response is not None:
            usage = {**_response_usage(response), **usage}
        usage = {key: value for key, value in usage.items() if value is not None}
        usage.setdefault("provider", self.provider)
        usage.setdefault("model", self.model)
        usage.setdefault("component", self.component)
        record = self._tracker._build_record(**usage, default_input=self.input_tokens)
        return self._tracker._settle(self, record)

    def release(self) -> None:
        """Drop the hold: nothing was paid for. Does nothing once settled or released."""
        self._tracker._release(self)

    def finish(self, text: str = "", *, fallback: bool = False) -> UsageRecord | None:
        """End the request however it went: the text Rhetor delivered (all of it, or the part before a failure
        or before the consumer stopped reading) is settled; no text, or a fallback's text, releases the hold.

        Does nothing once settled (the caller settled with the full response first). Returns the record, if any.
        """
        if self._state == "settled":
            return None
        if text and not fallback:
            return self.settle(completion=text)
        self.release()
        return None

    def __enter__(self) -> BudgetReservation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


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

    A limit scoped to a provider or model also applies to a request that does not name one (Rhetor picks its
    default, which may be the scoped one) and to usage recorded without one: unknown counts, conservatively.
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
        """Account one answer and return the record (no hold is involved: see :meth:`reserve`).

        Token numbers come from, in order: explicit ``input_tokens``/``output_tokens``; the response's ``usage``
        (``prompt_tokens``/``completion_tokens`` or ``input_tokens``/``output_tokens``; a lone ``total_tokens``
        counts as output); else an estimate from ``messages``/``prompt`` and ``completion``.
        """
        record = self._build_record(
            provider=provider, model=model, usage=usage, input_tokens=input_tokens, output_tokens=output_tokens,
            messages=messages, prompt=prompt, completion=completion, cost=cost, component=component,
            timestamp=timestamp,
        )
        with self._lock:
            self._add_locked(record)
        return record

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
        default_input: int | None = None,
    ) -> UsageRecord:
        if usage:
            input_tokens, output_tokens = _from_usage(usage, input_tokens, output_tokens)
        estimated = False
        if input_tokens is None:
            if default_input is not None and messages is None and prompt is None:
                input_tokens = default_input  # the reservation's own estimate of this request's input
            else:
                input_tokens = self._estimate_input(messages, prompt, model)
            estimated = bool(messages or prompt or default_input)
        if output_tokens is None:
            output_tokens = count_tokens(completion or "", model)
            estimated = estimated or bool(completion)
        return UsageRecord(
            timestamp=self._clock() if timestamp is None else timestamp,
            component=component or self.component_id,
            provider=provider or _UNKNOWN,
            model=model or _UNKNOWN,
            input_tokens=max(0, int(input_tokens)),
            output_tokens=max(0, int(output_tokens)),
            cost=cost if cost is not None else self.estimate_cost(provider, model, input_tokens, output_tokens),
            estimated=estimated,
        )

    def _add_locked(self, record: UsageRecord) -> None:
        self._records.append(record)
        self._prune_locked()

    def _settle(self, hold: BudgetReservation, record: UsageRecord) -> UsageRecord:
        """Add ``record`` and drop the hold it settles in one step (so no check sees both or neither)."""
        with self._lock:
            if hold._state == "settled":
                raise RuntimeError("this budget reservation is already settled")
            self._holds.pop(hold.number, None)
            hold._state = "settled"
            self._add_locked(record)
        return record

    def _release(self, hold: BudgetReservation) -> None:
        with self._lock:
            if hold._state == "held":
                self._holds.pop(hold.number, None)
                hold._state = "released"

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

    @property
    def held_tokens(self) -> int:
        """Tokens currently held by reservations that were neither settled nor released."""
        with self._lock:
            return sum(hold.tokens for hold in self._holds.values())

    # -- limits --------------------------------------------------------------------------------------------------

    def check(self, request: BudgetRequest | None = None, /, **options: Any) -> BudgetCheck:
        """Whether a request may be sent now, holding nothing (concurrent requests need :meth:`reserve`).

        Takes a :class:`BudgetRequest` or its keywords (``provider``, ``model``, ``component``, ``input_tokens``,
        ``output_tokens``, ``messages``, ``prompt``, ``cost``). Every limit that covers the request and whose
        period usage, plus what reservations hold, plus this request would exceed it is a violation: ``enforce``
        raises ``BudgetExceededError`` (nothing must be sent), ``warn`` logs one WARNING per limit and period,
        ``ignore`` only reports it in the result. Account the answer with :meth:`record`.
        """
        result, _ = self._admit(_request(request, options), hold=False)
        return result

    def reserve(self, request: BudgetRequest | None = None, /, **options: Any) -> BudgetReservation:
        """:meth:`check` and, in the same step under the lock, hold the request's size until it answers.

        Raises ``BudgetExceededError`` under ``enforce`` like ``check()``. The caller must ``settle()`` or
        ``release()`` the reservation (or use it as a context manager); one that no limit covers holds nothing,
        and settling it still records the usage::

            with tracker.reserve(provider=p, model=m, messages=msgs, output_tokens=256) as held:
                response = await send(...)
                held.settle(response)
        """
        _, hold = self._admit(_request(request, options), hold=True)
        assert hold is not None
        return hold

    def _admit(self, request: BudgetRequest, *, hold: bool) -> tuple[BudgetCheck, BudgetReservation | None]:
        """Check the request against every limit covering it and, if asked and it may go, hold it: one lock."""
        component = request.component or self.component_id
        provider, model = request.provider, request.model
        input_tokens = request.input_tokens
        if input_tokens is None:
            input_tokens = self._estimate_input(request.messages, request.prompt, model)
        requested_tokens = input_tokens + request.output_tokens
        requested_cost = (
            request.cost if request.cost is not None
            else self.estimate_cost(provider, model, input_tokens, request.output_tokens)
        )
        now = self._clock()
        reservation = None
        with self._lock:
            covering = [limit for limit in self._limits if limit.covers(provider, model, component)]
            violations, to_warn = self._violations_locked(covering, now, requested_tokens, requested_cost)
            enforced = [v for v in violations if v.limit.policy == "enforce"]
            if hold and not enforced:
                held = bool(covering)  # nothing to hold against when no limit covers the request
                reservation = BudgetReservation(
                    self, next(self._numbers), provider=provider, model=model, component=component,
                    input_tokens=input_tokens, tokens=requested_tokens if held else 0,
                    cost=requested_cost if held else 0.0, timestamp=now,
                )
                if held:
                    self._holds[reservation.number] = reservation
        for violation in to_warn:
            logger.warning("LLM budget exceeded for component %s: %s", component, violation.message())
        if enforced:
            raise BudgetExceededError(
                "LLM budget exceeded, request not sent: " + "; ".join(v.message() for v in enforced),
                details=enforced,
            )
        result = BudgetCheck(
            allowed=True, violations=tuple(violations), requested_tokens=requested_tokens,
            requested_cost=requested_cost,
        )
        return result, reservation

    def _used_locked(self, limit: BudgetLimit, start: float) -> tuple[int, float, int, float]:
        """Recorded usage in the period, then what reservations hold, both as far as ``limit`` covers them."""
        tokens, cost = 0, 0.0
        for record in self._records:
            if record.timestamp >= start and limit.covers(record.provider, record.model, record.component):
                tokens += record.total_tokens
                cost += record.cost
        held_tokens, held_cost = 0, 0.0
        for hold in self._holds.values():
            if limit.covers(hold.provider, hold.model, hold.component):
                held_tokens += hold.tokens
                held_cost += hold.cost
        return tokens, cost, held_tokens, held_cost

    def _violations_locked(
        self, limits: list[BudgetLimit], now: float, requested_tokens: int, requested_cost: float
    ) -> tuple[list[BudgetViolation], list[BudgetViolation]]:
        """The limits the request would exceed, and those of them to warn about now (once per period)."""
        violations: list[BudgetViolation] = []
        to_warn: list[BudgetViolation] = []
        for limit in limits:
            start = period_start(limit.period, now, self._tz)
            used_tokens, used_cost, held_tokens, held_cost = self._used_locked(limit, start)
            tokens = used_tokens + held_tokens + requested_tokens
            over_tokens = limit.max_tokens is not None and tokens > limit.max_tokens
            over_cost = limit.max_cost is not None and used_cost + held_cost + requested_cost > limit.max_cost
            if not (over_tokens or over_cost):
                continue
            violation = BudgetViolation(
                limit, used_tokens, used_cost, requested_tokens, requested_cost, held_tokens, held_cost
            )
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
    used_input, used_output, total = usage_tokens(usage)
    if input_tokens is None:
        input_tokens = used_input
    if output_tokens is None:
        output_tokens = used_output
    if input_tokens is None and output_tokens is None:
        output_tokens = total
    return input_tokens, output_tokens


def usage_tokens(usage: Mapping[str, Any] | None) -> tuple[int | None, int | None, int | None]:
    """Input, output and total tokens of an answer's ``usage`` (OpenAI or Anthropic names; a boolean is no
    number), each ``None`` when not reported; the total is ``total_tokens``, else the sum of what is known. The one
    usage parser of the client: the budget, the rate limiter and telemetry all read usage here."""
    if not usage:
        return None, None, None
    input_tokens = _usage_int(usage, "prompt_tokens", "input_tokens")
    output_tokens = _usage_int(usage, "completion_tokens", "output_tokens")
    total = _usage_int(usage, "total_tokens")
    if total is None and (input_tokens is not None or output_tokens is not None):
        total = (input_tokens or 0) + (output_tokens or 0)
    return input_tokens, output_tokens, total


def _usage_int(usage: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = usage.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return None
