"""Client-side rate limits: requests and tokens per sliding window, and a concurrency cap, per component.

One limiter state per component per process, shared by every client of that component (the shims keep a client
per event loop, the sync facade runs its own loop, so the state is guarded by a ``threading.Lock`` and a waiter is
woken on its own loop). The guarantee: in any sliding window of ``RateLimits.window`` seconds (60 by default) the
requests admitted never exceed ``rpm`` and the tokens admitted (estimated before sending, replaced by the answer's
usage when it is settled) never exceed ``tpm``; at most ``concurrency`` permits are held at once.

An admission counts from the moment it is made until ``window`` seconds after its answer began (``Permit.answered``,
else ``settle``/``release``). Rhetor receives a request after its admission and before its answer, so the same
bound holds for what Rhetor sees, however long the client took to send (connection set-up, a busy loop, a loaded
machine). Counting from the admission alone does not: 50 callers at rpm=50 per 2 s put 90 to 98 arrivals in one
2 s window of the server's log on a loaded machine. The price is the answer's latency — up to ``rpm`` requests per
``window`` plus the time to the first event.
A caller over the limit waits in FIFO order — never past its own timeout; when even the earliest possible admission
lies beyond it, it fails at once — or, under ``on_limit="raise"``, fails at once with ``ClientRateLimitError``
carrying ``retry_after``. ``pause(seconds)`` (Rhetor's 429 ``Retry-After``) holds every admission until then;
afterwards the queued callers are admitted at the even rate (``window / rpm`` apart, or by their share of ``tpm``),
not all at the same instant. Waiting is event-driven: one timer for the head of the queue, armed on its own loop at
the moment the window lets it in, and ``answered``/``settle``/``release``/``pause`` re-examine the queue; nothing
polls. (``asyncio.wait_for`` bounds a wait: ``asyncio.timeout`` needs Python 3.11, the client supports 3.10.)

Why hand-written and not a library (both were installed and tried, see MIGRATION.md "Rate limits"):

* ``aiolimiter`` is a leaky bucket: with a rate of 10 per second and 40 callers it admitted 19 requests within one
  second (a full bucket drains while it refills), so it cannot promise "never more than rpm in any window"; it has
  no weights to refund, no pause and no concurrency cap.
* ``pyrate-limiter`` 4 keeps a sliding-window log that does hold the rpm guarantee, but a weight is stored as that
  many log items (a 100k tokens-per-minute limit means 100k list entries), an admitted weight cannot be changed, so
  the estimate can never be settled from usage; it has no pause and no concurrency cap; waiting is a retry loop of
  ``asyncio.sleep`` under one lock, and a timeout shorter than the wait is spent waiting rather than refused at once.

What is left is a small log of admissions (one entry per request, its tokens and its answer time mutable) — less code
than the adapters those libraries would need.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .exceptions import ClientRateLimitError, ConfigurationError

if TYPE_CHECKING:
    from ._request import LLMRequest

__all__ = ["Permit", "RateLimiter", "RateLimits", "estimate_tokens", "limiter_for"]

logger = logging.getLogger("tekton_llm_client")

OnLimit = Literal["wait", "raise"]
_ON_LIMIT: tuple[str, ...] = ("wait", "raise")
_NUMBERS = ("rpm", "tpm", "concurrency")


def _positive_int(value: object, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"RateLimits.{name} must be a positive integer or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Limits for one component: requests per window (``rpm``), tokens per window (``tpm``), requests at once
    (``concurrency``); ``None`` means no limit of that kind. ``on_limit`` is what a caller over the limit does:
    ``wait`` (bounded by its timeout) or ``raise`` (``ClientRateLimitError`` at once). ``window`` is the length of
    the sliding window in seconds — 60 for per-minute limits; tests use short ones."""

    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None
    on_limit: OnLimit = "wait"
    window: float = 60.0

    def __post_init__(self) -> None:
        for name in _NUMBERS:
            _positive_int(getattr(self, name), name)
        if self.on_limit not in _ON_LIMIT:
            raise ConfigurationError(f"RateLimits.on_limit must be 'wait' or 'raise', got {self.on_limit!r}")
        window = self.window
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not math.isfinite(window) or window <= 0:
            raise ConfigurationError(f"RateLimits.window must be a finite positive number of seconds, got {window!r}")

    @property
    def configured(self) -> bool:
        """Whether any limit is set (``on_limit`` alone limits nothing)."""
        return any(getattr(self, name) is not None for name in _NUMBERS)

    def stricter(self, other: RateLimits) -> RateLimits:
        """Each limit the smaller of the two (a set limit beats ``None``); ``on_limit`` stays this one's."""
        if other.configured and self.configured and other.window != self.window:
            raise ConfigurationError(
                f"rate limits of one component must use one window: {self.window:g}s and {other.window:g}s"
            )
        changes: dict[str, Any] = {} if self.configured else {"window": other.window}
        for name in _NUMBERS:
            mine, theirs = getattr(self, name), getattr(other, name)
            changes[name] = theirs if mine is None else mine if theirs is None else min(mine, theirs)
        return replace(self, **changes)


def estimate_tokens(request: LLMRequest) -> int:
    """Tokens a request may use before it is sent: its messages counted as the budget counts them
    (``utils.token_counter``) plus ``max_tokens`` (0 when unset); the answer's usage replaces it (``settle``)."""
    from .utils.token_counter import count_message_tokens

    return count_message_tokens(request.all_messages(), request.model) + (request.max_tokens or 0)


class _Entry:
    """One admission in the window log. ``tokens`` changes when the permit is settled; ``answered`` is when its
    answer began (or the attempt ended): the entry leaves the window ``window`` seconds after that."""

    __slots__ = ("answered", "at", "tokens")

    def __init__(self, at: float, tokens: int) -> None:
        self.at = at
        self.tokens = tokens
        self.answered: float | None = None


class Permit:
    """The right to send one attempt: hold it until the answer ends, ``settle`` it with the real usage, then
    ``release`` it (frees the concurrency slot; idempotent). Also a context manager that releases on exit."""

    __slots__ = ("_entry", "_held", "_state", "request_id", "waited")

    def __init__(
        self, state: _State | None, entry: _Entry | None, *, waited: float = 0.0, request_id: str | None = None
    ) -> None:
        self._state = state
        self._entry = entry
        self._held = state is not None
        self.waited = waited
        self.request_id = request_id

    def __repr__(self) -> str:
        tokens = None if self._entry is None else self._entry.tokens
        return f"Permit(waited={self.waited:.3f}, tokens={tokens}, held={self._held})"

    @property
    def admitted_at(self) -> float | None:
        """The limiter's clock (``time.monotonic``) at admission; ``None`` when no limit applied."""
        return None if self._entry is None else self._entry.at

    @property
    def tokens(self) -> int | None:
        """The tokens this permit counts in the window: the estimate, or the settled usage."""
        return None if self._entry is None else self._entry.tokens

    def answered(self) -> None:
        """The answer has begun (its first event arrived): from now the admission is known to have reached
        Rhetor, and it leaves the window ``window`` seconds later. ``settle`` and ``release`` imply it."""
        if self._state is not None and self._entry is not None and self._entry.answered is None:
            self._state.answered(self._entry)

    def settle(self, tokens: int | None) -> None:
        """Replace the estimate with the answer's real token count (``None`` keeps the estimate)."""
        if self._state is not None and self._entry is not None:
            self._state.settle(self._entry, tokens)

    def release(self) -> None:
        """Free the concurrency slot (idempotent). The admission stays in the window until ``window`` seconds
        after its answer began."""
        if self._held and self._state is not None:
            self._held = False
            self._state.release(self._entry)

    def __enter__(self) -> Permit:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class _Waiter:
    """A caller queued for admission, woken on its own event loop."""

    __slots__ = ("future", "loop", "permit", "request_id", "since", "timer", "tokens")

    def __init__(self, loop: asyncio.AbstractEventLoop, tokens: int, since: float, request_id: str | None) -> None:
        self.loop = loop
        self.future: asyncio.Future[Permit] = loop.create_future()
        self.tokens = tokens
        self.since = since
        self.request_id = request_id
        self.permit: Permit | None = None
        self.timer: asyncio.TimerHandle | None = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(future: asyncio.Future[Permit], permit: Permit) -> None:
    if not future.done():
        future.set_result(permit)


class _State:
    """The shared limiter state of one component: the window log, the slots in use, the pause and the queue."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.lock = threading.Lock()
        self.log: deque[_Entry] = deque()
        self.active = 0
        self.queue: deque[_Waiter] = deque()
        self.paused_until = -math.inf
        self.pacing = False  # after a pause, until the queue drains: admissions spaced at the even rate
        self.last: _Entry | None = None  # the latest admission while pacing

    # ------------------------------------------------------------------------------------------- the window

    def prune(self, now: float) -> None:
        """Drop the admissions whose answer began ``window`` seconds ago or more."""
        horizon = now - self.limits.window
        if any(entry.answered is not None and entry.answered <= horizon for entry in self.log):
            self.log = deque(entry for entry in self.log if entry.answered is None or entry.answered > horizon)

    def spacing(self, tokens: int) -> float:
        """The even-rate gap after an admission of ``tokens`` (used while pacing after a pause)."""
        limits, gap = self.limits, 0.0
        if limits.rpm is not None:
            gap = limits.window / limits.rpm
        if limits.tpm is not None:
            gap = max(gap, limits.window * tokens / limits.tpm)
        return gap

    def expiries(self, unknown: float) -> list[tuple[float, int]]:
        """(when it leaves the window, tokens) of each admission, soonest first; one still unanswered leaves at
        ``unknown`` (``inf`` to decide, ``now + window`` — the soonest it could — to estimate)."""
        window = self.limits.window
        return sorted(
            (unknown if entry.answered is None else entry.answered + window, entry.tokens) for entry in self.log
        )

    def earliest(
        self, tokens: int, now: float, ahead: int = 0, ahead_tokens: int = 0, *, estimate: bool = False
    ) -> tuple[float, str]:
        """The earliest time the window, the pause and the pacing let ``tokens`` in, with the reason (``inf``:
        only an answer can tell). With ``estimate``, a lower bound: unanswered admissions and the callers
        ``ahead`` in the queue leave the window as soon as they could (answered now). Concurrency is left out."""
        self.prune(now)
        limits = self.limits
        at, reason = now, ""
        if self.paused_until > at:
            at, reason = self.paused_until, "paused"
        if self.pacing and self.last is not None and self.last.at + self.spacing(self.last.tokens) > at:
            at, reason = self.last.at + self.spacing(self.last.tokens), "paced"
        if not self._window_full(tokens + ahead_tokens, ahead):
            return at, reason
        soonest = now + limits.window
        expiries = self.expiries(soonest if estimate else math.inf)
        if ahead:
            expiries = sorted([*expiries, *[(soonest, 0)] * (ahead - 1), (soonest, ahead_tokens)])
        if limits.rpm is not None:
            k = len(expiries) - limits.rpm  # the admission that must leave the window first
            if k >= 0 and expiries[k][0] > at:
                at, reason = expiries[k][0], "rpm"
        if limits.tpm is not None:
            frees = _tokens_free_at(expiries, tokens, limits.tpm, now)
            if frees > at:
                at, reason = frees, "tpm"
        return at, reason

    def _window_full(self, tokens: int, ahead: int) -> bool:
        """Whether the requests or tokens in the window leave no room (cheap: no sorting when there is room)."""
        limits = self.limits
        if limits.rpm is not None and len(self.log) + ahead >= limits.rpm:
            return True
        return limits.tpm is not None and sum(entry.tokens for entry in self.log) + tokens > limits.tpm

    def slot_free(self) -> bool:
        return self.limits.concurrency is None or self.active < self.limits.concurrency

    def fits(self, tokens: int, now: float) -> bool:
        return self.slot_free() and self.earliest(tokens, now)[0] <= now

    def admit(self, tokens: int, now: float, since: float, request_id: str | None) -> Permit:
        entry = _Entry(now, tokens)
        if self.limits.rpm is not None or self.limits.tpm is not None:  # a concurrency cap alone needs no log
            self.log.append(entry)
        self.active += 1
        if self.pacing:
            self.last = entry
        return Permit(self, entry, waited=max(0.0, now - since), request_id=request_id)

    def retract(self, permit: Permit) -> None:
        """Undo an admission that was never used (its caller timed out or was cancelled as it was granted)."""
        if permit._entry is not None:
            try:
                self.log.remove(permit._entry)
            except ValueError:
                pass
        if permit._held:
            permit._held = False
            self.active -= 1

    # -------------------------------------------------------------------------------------------- the queue

    def wake(self) -> None:
        """Admit queued callers, in order, as far as the limits allow now; arm the head's timer for the rest."""
        now = self.clock()
        current = _running_loop()
        while self.queue:
            head = self.queue[0]
            if head.future.done():  # timed out or cancelled; it took itself out of the count
                self.queue.popleft()
                continue
            if not self.fits(head.tokens, now):
                break
            self.queue.popleft()
            head.permit = self.admit(head.tokens, now, head.since, head.request_id)
            self._deliver(head, current)
        if self.queue:
            self._arm(self.queue[0], now, current)
        elif self.pacing and now >= self.paused_until:
            self.pacing, self.last = False, None

    def _deliver(self, waiter: _Waiter, current: asyncio.AbstractEventLoop | None) -> None:
        assert waiter.permit is not None
        if waiter.timer is not None and waiter.loop is current:
            waiter.timer.cancel()
        if waiter.loop is current:
            _resolve(waiter.future, waiter.permit)
            return
        try:
            waiter.loop.call_soon_threadsafe(_resolve, waiter.future, waiter.permit)
        except RuntimeError:  # its loop is closed: nobody will use the permit
            self.retract(waiter.permit)

    def _arm(self, head: _Waiter, now: float, current: asyncio.AbstractEventLoop | None) -> None:
        """A timer on the head's loop for when the window lets it in (none while only a slot or an answer is
        missing: ``release``/``answered`` wake the queue). Timers are made and cancelled on their own loop's thread
        only."""
        at, _ = self.earliest(head.tokens, now)
        if at <= now or at == math.inf:
            return
        if head.loop is not current:
            try:
                head.loop.call_soon_threadsafe(self.on_timer)  # the head's loop arms its own timer
            except RuntimeError:
                pass  # closed loop: its waiter is being cancelled and will wake the queue
            return
        if head.timer is not None:
            head.timer.cancel()
        head.timer = head.loop.call_later(at - now, self.on_timer)

    def on_timer(self) -> None:
        with self.lock:
            self.wake()

    def answered(self, entry: _Entry) -> None:
        with self.lock:
            if entry.answered is None:
                entry.answered = self.clock()
                if self.queue:
                    self.wake()

    def settle(self, entry: _Entry, tokens: int | None) -> None:
        with self.lock:
            if entry.answered is None:
                entry.answered = self.clock()
            if tokens is not None:
                entry.tokens = max(0, int(tokens))
            if self.queue:
                self.wake()

    def release(self, entry: _Entry | None) -> None:
        with self.lock:
            self.active -= 1
            if entry is not None and entry.answered is None:
                entry.answered = self.clock()
            if self.queue:
                self.wake()


class RateLimiter:
    """Admission for one component's requests (see the module docstring). Get the shared one with
    :func:`limiter_for`; constructing one directly gives a private limiter (tests inject ``clock``)."""

    __slots__ = ("_state", "on_limit")

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        _state: _State | None = None,
    ) -> None:
        limits = limits if limits is not None else RateLimits()
        self._state = _state if _state is not None else _State(limits, clock)
        self.on_limit: OnLimit = limits.on_limit

    def __repr__(self) -> str:
        limits = self._state.limits
        shown = ", ".join(f"{name}={getattr(limits, name)}" for name in _NUMBERS)
        return f"RateLimiter({shown}, window={limits.window:g}, on_limit={self.on_limit!r})"

    @property
    def limits(self) -> RateLimits:
        """The limits in force (shared by the component's clients; ``on_limit`` is this limiter's)."""
        state_limits = self._state.limits
        return RateLimits(
            state_limits.rpm, state_limits.tpm, state_limits.concurrency, self.on_limit, state_limits.window
        )

    @property
    def waiting(self) -> int:
        """How many callers are queued for admission right now."""
        with self._state.lock:
            return sum(1 for waiter in self._state.queue if not waiter.future.done())

    @property
    def counts_tokens(self) -> bool:
        """Whether a token limit applies, i.e. whether ``acquire`` needs a real ``estimate_tokens``."""
        return self._state.limits.tpm is not None

    async def acquire(self, tokens: int, *, timeout: float | None, request_id: str | None = None) -> Permit:
        """A permit for one attempt of ``tokens`` (estimated). Waits — never past ``timeout`` seconds — or raises
        ``ClientRateLimitError`` at once under ``on_limit="raise"``, or when even the earliest admission possible
        lies beyond ``timeout`` (then ``retry_after`` says when to try again)."""
        state = self._state
        loop = asyncio.get_running_loop()
        with state.lock:
            if not state.limits.configured:
                return Permit(None, None, request_id=request_id)
            now = state.clock()
            self._check_size(tokens, request_id)
            if not state.queue and state.fits(tokens, now):
                return state.admit(tokens, now, now, request_id)
            self._refuse_at_once(tokens, now, timeout, request_id)
            waiter = _Waiter(loop, tokens, now, request_id)
            state.queue.append(waiter)
            if len(state.queue) == 1:
                state.wake()
        return await self._wait(waiter, timeout)

    def _check_size(self, tokens: int, request_id: str | None) -> None:
        tpm = self._state.limits.tpm
        if tpm is not None and tokens > tpm:
            raise ClientRateLimitError(
                f"request estimated at {tokens} tokens exceeds the limit of {tpm} tokens per "
                f"{self._state.limits.window:g}s; it can never be admitted (lower max_tokens or raise the limit)",
                retry_after=math.inf,
                reason="tpm",
                request_id=request_id,
            )

    def _refuse_at_once(self, tokens: int, now: float, timeout: float | None, request_id: str | None) -> None:
        """Raise when the caller may not wait: ``raise`` mode, no time to wait, or an admission beyond it."""
        state = self._state
        ahead = [w for w in state.queue if not w.future.done()]
        at, reason = state.earliest(tokens, now, len(ahead), sum(w.tokens for w in ahead), estimate=True)
        if not reason:
            reason = "queue" if ahead else "concurrency"
        if self.on_limit == "raise":
            raise self._error(f"rate limit reached ({reason})", at - now, reason, request_id)
        if timeout is not None and at - now >= timeout:
            raise self._error(
                f"rate limit ({reason}) admits this request in {at - now:.3g}s, beyond its timeout of {timeout:g}s",
                at - now,
                reason,
                request_id,
            )

    async def _wait(self, waiter: _Waiter, timeout: float | None) -> Permit:
        state = self._state
        try:
            permit = await asyncio.wait_for(waiter.future, timeout)
        except asyncio.TimeoutError:
            with state.lock:
                if waiter.permit is not None:  # granted as the timeout fired: it is the caller's
                    return waiter.permit
                self._leave(waiter)
                at, reason = state.earliest(waiter.tokens, state.clock(), estimate=True)
            assert timeout is not None
            raise self._error(
                f"rate limit ({reason or 'concurrency'}): not admitted within the timeout of {timeout:g}s",
                at - state.clock(),
                reason or "concurrency",
                waiter.request_id,
            ) from None
        except BaseException:
            with state.lock:
                if waiter.permit is not None:
                    state.retract(waiter.permit)
                self._leave(waiter)
            raise
        return permit

    def _leave(self, waiter: _Waiter) -> None:
        """Take a waiter out of the queue (lock held) and let the next one in if it can go now."""
        state = self._state
        if not waiter.future.done():
            waiter.future.cancel()
        if waiter.timer is not None and waiter.loop is _running_loop():
            waiter.timer.cancel()
        try:
            state.queue.remove(waiter)
        except ValueError:
            pass
        if state.queue:
            state.wake()

    def _error(self, message: str, retry_after: float, reason: str, request_id: str | None) -> ClientRateLimitError:
        return ClientRateLimitError(message, retry_after=max(0.0, retry_after), reason=reason, request_id=request_id)

    def pause(self, seconds: float) -> None:
        """Rhetor said 429 with ``Retry-After``: no admission for anyone until ``seconds`` from now; then the
        queued callers go in at the even rate (``window / rpm`` apart), not all at once."""
        if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"pause needs a finite number of seconds >= 0, got {seconds!r}")
        state = self._state
        with state.lock:
            now = state.clock()
            state.paused_until = max(state.paused_until, now + seconds)
            state.pacing = state.limits.rpm is not None or state.limits.tpm is not None
            if state.queue:
                state.wake()

    @property
    def paused_until(self) -> float | None:
        """The clock time admissions resume after a pause, or ``None`` when not paused."""
        state = self._state
        return state.paused_until if state.paused_until > state.clock() else None


def _tokens_free_at(expiries: list[tuple[float, int]], tokens: int, tpm: int, now: float) -> float:
    """When enough of the window's tokens (``expiries``, soonest first) have left for ``tokens`` more."""
    total = sum(count for _, count in expiries) + tokens
    frees = now
    for leaves, count in expiries:
        if total <= tpm:
            break
        total -= count
        frees = leaves
    return frees


_registry_lock = threading.Lock()
_states: dict[str, _State] = {}
_views: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(component_id: str, limits: RateLimits) -> RateLimiter:
    """The component's limiter in this process, shared by every client of the component.

    Clients that pass different limits share one state under the stricter of each limit (a process never exceeds
    any limit declared for the component, and a shim client built lazily inside a legacy call never fails on it);
    a WARNING names the limits now in force. ``on_limit`` is each client's own. Limits in different windows are
    a ``ConfigurationError``."""
    with _registry_lock:
        state = _states.get(component_id)
        if state is None:
            state = _states[component_id] = _State(limits, time.monotonic)
        elif limits.configured:
            with state.lock:
                tighter = state.limits.stricter(limits)
                if tighter != state.limits:
                    if state.limits.configured:
                        logger.warning(
                            "component %s: clients declare different rate limits (%s and %s); the stricter apply: %s",
                            component_id,
                            _describe(state.limits),
                            _describe(limits),
                            _describe(tighter),
                        )
                    state.limits = tighter
                    if state.queue:
                        state.wake()
        key = (component_id, limits.on_limit)
        view = _views.get(key)
        if view is None:
            view = _views[key] = RateLimiter(limits, _state=state)
        return view


def _describe(limits: RateLimits) -> str:
    parts = [f"{name}={getattr(limits, name)}" for name in _NUMBERS if getattr(limits, name) is not None]
    return ", ".join(parts) or "none"
