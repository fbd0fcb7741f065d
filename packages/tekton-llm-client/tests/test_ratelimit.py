"""The rate limiter on its own (``_ratelimit``) and its configuration (arguments, settings, ``RHETOR_*`` variables).

Decisions that need no waiting run on a controllable clock, so ``retry_after`` is checked exactly. Waiting runs on
the real clock with short windows; a test never sleeps to synchronise: it awaits the permits themselves, and
where a caller must be seen queued it steps the event loop until ``RateLimiter.waiting`` says so.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import math
import pickle
import threading

import pytest
from tekton_llm_client import (
    ClientRateLimitError,
    ClientSettings,
    ConfigurationError,
    RateLimits,
    TektonLLMClient,
    exceptions,
)
from tekton_llm_client._ratelimit import Permit, RateLimiter, estimate_tokens, limiter_for
from tekton_llm_client._request import LLMRequest
from tekton_llm_client.config import resolve_config
from tekton_llm_client.utils.token_counter import count_message_tokens

from .ratelimit_helpers import Clock, component, max_in_window, until

# ----------------------------------------------------------------------------------------------------- RateLimits


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rpm": 0},
        {"rpm": -1},
        {"tpm": 1.5},
        {"concurrency": True},
        {"on_limit": "block"},
        {"window": 0},
        {"window": math.inf},
        {"window": math.nan},
    ],
)
def test_invalid_limits_are_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="RateLimits"):
        RateLimits(**kwargs)  # type: ignore[arg-type]


def test_stricter_takes_the_smaller_of_each_limit_and_keeps_its_own_mode() -> None:
    merged = RateLimits(rpm=10, tpm=None, concurrency=4, on_limit="raise").stricter(RateLimits(rpm=20, tpm=500))
    assert merged == RateLimits(rpm=10, tpm=500, concurrency=4, on_limit="raise")
    assert RateLimits().stricter(RateLimits(rpm=3, window=2.0)) == RateLimits(rpm=3, window=2.0)
    with pytest.raises(ConfigurationError, match="one window"):
        RateLimits(rpm=1, window=1.0).stricter(RateLimits(rpm=1, window=2.0))


def test_estimate_tokens_counts_messages_as_the_budget_does_plus_max_tokens() -> None:
    request = LLMRequest(messages=[{"role": "user", "content": "hello there"}], system_prompt="be brief", max_tokens=50)
    expected = count_message_tokens(request.all_messages(), None) + 50
    assert estimate_tokens(request) == expected
    request.max_tokens = None
    assert estimate_tokens(request) == expected - 50


# --------------------------------------------------------------------------------------------- decisions, no wait


async def test_rpm_refusal_in_raise_mode_says_exactly_when_to_retry() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=2, on_limit="raise", window=10.0), clock=clock)
    first = await limiter.acquire(1, timeout=None)
    first.release()  # answered at once (1000): it leaves the window at 1010
    clock.now += 4.0
    await limiter.acquire(1, timeout=None)  # still in flight
    clock.now += 1.0
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None, request_id="r-3")
    error = caught.value
    assert error.retry_after == pytest.approx(5.0)
    assert error.reason == "rpm"
    assert error.request_id == "r-3"
    assert (error.retryable, error.unavailable) == (False, False)
    clock.now += 5.0  # exactly window seconds after the first was answered: it has left the window
    permit = await limiter.acquire(1, timeout=None)
    assert permit.admitted_at == clock.now
    assert permit.waited == 0.0


async def test_an_admission_counts_until_window_seconds_after_its_answer_began() -> None:
    # Rhetor sees a request after its admission and before its answer: counting it from admission to ``window``
    # after the answer began keeps every window of Rhetor's arrivals within rpm, whatever the send took.
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=1, on_limit="raise", window=10.0), clock=clock)
    slow = await limiter.acquire(1, timeout=None)
    clock.now += 30.0  # still sending, or waiting for its first event
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert caught.value.retry_after == pytest.approx(10.0)  # the soonest it could leave: answered right now
    slow.answered()  # the first event of a stream: the slot stays held, the window clock starts
    clock.now += 9.0
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert caught.value.retry_after == pytest.approx(1.0)
    slow.release()  # the stream ends later: its window already started at the first event
    clock.now += 1.0
    await limiter.acquire(1, timeout=None)


async def test_tpm_counts_estimates_and_settling_replaces_them() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(tpm=100, on_limit="raise", window=60.0), clock=clock)
    big = await limiter.acquire(80, timeout=None)
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(30, timeout=None)
    assert caught.value.reason == "tpm"
    assert caught.value.retry_after == pytest.approx(60.0)
    big.settle(None)  # no usage reported: the estimate stays
    assert big.tokens == 80
    big.settle(50)  # the answer used fewer tokens than estimated
    assert big.tokens == 50
    second = await limiter.acquire(30, timeout=None)
    second.settle(45)  # more than estimated: counts in full from now on
    with pytest.raises(ClientRateLimitError):
        await limiter.acquire(10, timeout=None)
    assert (await limiter.acquire(5, timeout=None)).tokens == 5


async def test_usage_settled_after_the_admission_left_the_window_changes_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(tpm=100, on_limit="raise", window=10.0), clock=clock)
    stream = await limiter.acquire(60, timeout=None)
    stream.answered()  # first event at 1000: it leaves the window at 1010
    clock.now += 10.0
    stream.settle(500)  # the stream ended long after, and used more than estimated
    assert stream.tokens == 500
    assert (await limiter.acquire(100, timeout=None)).tokens == 100  # the whole window is free


async def test_a_request_larger_than_the_token_limit_can_never_go() -> None:
    limiter = RateLimiter(RateLimits(tpm=100), clock=Clock())
    with pytest.raises(ClientRateLimitError, match="can never be admitted") as caught:
        await limiter.acquire(101, timeout=None)
    assert caught.value.retry_after is None  # retrying cannot help
    assert caught.value.reason == "oversized"


async def test_a_wait_beyond_the_timeout_fails_at_once() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=1, window=60.0), clock=clock)
    (await limiter.acquire(1, timeout=5.0)).release()
    clock.now += 10.0
    with pytest.raises(ClientRateLimitError, match="beyond its timeout") as caught:
        await limiter.acquire(1, timeout=5.0)
    assert caught.value.retry_after == pytest.approx(50.0)
    assert limiter.waiting == 0
    with pytest.raises(ClientRateLimitError):
        await limiter.acquire(1, timeout=0)  # no time to wait at all


async def test_pause_refuses_everyone_until_it_ends_in_raise_mode() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=100, on_limit="raise", window=60.0), clock=clock)
    limiter.pause(3.0)
    assert limiter.paused_until == 1003.0
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert caught.value.reason == "paused"
    assert caught.value.retry_after == pytest.approx(3.0)
    limiter.pause(1.0)  # a shorter pause never shortens the one in force
    assert limiter.paused_until == 1003.0
    clock.now += 3.0
    assert limiter.paused_until is None
    await limiter.acquire(1, timeout=None)
    with pytest.raises(ValueError, match="finite"):
        limiter.pause(math.nan)


async def test_no_limits_means_a_permit_at_once_that_counts_nothing() -> None:
    limiter = RateLimiter(RateLimits(on_limit="raise"))
    permits = [await limiter.acquire(10**9, timeout=0) for _ in range(100)]
    assert {p.admitted_at for p in permits} == {None}
    assert not limiter.counts_tokens
    permits[0].release()
    permits[0].release()


async def test_concurrency_refusal_and_idempotent_release() -> None:
    limiter = RateLimiter(RateLimits(concurrency=1, on_limit="raise"), clock=Clock())
    permit = await limiter.acquire(1, timeout=None)
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert (caught.value.reason, caught.value.retry_after) == ("concurrency", 0.0)
    with permit:  # the context manager releases
        pass
    permit.release()  # idempotent: a second release frees no second slot
    held = await limiter.acquire(1, timeout=None)
    with pytest.raises(ClientRateLimitError):
        await limiter.acquire(1, timeout=None)
    held.release()


# ------------------------------------------------------------------------------------------- waiting, real clock


async def test_any_sliding_window_admits_at_most_rpm_under_concurrency_50() -> None:
    window, rpm = 0.15, 7
    limiter = RateLimiter(RateLimits(rpm=rpm, window=window))
    order: list[int] = []

    async def caller(i: int) -> Permit:
        permit = await limiter.acquire(1, timeout=30)
        order.append(i)
        permit.release()
        return permit

    permits = await asyncio.gather(*(caller(i) for i in range(50)))
    admitted = [p.admitted_at for p in permits]
    assert None not in admitted
    times = [t for t in admitted if t is not None]
    assert max_in_window(times, window) == rpm  # full bursts, never one more
    assert order == list(range(50))  # FIFO: nobody overtakes
    assert sum(p.waited > 0 for p in permits) == 50 - rpm


async def test_staggered_callers_never_exceed_rpm_in_any_window() -> None:
    window, rpm = 0.15, 4
    limiter = RateLimiter(RateLimits(rpm=rpm, window=window))
    times: list[float] = []
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    async def caller() -> None:
        permit = await limiter.acquire(1, timeout=30)
        assert permit.admitted_at is not None
        times.append(permit.admitted_at)
        permit.release()
        if len(times) == 30:
            done.set_result(None)

    tasks: list[asyncio.Task[None]] = []
    for i in range(30):  # callers arrive spread over about three windows, not in one burst
        loop.call_later(0.016 * i, lambda: tasks.append(asyncio.ensure_future(caller())))
    await done
    await asyncio.gather(*tasks)
    assert max_in_window(times, window) <= rpm


async def test_tokens_per_window_hold_with_settled_usage() -> None:
    window, tpm = 0.15, 100
    limiter = RateLimiter(RateLimits(tpm=tpm, window=window))
    admitted: list[tuple[float, int]] = []

    async def caller(estimate: int, used: int) -> None:
        permit = await limiter.acquire(estimate, timeout=30)
        permit.settle(used)
        assert permit.admitted_at is not None and permit.tokens is not None
        admitted.append((permit.admitted_at, permit.tokens))
        permit.release()

    # Usage at or below the estimate: the bound is exact (usage above it counts from when it is known).
    await asyncio.gather(*(caller(40, 10 + i % 3 * 15) for i in range(20)))
    for t, _ in admitted:
        in_window = sum(tokens for s, tokens in admitted if t - window < s <= t)
        assert in_window <= tpm


async def test_a_waiting_caller_takes_the_slot_a_release_frees() -> None:
    limiter = RateLimiter(RateLimits(concurrency=2))
    first = await limiter.acquire(1, timeout=None)
    second = await limiter.acquire(1, timeout=None)
    third = asyncio.ensure_future(limiter.acquire(1, timeout=30))
    await until(lambda: limiter.waiting == 1)
    assert not third.done()
    second.release()
    permit = await third
    assert permit.waited > 0
    assert limiter.waiting == 0
    first.release()
    permit.release()


async def test_a_wait_bounded_by_the_timeout_ends_in_client_rate_limit_error() -> None:
    limiter = RateLimiter(RateLimits(concurrency=1))
    held = await limiter.acquire(1, timeout=None)
    with pytest.raises(ClientRateLimitError, match="within the timeout") as caught:
        await limiter.acquire(1, timeout=0.05, request_id="late")
    assert caught.value.reason == "concurrency"
    assert caught.value.request_id == "late"
    assert limiter.waiting == 0  # it left the queue
    held.release()
    (await limiter.acquire(1, timeout=0)).release()  # and took no slot with it


async def test_a_cancelled_waiter_leaves_the_queue_and_the_next_one_goes() -> None:
    limiter = RateLimiter(RateLimits(concurrency=1))
    held = await limiter.acquire(1, timeout=None)
    cancelled = asyncio.ensure_future(limiter.acquire(1, timeout=None))
    waiting = asyncio.ensure_future(limiter.acquire(1, timeout=None))
    await until(lambda: limiter.waiting == 2)
    cancelled.cancel()
    await until(cancelled.done)
    assert limiter.waiting == 1
    held.release()
    (await waiting).release()
    (await limiter.acquire(1, timeout=0)).release()


async def test_after_a_pause_waiters_go_in_at_the_even_rate_not_all_at_once() -> None:
    window, rpm, pause = 1.0, 20, 0.2
    limiter = RateLimiter(RateLimits(rpm=rpm, window=window))
    blocker = await limiter.acquire(1, timeout=None)
    limiter.pause(pause)
    paused_until = limiter.paused_until
    assert paused_until is not None
    permits = await asyncio.gather(*(limiter.acquire(1, timeout=30) for _ in range(10)))
    times = sorted(p.admitted_at for p in permits if p.admitted_at is not None)
    assert len(times) == 10
    assert times[0] >= paused_until  # nobody before the pause ends
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= window / rpm - 1e-9  # spaced by window / rpm = 50 ms, not ten at one instant
    blocker.release()
    # Once the queue has drained, pacing ends: the next callers burst up to rpm again.
    burst = [await limiter.acquire(1, timeout=0) for _ in range(5)]  # timeout=0 would raise if paced
    assert len(burst) == 5


# ---------------------------------------------------------------------------------------- sharing between clients


async def test_one_state_per_component_stricter_limits_win_and_each_client_keeps_its_mode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = component()
    waiting = limiter_for(name, RateLimits(rpm=5))
    assert limiter_for(name, RateLimits(rpm=5)) is waiting
    unlimited = limiter_for(name, RateLimits())  # a client without limits of its own shares the component's
    assert unlimited is waiting
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        raising = limiter_for(name, RateLimits(rpm=2, concurrency=9, on_limit="raise"))
    assert "stricter apply: rpm=2, concurrency=9" in caplog.text
    assert raising.limits == RateLimits(rpm=2, concurrency=9, on_limit="raise")
    assert waiting.limits == RateLimits(rpm=2, concurrency=9, on_limit="wait")
    for _ in range(2):
        (await waiting.acquire(1, timeout=None)).release()
    with pytest.raises(ClientRateLimitError):  # the window the "wait" client filled refuses the "raise" client
        await raising.acquire(1, timeout=None)
    with pytest.raises(ClientRateLimitError, match="beyond its timeout"):
        await waiting.acquire(1, timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        other_window = limiter_for(name, RateLimits(rpm=1, window=1.0))  # builds; its limits are not applied
    assert "rate limits per 1s (rpm=1) ignored: the component's limits count per 60s (rpm=2" in caplog.text
    assert other_window.limits == RateLimits(rpm=2, concurrency=9, on_limit="wait")


async def test_clients_of_one_component_share_the_limiter_others_do_not() -> None:
    name = component()
    first = TektonLLMClient(name, rate_limits=RateLimits(rpm=3))
    second = TektonLLMClient(name)
    other = TektonLLMClient(component(), rate_limits=RateLimits(rpm=3))
    assert first.rate_limiter is second.rate_limiter
    assert first.rate_limiter is not None and other.rate_limiter is not None
    assert first.rate_limiter._state is not other.rate_limiter._state
    assert second.config.rate_limits is None
    for client in (first, second, other):
        await client.aclose()


def test_a_limiter_is_shared_across_event_loops_in_other_threads() -> None:
    limiter = RateLimiter(RateLimits(concurrency=1))
    held: list[Permit] = []
    holder_ready, release_now, waiter_done = threading.Event(), threading.Event(), threading.Event()
    results: list[Permit] = []

    def holder() -> None:
        async def main() -> None:
            held.append(await limiter.acquire(1, timeout=None))
            holder_ready.set()
            await asyncio.to_thread(release_now.wait)
            held[0].release()  # released on this loop; the waiter on the other loop must wake

        asyncio.run(main())

    def waiter() -> None:
        async def main() -> None:
            task = asyncio.ensure_future(limiter.acquire(1, timeout=30))
            await until(lambda: limiter.waiting == 1)
            release_now.set()
            results.append(await task)

        asyncio.run(main())
        waiter_done.set()

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert holder_ready.wait(10)
    threads.append(threading.Thread(target=waiter))
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert waiter_done.is_set()
    assert len(results) == 1 and results[0].waited > 0


# ----------------------------------------------------------------------------------------------- configuration


def test_environment_variables_configure_the_limits() -> None:
    env = {
        "RHETOR_RATE_LIMIT_RPM": "120",
        "RHETOR_RATE_LIMIT_TPM": "90000",
        "RHETOR_MAX_CONCURRENCY": "8",
        "RHETOR_RATE_LIMIT_MODE": "raise",
    }
    config = resolve_config("c", env=env)
    assert config.rate_limits == RateLimits(rpm=120, tpm=90000, concurrency=8, on_limit="raise")
    assert resolve_config("c", env={}).rate_limits is None
    assert resolve_config("c", env={"RHETOR_MAX_CONCURRENCY": "2"}).rate_limits == RateLimits(concurrency=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RHETOR_RATE_LIMIT_RPM", "ten"),
        ("RHETOR_RATE_LIMIT_RPM", "0"),
        ("RHETOR_RATE_LIMIT_TPM", "-5"),
        ("RHETOR_RATE_LIMIT_TPM", "1.5"),
        ("RHETOR_MAX_CONCURRENCY", "0"),
        ("RHETOR_RATE_LIMIT_MODE", "block"),
    ],
)
def test_invalid_environment_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        TektonLLMClient(component())


def test_argument_beats_settings_beats_environment_each_taken_whole() -> None:
    env = {"RHETOR_RATE_LIMIT_RPM": "100", "RHETOR_MAX_CONCURRENCY": "4"}
    settings = ClientSettings(component_id="c", rate_limits={"tpm": 5000})
    assert resolve_config("c", env=env).rate_limits == RateLimits(rpm=100, concurrency=4)
    assert resolve_config("c", settings=settings, env=env).rate_limits == RateLimits(tpm=5000)
    assert resolve_config("c", settings=settings, env=env, rate_limits=RateLimits(rpm=1)).rate_limits == RateLimits(
        rpm=1
    )
    assert resolve_config("c", env={}, rate_limits={"rpm": 2, "window": 1.0}).rate_limits == RateLimits(
        rpm=2, window=1.0
    )
    with pytest.raises(ConfigurationError, match="rate_limits"):
        resolve_config("c", env={}, rate_limits={"rmp": 2})
    with pytest.raises(ConfigurationError, match="rate_limits"):
        resolve_config("c", env={}, rate_limits=5)  # type: ignore[arg-type]


def test_the_sync_client_takes_rate_limits_too() -> None:
    from tekton_llm_client import SyncTektonLLMClient

    name = component()
    with SyncTektonLLMClient(name, rate_limits=RateLimits(rpm=9, on_limit="raise")) as client:
        assert client.client.config.rate_limits == RateLimits(rpm=9, on_limit="raise")
        assert client.client.rate_limiter is limiter_for(name, RateLimits(on_limit="raise"))


# ------------------------------------------------------------------------------------------- review round 1 fixes


async def test_a_waiter_granted_then_cancelled_in_the_same_pass_raises_and_hands_the_permit_back() -> None:
    # On Python 3.10/3.11 ``asyncio.wait_for`` returned the permit when the grant and the cancel fell in one loop
    # pass: the cancelled caller went on to send its request. The cancel must win and the slot come back.
    limiter = RateLimiter(RateLimits(concurrency=1))
    holder = await limiter.acquire(0, timeout=None)
    waiter = asyncio.ensure_future(limiter.acquire(0, timeout=30.0))
    await until(lambda: limiter.waiting == 1)
    holder.release()  # grants the slot to the waiter now, in this pass ...
    waiter.cancel()  # ... and the waiter is cancelled in the same pass
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.waiting == 0
    again = await limiter.acquire(0, timeout=0)  # the slot was handed back: free at once, no wait
    assert again.waited == 0.0
    again.release()


async def test_a_waiter_past_its_timeout_is_refused_with_when_to_retry() -> None:
    limiter = RateLimiter(RateLimits(concurrency=1))
    holder = await limiter.acquire(0, timeout=None)
    with pytest.raises(ClientRateLimitError, match=r"not admitted within the timeout of 0\.01s") as caught:
        await limiter.acquire(0, timeout=0.01)
    assert (caught.value.reason, caught.value.retry_after) == ("concurrency", 0.0)
    assert limiter.waiting == 0
    holder.release()
    (await limiter.acquire(0, timeout=0)).release()


async def test_raise_mode_is_not_paced_forever_after_a_pause() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=10, window=1.0, on_limit="raise"), clock=clock)
    limiter.pause(1.0)
    clock.now += 1.0  # the pause is over: callers go in at the even rate (window / rpm = 0.1 s apart) ...
    (await limiter.acquire(1, timeout=None)).release()
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert caught.value.reason == "paced"
    assert caught.value.retry_after == pytest.approx(0.1)
    clock.now += 1.0  # ... for one window after the pause: then the window alone limits again, not the pacing
    for _ in range(10):
        (await limiter.acquire(1, timeout=None)).release()
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert caught.value.reason == "rpm"


async def test_a_pause_holds_callers_without_any_limit_configured() -> None:
    # Rhetor's 429 must pause a component that declared no limits too (fifty waiting callers must not all retry
    # at once); without a pause such a limiter has nothing to check.
    clock = Clock()
    limiter = RateLimiter(RateLimits(on_limit="raise"), clock=clock)
    assert not limiter.engaged
    assert (await limiter.acquire(1, timeout=None)).admitted_at is None  # nothing counted, nothing to hold
    limiter.pause(2.0)
    assert limiter.engaged
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)
    assert (caught.value.reason, caught.value.retry_after) == ("paused", 2.0)
    clock.now += 2.0
    first = await limiter.acquire(1, timeout=None)  # after the pause one caller goes first ...
    assert first.admitted_at == clock.now
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None)  # ... the others once its answer began
    assert caught.value.reason == "paced"
    first.answered()
    assert not limiter.engaged  # the pause is over and its first answer came: back to no checks at all
    assert (await limiter.acquire(1, timeout=None)).admitted_at is None
    first.release()


async def test_without_limits_waiters_after_a_pause_go_one_first_then_the_rest() -> None:
    limiter = RateLimiter(RateLimits())
    limiter.pause(0.05)
    waiters = [asyncio.ensure_future(limiter.acquire(1, timeout=30.0)) for _ in range(5)]
    first = await waiters[0]
    await until(lambda: limiter.waiting == 4)  # the rest stay queued while the first answer has not begun
    assert not any(w.done() for w in waiters[1:])
    first.answered()
    rest = await asyncio.gather(*waiters[1:])
    assert all(p.admitted_at is not None and p.admitted_at >= first.admitted_at for p in rest)  # type: ignore[operator]
    for permit in [first, *rest]:
        permit.release()


async def test_no_limits_path_of_a_client_never_awaits_acquire(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = RateLimiter.acquire

    async def counted(
        self: RateLimiter, tokens: int, *, timeout: float | None, request_id: str | None = None
    ) -> Permit:
        calls.append(tokens)
        return await real(self, tokens, timeout=timeout, request_id=request_id)

    monkeypatch.setattr(RateLimiter, "acquire", counted)
    from tekton_llm_client._pipeline import Pipeline

    client = TektonLLMClient(component())
    pipeline: Pipeline = client._pipeline
    assert pipeline.limiter is client.rate_limiter and not client.rate_limiter.engaged
    client.rate_limiter.pause(0.0)  # a 429 with Retry-After: 0 — the limiter is engaged until its first answer
    assert client.rate_limiter.engaged
    await client.aclose()
    assert calls == []


def test_reset_rate_limiters_gives_existing_clients_a_fresh_limiter() -> None:
    from tekton_llm_client.testing import reset_rate_limiters

    name = component()
    limiter = limiter_for(name, RateLimits(rpm=1, on_limit="raise"))
    limiter.pause(30.0)
    reset_rate_limiters(name)
    assert limiter.limits == RateLimits(on_limit="raise")
    assert limiter.paused_until is None and not limiter.engaged
    tightened = limiter_for(name, RateLimits(rpm=5))  # declared again after the reset: applies as declared
    assert tightened.limits.rpm == 5 and limiter.limits.rpm == 5


def test_env_limits_and_a_code_window_do_not_break_building_a_client(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    name = component()
    coded = TektonLLMClient(name, rate_limits=RateLimits(rpm=10, window=2.0))
    monkeypatch.setenv("RHETOR_RATE_LIMIT_RPM", "30")  # per 60 s: another window than the code's
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        shim_like = TektonLLMClient(name)  # a shim building its client inside a legacy call: must not raise
    assert shim_like.rate_limiter.limits == RateLimits(rpm=10, window=2.0)
    assert "rate limits per 60s (rpm=30) ignored: the component's limits count per 2s (rpm=10)" in caplog.text
    assert coded.rate_limiter._state is shim_like.rate_limiter._state


@pytest.mark.parametrize("name", sorted(set(exceptions.__all__) - {"error_for_status"}))
def test_every_exception_survives_pickle_and_copy(name: str) -> None:
    cls = getattr(exceptions, name)
    error = cls("boom")
    error.extra = "kept"
    for twin in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(twin) is cls
        assert str(twin) == str(error)
        assert twin.__dict__ == error.__dict__


def test_client_rate_limit_error_round_trips_its_fields() -> None:
    error = exceptions.ClientRateLimitError("over", retry_after=2.5, reason="rpm", request_id="r1")
    twin = pickle.loads(pickle.dumps(error))
    assert (twin.retry_after, twin.reason, twin.request_id, twin.message) == (2.5, "rpm", "r1", "over")
    assert exceptions.ClientRateLimitError("no hint").retry_after is None


def test_the_usage_parser_is_one_for_budget_limiter_and_telemetry() -> None:
    from tekton_llm_client.budget import usage_tokens

    assert usage_tokens(None) == (None, None, None)
    assert usage_tokens({"prompt_tokens": 3, "completion_tokens": 5}) == (3, 5, 8)
    assert usage_tokens({"input_tokens": 2, "output_tokens": 4, "total_tokens": 9}) == (2, 4, 9)
    assert usage_tokens({"total_tokens": 7}) == (None, None, 7)
    assert usage_tokens({"prompt_tokens": True, "completion_tokens": 1.0}) == (None, 1, 1)


async def test_the_request_that_got_the_429_is_not_held_twice_by_its_own_pause() -> None:
    # Its retry policy already sleeps the Retry-After; everyone else waits for the pause.
    clock = Clock()
    limiter = RateLimiter(RateLimits(rpm=100, on_limit="raise"), clock=clock)
    limiter.pause(5.0, request_id="got-429")
    with pytest.raises(ClientRateLimitError) as caught:
        await limiter.acquire(1, timeout=None, request_id="someone-else")
    assert (caught.value.reason, caught.value.retry_after) == ("paused", 5.0)
    (await limiter.acquire(1, timeout=None, request_id="got-429")).release()
