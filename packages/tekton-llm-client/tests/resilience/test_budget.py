"""Client-side budget: recording usage, enforce/warn/ignore, periods with an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from tekton_llm_client.budget import BudgetLimit, BudgetRequest, BudgetTracker, period_start
from tekton_llm_client.cache import ResponseCache
from tekton_llm_client.exceptions import BudgetExceededError, ConfigurationError
from tekton_llm_client.models import CompletionResponse
from tekton_llm_client.sync import SyncTektonLLMClient
from tekton_llm_client.testing import closed_port
from tekton_llm_client.utils import token_counter
from tekton_llm_client.utils.token_counter import count_tokens

UTC = timezone.utc
# Wednesday 2025-06-18 10:30:00 UTC
NOW = datetime(2025, 6, 18, 10, 30, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def heuristic_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "no-encodings"))
    token_counter._load_encoder.cache_clear()
    yield
    token_counter._load_encoder.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def _tracker(clock: Clock, *limits: BudgetLimit, **kwargs: object) -> BudgetTracker:
    return BudgetTracker("terma", limits=limits, clock=clock, tz=UTC, **kwargs)  # type: ignore[arg-type]


def test_period_starts() -> None:
    def iso(period: str) -> str:
        return datetime.fromtimestamp(period_start(period, NOW, UTC), UTC).isoformat()  # type: ignore[arg-type]

    assert iso("hourly") == "2025-06-18T10:00:00+00:00"
    assert iso("daily") == "2025-06-18T00:00:00+00:00"
    assert iso("weekly") == "2025-06-16T00:00:00+00:00"  # Monday
    assert iso("monthly") == "2025-06-01T00:00:00+00:00"


def test_record_uses_response_usage_when_present(clock: Clock) -> None:
    tracker = _tracker(clock)
    record = tracker.record(
        provider="anthropic", model="claude", usage={"prompt_tokens": 120, "completion_tokens": 300}
    )
    assert (record.input_tokens, record.output_tokens, record.total_tokens) == (120, 300, 420)
    assert record.component == "terma" and not record.estimated
    other = tracker.record(provider="ollama", model="llama3", usage={"input_tokens": 7, "output_tokens": 8})
    assert (other.input_tokens, other.output_tokens) == (7, 8)


def test_record_estimates_tokens_without_usage(clock: Clock) -> None:
    tracker = _tracker(clock)
    response = CompletionResponse(content="Hello, world!", model="simulated-fast", provider="simulated")
    record = tracker.record_response(response, prompt="hello")
    assert record.estimated
    assert (record.input_tokens, record.output_tokens) == (count_tokens("hello"), count_tokens("Hello, world!"))
    assert (record.input_tokens, record.output_tokens) == (2, 4)


def test_usage_summary_groups_by_provider_model_or_component(clock: Clock) -> None:
    tracker = _tracker(clock)
    tracker.record(provider="anthropic", model="claude", input_tokens=100, output_tokens=50, cost=0.01)
    tracker.record(provider="anthropic", model="claude", input_tokens=20, output_tokens=250, cost=0.0023)
    tracker.record(provider="ollama", model="llama3", input_tokens=5, output_tokens=5, component="hermes")
    summary = tracker.usage("daily")
    assert (summary.total_input_tokens, summary.total_output_tokens, summary.total_tokens) == (125, 305, 430)
    assert summary.count == 3 and summary.total_cost == pytest.approx(0.0123)
    assert summary.groups["anthropic"] == {
        "cost": pytest.approx(0.0123), "input_tokens": 120, "output_tokens": 300, "total_tokens": 420, "count": 2,
    }
    assert set(tracker.usage(group_by="component").groups) == {"terma", "hermes"}
    assert tracker.usage(provider="ollama").total_tokens == 10
    assert tracker.usage().to_dict()["total_tokens"] == 430


def test_enforce_raises_before_sending_and_allows_what_fits(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    tracker.record(provider="anthropic", model="claude", input_tokens=60, output_tokens=30)
    assert tracker.check(provider="anthropic", model="claude", input_tokens=10).allowed
    with pytest.raises(BudgetExceededError) as caught:
        tracker.check(provider="anthropic", model="claude", input_tokens=11)
    assert "daily limit" in caught.value.message and "90 used + 0 held + 11 requested > 100" in caught.value.message
    [violation] = caught.value.details
    assert violation.used_tokens == 90 and violation.requested_tokens == 11


def test_enforce_estimates_the_request_from_messages(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("hourly", max_tokens=12, policy="enforce"))
    messages = [{"role": "user", "content": "hello"}]  # 10 tokens with framing
    assert tracker.check(messages=messages).requested_tokens == 10
    with pytest.raises(BudgetExceededError):
        tracker.check(messages=messages, output_tokens=3)


def test_warn_logs_once_per_limit_and_period(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=10, policy="warn"))
    tracker.record(provider="p", model="m", input_tokens=10, output_tokens=0)
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        first = tracker.check(input_tokens=5)
        second = tracker.check(input_tokens=5)
    assert first.allowed and second.allowed
    assert len(first.violations) == 1 and first.violations[0].used_tokens == 10
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "budget exceeded for component terma" in warnings[0].getMessage()


def test_ignore_reports_without_logging(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=1, policy="ignore"))
    with caplog.at_level(logging.DEBUG, logger="tekton_llm_client"):
        result = tracker.check(input_tokens=5)
    assert result.allowed and len(result.violations) == 1
    assert caplog.records == []


def test_a_new_period_starts_from_zero(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    tracker.record(provider="p", model="m", input_tokens=100, output_tokens=0)
    with pytest.raises(BudgetExceededError):
        tracker.check(input_tokens=1)
    clock.now = datetime(2025, 6, 19, 0, 0, 1, tzinfo=UTC).timestamp()
    assert tracker.check(input_tokens=100).allowed
    assert tracker.usage("daily").count == 0
    assert tracker.usage("weekly").count == 1


def test_limits_are_scoped(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=50, policy="enforce", provider="anthropic"))
    tracker.record(provider="ollama", model="llama3", input_tokens=1000, output_tokens=0)
    assert tracker.check(provider="anthropic", input_tokens=50).allowed  # ollama usage does not count
    assert tracker.check(provider="ollama", input_tokens=10_000).allowed  # the limit does not apply
    tracker.record(provider="anthropic", model="claude", input_tokens=40, output_tokens=0)
    with pytest.raises(BudgetExceededError):
        tracker.check(provider="anthropic", input_tokens=11)


def test_cost_limits_use_prices(clock: Clock) -> None:
    tracker = _tracker(
        clock,
        BudgetLimit("monthly", max_cost=1.0, policy="enforce"),
        prices={"anthropic/claude": (3.0, 15.0), "ollama": (0.0, 0.0)},
    )
    record = tracker.record(provider="anthropic", model="claude", input_tokens=100, output_tokens=40)
    assert record.cost == pytest.approx(0.3 + 0.6)
    assert tracker.check(provider="ollama", model="llama3", input_tokens=100_000).allowed  # free
    assert tracker.check(provider="anthropic", model="claude", input_tokens=33).allowed  # 0.999
    with pytest.raises(BudgetExceededError) as caught:
        tracker.check(provider="anthropic", model="claude", input_tokens=34)
    assert "cost 0.9000 used + 0.0000 held + 0.1020 requested > 1.0000" in caught.value.message


def test_invalid_limits() -> None:
    with pytest.raises(ConfigurationError):
        BudgetLimit("yearly", max_tokens=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        BudgetLimit("daily")
    with pytest.raises(ConfigurationError):
        BudgetLimit("daily", max_tokens=1, policy="block")  # type: ignore[arg-type]


def test_records_from_many_threads_are_all_counted(clock: Clock) -> None:
    tracker = _tracker(clock)

    def work() -> None:
        for _ in range(200):
            tracker.record(provider="p", model="m", input_tokens=1, output_tokens=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = tracker.usage()
    assert summary.count == 800 and summary.total_tokens == 1600


# -- reservations: a request let through holds its size until it is settled or released --------------------------


def test_a_reservation_holds_until_settled_with_the_actual_usage(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    held = tracker.reserve(provider="p", model="m", input_tokens=30, output_tokens=30)
    assert (held.state, held.tokens, tracker.held_tokens) == ("held", 60, 60)
    with pytest.raises(BudgetExceededError) as caught:
        tracker.reserve(provider="p", model="m", input_tokens=41)
    assert "tokens 0 used + 60 held + 41 requested > 100" in caught.value.message
    [violation] = caught.value.details
    assert (violation.used_tokens, violation.held_tokens, violation.requested_tokens) == (0, 60, 41)
    record = held.settle(usage={"prompt_tokens": 30, "completion_tokens": 5})
    assert (held.state, tracker.held_tokens, record.total_tokens) == ("settled", 0, 35)
    assert tracker.usage().total_tokens == 35
    assert tracker.reserve(provider="p", model="m", input_tokens=65).tokens == 65  # 35 + 65 fits
    with pytest.raises(RuntimeError, match="already settled"):
        held.settle(usage={"prompt_tokens": 1})
    held.release()  # after settle: nothing happens
    assert (held.state, tracker.usage().total_tokens) == ("settled", 35)


def test_a_released_reservation_frees_its_tokens_and_records_nothing(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    with tracker.reserve(input_tokens=90) as held:
        assert tracker.held_tokens == 90
    assert (held.state, tracker.held_tokens, tracker.usage().count) == ("released", 0, 0)
    held.release()  # idempotent
    assert tracker.reserve(input_tokens=100).tokens == 100


def test_settling_a_released_reservation_records_once_and_a_second_settle_raises(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=1000, policy="enforce"))
    held = tracker.reserve(input_tokens=10)
    held.release()
    held.settle(input_tokens=10, output_tokens=5)  # the answer arrived after all: it was paid for
    with pytest.raises(RuntimeError, match="already settled"):
        held.settle(input_tokens=10, output_tokens=5)
    assert (held.state, tracker.usage().count, tracker.usage().total_tokens) == ("settled", 1, 15)


def test_a_reservation_block_that_raises_releases_its_hold(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    with pytest.raises(ConnectionError), tracker.reserve(input_tokens=80):
        raise ConnectionError("Rhetor down")
    assert tracker.held_tokens == 0 and tracker.reserve(input_tokens=100).tokens == 100


def test_holds_count_only_against_limits_that_cover_them(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=50, policy="enforce", provider="anthropic"))
    tracker.reserve(provider="anthropic", input_tokens=50)
    assert tracker.reserve(provider="ollama", input_tokens=10_000).tokens == 0  # no limit covers it: nothing held
    with pytest.raises(BudgetExceededError):
        tracker.reserve(provider="anthropic", input_tokens=1)


def test_check_holds_nothing_and_record_after_it_just_accounts(clock: Clock) -> None:
    """check() is the plain question; record() never meets a hold it did not make (no hidden pairing)."""
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    result = tracker.check(input_tokens=40, output_tokens=40)
    assert result.allowed and result.requested_tokens == 80 and tracker.held_tokens == 0
    assert tracker.check(input_tokens=100).allowed  # the first check holds nothing
    tracker.record(provider="ollama", model="llama3", input_tokens=5, output_tokens=5)
    assert (tracker.usage().total_tokens, tracker.held_tokens) == (10, 0)


def test_a_thread_that_checks_and_dies_leaves_nothing_held(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    failures: list[str] = []

    def handle_request() -> None:
        tracker.check(input_tokens=10, output_tokens=40)
        try:
            with tracker.reserve(input_tokens=10, output_tokens=40):
                raise ConnectionError("Rhetor down")  # the request failed, the thread ends
        except ConnectionError as error:
            failures.append(str(error))

    for _ in range(2):
        thread = threading.Thread(target=handle_request)
        thread.start()
        thread.join()
    assert failures == ["Rhetor down"] * 2
    assert tracker.held_tokens == 0 and tracker.reserve(input_tokens=100).tokens == 100


async def test_two_reservations_in_one_task_both_hold_and_settle_in_any_task(clock: Clock) -> None:
    """Two requests in flight in one task, each settled by another task: both hold, each is counted once."""
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=120, policy="enforce"))
    first = tracker.reserve(input_tokens=10, output_tokens=40)
    second = tracker.reserve(input_tokens=10, output_tokens=40)
    assert tracker.held_tokens == 100
    with pytest.raises(BudgetExceededError, match=r"0 used \+ 100 held \+ 50 requested > 120"):
        await asyncio.create_task(asyncio.to_thread(tracker.reserve, input_tokens=10, output_tokens=40))

    async def drain(held: Any, output: int) -> None:
        held.settle(input_tokens=10, output_tokens=output)

    await asyncio.gather(asyncio.create_task(drain(second, 7)), asyncio.create_task(drain(first, 3)))
    assert (tracker.held_tokens, tracker.usage().count, tracker.usage().total_tokens) == (0, 2, 30)


def test_settle_takes_what_the_answer_does_not_say_from_the_reservation(clock: Clock) -> None:
    """A v1 answer often names no provider: the usage still goes to the reserved provider's scoped limit."""
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce", provider="anthropic"))
    for _ in range(2):
        with tracker.reserve(provider="anthropic", model="claude", input_tokens=10, output_tokens=40) as held:
            response = CompletionResponse(
                content="x " * 40, model="", provider="", usage={"prompt_tokens": 10, "completion_tokens": 40}
            )
            record = held.settle(response)
        assert (record.provider, record.model) == ("anthropic", "claude")
    assert tracker.usage(provider="anthropic").total_tokens == 100
    with pytest.raises(BudgetExceededError):
        tracker.reserve(provider="anthropic", input_tokens=1)
    # Without usage or messages, the input is the reservation's own estimate; the output is counted from the text.
    unscoped = _tracker(clock)
    held = unscoped.reserve(messages=[{"role": "user", "content": "hello"}])
    record = held.settle(completion="Hello, world!")
    assert (record.input_tokens, record.output_tokens, record.estimated) == (10, 4, True)


def test_scoped_limits_apply_to_requests_and_usage_of_unknown_provider(clock: Clock) -> None:
    """Conservative: a request leaving the provider to Rhetor may go to the scoped one, and so may unnamed usage."""
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=60, policy="enforce", provider="simulated"))
    held = tracker.reserve(input_tokens=10, output_tokens=40)  # no provider named
    assert held.tokens == 50
    with pytest.raises(BudgetExceededError):
        tracker.check(input_tokens=11)
    held.settle(input_tokens=10, output_tokens=40)  # recorded as provider "unknown": still counts
    assert tracker.usage().groups["unknown"]["total_tokens"] == 50
    with pytest.raises(BudgetExceededError):
        tracker.check(input_tokens=11)
    assert tracker.check(provider="ollama", input_tokens=10_000).allowed  # another named provider: not covered
    tracker.record(provider="ollama", model="llama3", input_tokens=500, output_tokens=0)
    assert tracker.check(provider="simulated", input_tokens=10).allowed  # ollama usage does not count


def test_finish_settles_delivered_text_and_releases_the_rest(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=1000, policy="enforce"))
    partial = tracker.reserve(input_tokens=10, output_tokens=100)
    record = partial.finish("Hello, world!")  # a stream that broke, or was abandoned, after some text
    assert record is not None and (record.input_tokens, record.output_tokens) == (10, 4)
    assert partial.state == "settled"
    fallback = tracker.reserve(input_tokens=10, output_tokens=100)
    assert fallback.finish("LLM service unavailable", fallback=True) is None and fallback.state == "released"
    nothing = tracker.reserve(input_tokens=10, output_tokens=100)
    assert nothing.finish() is None and nothing.state == "released"
    answered = tracker.reserve(input_tokens=10, output_tokens=100)
    answered.settle(input_tokens=10, output_tokens=2)
    assert answered.finish("ignored: already settled") is None
    assert (tracker.held_tokens, tracker.usage().count, tracker.usage().total_tokens) == (0, 2, 26)


def test_a_budget_request_object_or_keywords(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=100, policy="enforce"))
    assert tracker.reserve(BudgetRequest(input_tokens=30, output_tokens=20)).tokens == 50
    assert tracker.check(BudgetRequest(input_tokens=50)).requested_tokens == 50
    with pytest.raises(TypeError, match="unknown budget request field"):
        tracker.check(input_token=5)  # a typo is an error, not a silently empty request
    with pytest.raises(TypeError, match="not both"):
        tracker.reserve(BudgetRequest(input_tokens=1), input_tokens=2)


def test_concurrent_reservations_from_threads_never_exceed_the_limit(clock: Clock) -> None:
    tracker = _tracker(clock, BudgetLimit("daily", max_tokens=1000, policy="enforce"))
    admitted: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            try:
                tracker.reserve(input_tokens=7)
            except BudgetExceededError:
                refused.append(1)
            else:
                admitted.append(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 1000 // 7 and len(refused) == 400 - 1000 // 7
    assert tracker.held_tokens == 7 * (1000 // 7)


async def test_reservations_around_real_requests_hold_across_awaits(make_server: Any, make_client: Any) -> None:
    """The documented pattern for code outside the client: 8 concurrent requests, room for one."""
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=60, policy="enforce")])
    client = make_client(server.url)

    async def one() -> str:
        with tracker.reserve(messages=[{"role": "user", "content": "hello"}], output_tokens=40) as held:
            response = await client.generate_text("hello", options={"max_tokens": 40})
            held.settle(response)
            return response.content

    results = await asyncio.gather(*(one() for _ in range(8)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    answered = [r for r in results if isinstance(r, str)]
    assert (len(refused), len(answered)) == (7, 1) and answered[0].startswith("I received")
    assert server.attempts("/api/v1/chat") == 1
    assert (tracker.held_tokens, tracker.usage().count) == (0, 1)


# -- holds in the client, against the test server on a real socket ------------------------------------------------


async def test_enforce_holds_against_a_concurrent_batch(make_server: Any, make_client: Any) -> None:
    """60 tokens a day: of 8 concurrent prompts (10 input + up to 40 output tokens each) exactly one is sent."""
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=60, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    results = await client.generate_batch(["hello"] * 8, concurrency=8, options={"max_tokens": 40})
    answered = [r for r in results if r.error is None]
    refused = [r for r in results if isinstance(r.error, BudgetExceededError)]
    assert (len(answered), len(refused)) == (1, 7)
    assert "0 used + 50 held + 50 requested > 60" in str(refused[0].error)
    assert server.attempts("/api/v1/chat") == 1  # the refused ones were never sent
    assert tracker.held_tokens == 0
    assert tracker.usage().count == 1
    assert tracker.usage().total_input_tokens == 10  # the answer's actual usage replaced the hold


async def test_two_streams_in_one_task_both_hold(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=120, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    first = client.generate_text("hello", streaming=True, options={"max_tokens": 40}).__aiter__()
    second = client.generate_text("hello", streaming=True, options={"max_tokens": 40}).__aiter__()
    await first.__anext__()
    await second.__anext__()
    assert tracker.held_tokens == 100
    with pytest.raises(BudgetExceededError):
        await asyncio.create_task(client.generate_text("hello", options={"max_tokens": 40}))
    assert [c.chunk async for c in first][-1] == "" and [c.chunk async for c in second][-1] == ""
    assert (tracker.held_tokens, tracker.usage().count) == (0, 2)


async def test_an_abandoned_stream_settles_what_it_delivered(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=1000, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    stream = client.generate_text("hello", streaming=True, options={"max_tokens": 40})
    async for _ in stream:
        assert tracker.held_tokens == 50
        break
    await stream.aclose()
    assert (tracker.held_tokens, tracker.usage().count) == (0, 1)


def test_a_sync_stream_holds_until_its_end(make_server: Any) -> None:
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=60, policy="enforce")])
    with SyncTektonLLMClient("t", rhetor_url=server.url, use_fallback=False, budget=tracker) as a, \
            SyncTektonLLMClient("t", rhetor_url=server.url, use_fallback=False, budget=tracker) as b:
        stream = a.stream_text("hello", options={"max_tokens": 40})
        next(stream)
        assert tracker.held_tokens == 50
        outcome: list[BaseException | str] = []

        def other() -> None:
            try:
                outcome.append(b.generate_text("hello", options={"max_tokens": 40}).content)
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert isinstance(outcome[0], BudgetExceededError)
        list(stream)
    assert (tracker.held_tokens, tracker.usage().count) == (0, 1)


async def test_a_stream_finished_in_another_task_is_counted_once(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=130, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    stream = client.generate_text("hello", streaming=True, options={"max_tokens": 40}).__aiter__()
    await stream.__anext__()

    async def drain() -> None:
        async for _ in stream:
            pass

    await asyncio.create_task(drain())
    assert (tracker.held_tokens, tracker.usage().count) == (0, 1)
    assert tracker.usage().total_tokens + 50 <= 130  # so the next request fits, unless something still holds
    await asyncio.create_task(client.generate_text("hello", options={"max_tokens": 40}))  # admitted
    assert tracker.usage().count == 2


async def test_cache_hits_hold_and_record_nothing(make_server: Any, make_client: Any) -> None:
    """A long-lived worker task answered from the cache must not keep tokens held while it waits for work."""
    server = make_server("v1")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=150, policy="enforce")])
    client = make_client(server.url, budget=tracker, cache=ResponseCache(max_entries=10, ttl=300))
    options = {"max_tokens": 40, "temperature": 0}
    await client.generate_text("hello", options=options)
    jobs: asyncio.Queue[str] = asyncio.Queue()
    answers: list[str] = []

    async def worker() -> None:
        while True:
            answers.append((await client.generate_text(await jobs.get(), options=options)).content)
            jobs.task_done()

    task = asyncio.create_task(worker())
    try:
        await jobs.put("hello")
        await jobs.join()
        assert answers[0].startswith("I received") and server.attempts("/api/v1/chat") == 1  # a cache hit
        assert (tracker.held_tokens, tracker.usage().count) == (0, 1)
        await client.generate_text("hello world", options={"max_tokens": 40})  # admitted: nothing lingers
        assert tracker.usage().count == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_failed_requests_release_their_holds(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    server.faults.fail_status, server.faults.fail_times = 400, 4
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=200, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    failed = await client.generate_batch(["hello"] * 4, concurrency=4, options={"max_tokens": 40})
    assert [type(r.error).__name__ for r in failed] == ["InvalidRequestError"] * 4
    assert tracker.held_tokens == 0 and tracker.usage().count == 0
    answered = await client.generate_batch(["hello"] * 4, concurrency=4, options={"max_tokens": 40})
    assert [r.error for r in answered] == [None] * 4  # the failures hold nothing any more
    assert tracker.usage().count == 4 and tracker.held_tokens == 0


async def test_a_failed_request_does_not_hold_back_the_next_one_in_a_batch(make_server: Any, make_client: Any) -> None:
    """One at a time under a 60-token limit: the first fails, and its hold must be gone when the second checks."""
    server = make_server("v1")
    server.faults.fail_status, server.faults.fail_times = 400, 1
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=60, policy="enforce")])
    client = make_client(server.url, budget=tracker)
    results = await client.generate_batch(["a", "b"], concurrency=1, options={"max_tokens": 40})
    assert [type(r.error).__name__ for r in results] == ["InvalidRequestError", "NoneType"]
    assert tracker.usage().count == 1 and tracker.held_tokens == 0


async def test_fallback_answers_release_their_holds(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    tracker = BudgetTracker("terma", limits=[BudgetLimit("daily", max_tokens=60, policy="enforce")])
    client = make_client(f"http://127.0.0.1:{closed_port()}", budget=tracker, use_fallback=True, max_retries=0)
    results = await client.generate_batch(["hello"], concurrency=1, options={"max_tokens": 40})
    assert results[0].response is not None and results[0].response.fallback is True
    assert tracker.held_tokens == 0 and tracker.usage().count == 0  # a fallback answer costs no Rhetor tokens
    # In one task, one fallback answer after another: each needs 50 of the 60 tokens, so neither may be left held.
    for _ in range(2):
        assert (await client.generate_text("hello", options={"max_tokens": 40})).fallback is True
        assert (tracker.held_tokens, tracker.usage().count) == (0, 0)
