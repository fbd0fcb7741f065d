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
carrying ``retry_after``. ``pause(seconds)`` (Rhetor's 429 ``Retry-After``) holds every admission until then, with
limits configured or none; afterwards the queued callers are admitted at the even rate (``window / rpm`` apart, or
by their share of ``tpm``) until the queue drains or a window has passed since the pause — without ``rpm``/``tpm``,
one caller first and the rest once its answer began — not all at the same instant. A limiter with no limits and no
pause is not ``engaged``: the pipeline then skips ``acquire`` altogether. Waiting is event-driven: one timer for
the head of the queue, armed on its own loop at the moment the window lets it in, and
``answered``/``settle``/``release``/``pause`` re-examine the queue; nothing polls. A caller's timeout is a timer
that refuses it only if no permit was granted by then, and the caller awaits its future directly (not
``asyncio.wait_for``, which on 3.10/3.11 can swallow a cancel that meets a grant in one loop pass).

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .exceptions import ClientRateLimitError, ConfigurationError

if TYPE_CHECKING:
    from ._request import LLMRequest

__all__ = ["Permit", "RateLimiter", "RateLimits", "estimate_tokens", "limiter_for", "reset_rate_limiters"]

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
        """Each limit the smaller of the two (a set limit beats ``None``); ``on_limit`` stays this one's. Limits
        in different windows do not compare: ``ConfigurationError`` (``limiter_for`` keeps the first instead)."""
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

    __slots__ = ("answered", "at", "counted", "tokens")

    def __init__(self, at: float, tokens: int) -> None:
        self.at = at
        self.tokens = tokens
        self.answered: float | None = None
        self.counted = False  # in the window log (not for a concurrency cap alone, nor once it has left)


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

    @property
    def counts_tokens(self) -> bool:
        """Whether a token limit applies to this permit (so settling it with a real count matters)."""
        return self._state is not None and self._state.limits.tpm is not None

    def answered(self) -> None:
        """The answer has begun (its first event arrived): from now the admission is known to have reached
        Rhetor, and it leaves the window ``window`` seconds later. ``settle`` and ``release`` imply it."""
        if self._state is not None and self._entry is not None and self._entry.answered is None:
            self._state.answered(self._entry)

    def settle(self, tokens: int | None) -> None:
        """Replace the estimate with the answer's real token count (``None`` keeps the estimate)."""
        if self._state is not None and self._entry is not None:
            self._state.settle(self._entry, tokens)

    def settle_answer(self, usage: Mapping[str, Any] | None, text: str, request: LLMRequest) -> None:
        """Settle with the answer's ``usage``; without one (classic never reports it) and under a token limit, with
        the prompt's share of the estimate plus the answer's ``text`` counted, as the budget does."""
        from .budget import usage_tokens

        tokens = usage_tokens(usage)[2]
        if tokens is None and self.counts_tokens:
            from .utils.token_counter import count_tokens

            tokens = max(0, (self.tokens or 0) - (request.max_tokens or 0)) + count_tokens(text, request.model)
        self.settle(tokens)

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

    __slots__ = ("expiry", "future", "loop", "permit", "request_id", "since", "timer", "tokens")

    def __init__(self, loop: asyncio.AbstractEventLoop, tokens: int, since: float, request_id: str | None) -> None:
        self.loop = loop
        self.future: asyncio.Future[Permit] = loop.create_future()
        self.tokens = tokens
        self.since = since
        self.request_id = request_id
        self.permit: Permit | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.expiry: asyncio.TimerHandle | None = None  # the caller's timeout


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
        self.rated = limits.rpm is not None or limits.tpm is not None
        #: Whether ``acquire`` has anything to check: a limit, or a pause (and the pacing after it). The pipeline
        #: reads this one attribute instead of awaiting ``acquire`` when nothing applies.
        self.engaged = limits.configured
        self.clock = clock
        self.lock = threading.Lock()
        # The window: admissions still unanswered, and answered ones in the order (so the time) they were answered.
        self.pending: set[_Entry] = set()
        self.done: deque[_Entry] = deque()
        self.tokens = 0  # tokens of every admission in the window
        self.active = 0
        self.queue: deque[_Waiter] = deque()
        self.paused_until = -math.inf
        # The request whose 429 set the pause: its retry policy already waits the Retry-After out, so its own
        # retry is not held by the pause a second time (the window and the pacing still apply to it).
        self.pause_owner: str | None = None
        # After a pause: admissions spaced at the even rate until the queue drains or a window has passed since the
        # pause ended; without rpm/tpm one caller goes first and the rest once its answer began.
        self.pacing = False
        self.last: _Entry | None = None  # the latest admission while pacing

    def set_limits(self, limits: RateLimits) -> None:
        self.limits = limits
        self.rated = limits.rpm is not None or limits.tpm is not None
        self.engaged = limits.configured or self.pacing

    def end_pacing(self) -> None:
        self.pacing, self.last = False, None
        self.engaged = self.limits.configured

    def paced(self, now: float, estimate: bool) -> float:
        """When the pacing after a pause lets the next admission in (``now`` once pacing is over). With
        ``estimate``, a lower bound: a first caller's answer may begin at any moment."""
        last = self.last
        if self.rated:
            if now >= self.paused_until + self.limits.window:  # a whole window since the pause: over
                self.end_pacing()
                return now
            return now if last is None else last.at + self.spacing(last.tokens)
        if last is None:
            return now
        if last.answered is not None:
            self.end_pacing()
            return now
        return now if estimate else math.inf

    # ------------------------------------------------------------------------------------------- the window

    def prune(self, now: float) -> None:
        """Drop the admissions whose answer began ``window`` seconds ago or more."""
        horizon = now - self.limits.window
        done = self.done
        while done and done[0].answered is not None and done[0].answered <= horizon:
            entry = done.popleft()
            entry.counted = False
            self.tokens -= entry.tokens

    def spacing(self, tokens: int) -> float:
        """The even-rate gap after an admission of ``tokens`` (used while pacing after a pause)."""
        limits, gap = self.limits, 0.0
        if limits.rpm is not None:
            gap = limits.window / limits.rpm
        if limits.tpm is not None:
            gap = max(gap, limits.window * tokens / limits.tpm)
        return gap

    def earliest(
        self,
        tokens: int,
        now: float,
        ahead: int = 0,
        ahead_tokens: int = 0,
        *,
        estimate: bool = False,
        request_id: str | None = None,
    ) -> tuple[float, str]:
        """The earliest time the window, the pause and the pacing let ``tokens`` in, with the reason (``inf``:
        only an answer can tell). With ``estimate``, a lower bound: unanswered admissions and the callers
        ``ahead`` in the queue leave the window as soon as they could (answered now). Concurrency is left out."""
        self.prune(now)
        limits = self.limits
        at, reason = now, ""
        if self.paused_until > at and (request_id is None or request_id != self.pause_owner):
            at, reason = self.paused_until, "paused"
        if self.pacing:
            paced = self.paced(now, estimate)
            if paced > at or (not self.rated and self.pacing and self.last is not None):  # a first answer awaited
                at, reason = max(at, paced), "paced"
        if not self._window_full(tokens + ahead_tokens, ahead):
            return at, reason
        # Answered admissions leave first, in order; the unanswered ones (and callers ahead) only once answered:
        # never, as far as a decision knows, or — for an estimate — ``window`` from now at the soonest.
        later = now + limits.window if estimate else math.inf
        if limits.rpm is not None:
            k = len(self.done) + len(self.pending) + ahead - limits.rpm  # the admission that must leave first
            frees = self._leaves(self.done[k]) if 0 <= k < len(self.done) else later if k >= 0 else now
            if frees > at:
                at, reason = frees, "rpm"
        if limits.tpm is not None:
            frees = self._tokens_free_at(self.tokens + ahead_tokens + tokens - limits.tpm, now, later)
            if frees > at:
                at, reason = frees, "tpm"
        return at, reason

    def _leaves(self, entry: _Entry) -> float:
        assert entry.answered is not None
        return entry.answered + self.limits.window

    def _tokens_free_at(self, excess: int, now: float, later: float) -> float:
        """When ``excess`` tokens have left the window (answered admissions first, in order)."""
        frees = now
        for entry in self.done:
            if excess <= 0:
                return frees
            excess -= entry.tokens
            frees = self._leaves(entry)
        return frees if excess <= 0 else later

    def _window_full(self, tokens: int, ahead: int) -> bool:
        """Whether the requests or tokens in the window leave no room (cheap: no sorting when there is room)."""
        limits = self.limits
        if limits.rpm is not None and len(self.done) + len(self.pending) + ahead >= limits.rpm:
            return True
        return limits.tpm is not None and self.tokens + tokens > limits.tpm

    def slot_free(self) -> bool:
        return self.limits.concurrency is None or self.active < self.limits.concurrency

    def fits(self, tokens: int, now: float, request_id: str | None = None) -> bool:
        return self.slot_free() and self.earliest(tokens, now, request_id=request_id)[0] <= now

    def admit(self, tokens: int, now: float, since: float, request_id: str | None) -> Permit:
        entry = _Entry(now, tokens)
        if self.rated:  # a concurrency cap alone needs no log
            self.pending.add(entry)
            self.tokens += tokens
            entry.counted = True
        self.active += 1
        if self.pacing:
            self.last = entry
        return Permit(self, entry, waited=max(0.0, now - since), request_id=request_id)

    def retract(self, permit: Permit) -> None:
        """Undo an admission that was never used (its caller timed out or was cancelled as it was granted)."""
        entry = permit._entry
        if entry is not None and entry.counted:
            if entry in self.pending:
                self.pending.remove(entry)
            else:
                self.done.remove(entry)
            entry.counted = False
            self.tokens -= entry.tokens
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
        elif self.pacing and self.rated and now >= self.paused_until:
            self.end_pacing()

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

    def _mark(self, entry: _Entry) -> None:
        """The entry's answer began now (lock held): it moves from the unanswered to the answered, in order."""
        if entry.answered is None:
            entry.answered = self.clock()
            if entry.counted:
                self.pending.remove(entry)
                self.done.append(entry)
            if entry is self.last and not self.rated:  # the first answer after a pause: the pacing is over
                self.end_pacing()

    def answered(self, entry: _Entry) -> None:
        with self.lock:
            self._mark(entry)
            if self.queue:
                self.wake()

    def settle(self, entry: _Entry, tokens: int | None) -> None:
        with self.lock:
            self._mark(entry)
            if tokens is not None:
                tokens = max(0, int(tokens))
                if entry.counted:  # still in the window: its count changes
                    self.tokens += tokens - entry.tokens
                entry.tokens = tokens
            if self.queue:
                self.wake()

    def release(self, entry: _Entry | None) -> None:
        with self.lock:
            self.active -= 1
            if entry is not None:
                self._mark(entry)
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
    def engaged(self) -> bool:
        """Whether ``acquire`` has anything to check (a limit, or a 429's pause and the pacing after it); when not,
        the pipeline sends without a permit."""
        return self._state.engaged

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
            if not state.engaged:
                return Permit(None, None, request_id=request_id)
            now = state.clock()
            self._check_size(tokens, request_id)
            if not state.queue and state.fits(tokens, now, request_id):
                return state.admit(tokens, now, now, request_id)
            self._refuse_at_once(tokens, now, timeout, request_id)
            waiter = _Waiter(loop, tokens, now, request_id)
            state.queue.append(waiter)
            if len(state.queue) == 1:
                state.wake()
        return await self._wait(waiter, timeout)

    async def again(self, permit: Permit, *, timeout: float | None) -> None:
        """A second send within one attempt under ``permit`` (the classic re-ask without streaming, the switch to
        the WebSocket): the first admission ends now (answered, its slot freed) and a new one is acquired as
        ``acquire`` does — waiting or refused — for the same tokens; the permit then stands for it."""
        tokens = permit.tokens or 0
        permit.release()
        fresh = await self.acquire(tokens, timeout=timeout, request_id=permit.request_id)
        permit._state, permit._entry, permit._held = fresh._state, fresh._entry, fresh._held
        permit.waited += fresh.waited

    def _check_size(self, tokens: int, request_id: str | None) -> None:
        tpm = self._state.limits.tpm
        if tpm is not None and tokens > tpm:
            raise ClientRateLimitError(
                f"request estimated at {tokens} tokens exceeds the limit of {tpm} tokens per "
                f"{self._state.limits.window:g}s; it can never be admitted (lower max_tokens or raise the limit)",
                retry_after=None,
                reason="oversized",
                request_id=request_id,
            )

    def _refuse_at_once(self, tokens: int, now: float, timeout: float | None, request_id: str | None) -> None:
        """Raise when the caller may not wait: ``raise`` mode, no time to wait, or an admission beyond it."""
        state = self._state
        ahead = [w for w in state.queue if not w.future.done()]
        ahead_tokens = sum(w.tokens for w in ahead)
        at, reason = state.earliest(tokens, now, len(ahead), ahead_tokens, estimate=True, request_id=request_id)
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
        """Await the waiter's future itself, bounded by a timer that fails it only if no permit was granted by then.

        Not ``asyncio.wait_for``: on Python 3.10/3.11 it returns the result when the future completes in the same
        loop pass as a cancel, so a cancelled caller would still send its request. Here a cancel always raises, and
        a permit granted meanwhile is handed back."""
        if timeout is not None:
            waiter.expiry = waiter.loop.call_later(timeout, self._expire, waiter, timeout)
        try:
            return await waiter.future
        except BaseException:
            with self._state.lock:
                if waiter.permit is not None:  # granted, but the caller is gone (cancelled): hand it back
                    self._state.retract(waiter.permit)
                    waiter.permit = None
                self._leave(waiter)
            raise
        finally:
            if waiter.expiry is not None:
                waiter.expiry.cancel()

    def _expire(self, waiter: _Waiter, timeout: float) -> None:
        """The caller's timeout passed (on its own loop): refuse it, unless a permit was granted first (then the
        permit is on its way and is the caller's)."""
        state = self._state
        with state.lock:
            if waiter.permit is not None or waiter.future.done():
                return
            now = state.clock()
            at, reason = state.earliest(waiter.tokens, now, estimate=True)
            reason = reason or "concurrency"
            waiter.future.set_exception(
                self._error(
                    f"rate limit ({reason}): not admitted within the timeout of {timeout:g}s",
                    at - now,
                    reason,
                    waiter.request_id,
                )
            )
            self._leave(waiter)

    def _leave(self, waiter: _Waiter) -> None:
        """Take a waiter out of the queue (lock held) and let the next one in if it can go now."""
        state = self._state
        if not waiter.future.done():
            waiter.future.cancel()
        if waiter.loop is _running_loop():
            if waiter.timer is not None:
                waiter.timer.cancel()
            if waiter.expiry is not None:
                waiter.expiry.cancel()
        try:
            state.queue.remove(waiter)
        except ValueError:
            pass
        if state.queue:
            state.wake()

    def _error(self, message: str, retry_after: float, reason: str, request_id: str | None) -> ClientRateLimitError:
        return ClientRateLimitError(message, retry_after=max(0.0, retry_after), reason=reason, request_id=request_id)

    def pause(self, seconds: float, *, request_id: str | None = None) -> None:
        """Rhetor said 429 with ``Retry-After``: no admission for anyone until ``seconds`` from now; then the
        queued callers go in at the even rate (``window / rpm`` apart), not all at once. ``request_id`` is the
        request that got the 429: its retry waits the ``Retry-After`` out in the retry policy, not here again."""
        if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"pause needs a finite number of seconds >= 0, got {seconds!r}")
        state = self._state
        with state.lock:
            now = state.clock()
            if now + seconds >= state.paused_until:
                state.paused_until, state.pause_owner = now + seconds, request_id
            state.pacing = state.engaged = True
            state.last = None
            if state.queue:
                state.wake()

    @property
    def paused_until(self) -> float | None:
        """The clock time admissions resume after a pause, or ``None`` when not paused."""
        state = self._state
        return state.paused_until if state.paused_until > state.clock() else None


_registry_lock = threading.Lock()
_states: dict[str, _State] = {}
_views: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(component_id: str, limits: RateLimits) -> RateLimiter:
    """The component's limiter in this process, shared by every client of the component.

    Clients that pass different limits share one state under the stricter of each limit (a process never exceeds
    any limit declared for the component, and a shim client built lazily inside a legacy call never fails on it);
    a WARNING names the limits now in force. ``on_limit`` is each client's own. Limits declared in another
    ``window`` than the ones in force (``RHETOR_RATE_LIMIT_*`` count per 60 s, code may say ``window=2``) cannot be
    compared: the limits in force stay, the new ones are not applied, and a WARNING says so — building a client
    never fails on it. Tests start afresh with :func:`reset_rate_limiters`."""
    with _registry_lock:
        state = _states.get(component_id)
        if state is None:
            state = _states[component_id] = _State(limits, time.monotonic)
        elif limits.configured:
            with state.lock:
                _tighten(component_id, state, limits)
        key = (component_id, limits.on_limit)
        view = _views.get(key)
        if view is None:
            view = _views[key] = RateLimiter(limits, _state=state)
        return view


def _tighten(component_id: str, state: _State, limits: RateLimits) -> None:
    """Apply the stricter of the limits in force and ``limits`` (lock held)."""
    if state.limits.configured and state.limits.window != limits.window:
        logger.warning(
            "component %s: rate limits per %gs (%s) ignored: the component's limits count per %gs (%s); "
            "declare them in one window",
            component_id,
            limits.window,
            _describe(limits),
            state.limits.window,
            _describe(state.limits),
        )
        return
    tighter = state.limits.stricter(limits)
    if tighter == state.limits:
        return
    if state.limits.configured:
        logger.warning(
            "component %s: clients declare different rate limits (%s and %s); the stricter apply: %s",
            component_id,
            _describe(state.limits),
            _describe(limits),
            _describe(tighter),
        )
    state.set_limits(tighter)
    if state.queue:
        state.wake()


def reset_rate_limiters(component_id: str | None = None) -> None:
    """Forget the limits, admissions and pauses of one component (or of all): its clients, existing ones included,
    then share a fresh limiter with no limits until a client declares some again. Limits are process-wide and only
    tighten, so tests that declare them call this between tests (the pytest plugin's ``rhetor_server`` does).
    Permits granted before keep counting against the old state only."""
    with _registry_lock:
        names = list(_states) if component_id is None else [component_id]
        for name in names:
            if _states.pop(name, None) is None:
                continue
            fresh = _states[name] = _State(RateLimits(), time.monotonic)
            for (owner, _), view in _views.items():
                if owner == name:
                    view._state = fresh


def _describe(limits: RateLimits) -> str:
    parts = [f"{name}={getattr(limits, name)}" for name in _NUMBERS if getattr(limits, name) is not None]
    return ", ".join(parts) or "none"
