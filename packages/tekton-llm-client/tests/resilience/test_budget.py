"""Client-side budget: recording usage, enforce/warn/ignore, periods with an injected clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tekton_llm_client.budget import BudgetLimit, BudgetTracker, period_start
from tekton_llm_client.exceptions import BudgetExceededError, ConfigurationError
from tekton_llm_client.models import CompletionResponse
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
    assert "daily limit" in caught.value.message and "90 used + 11 requested > 100" in caught.value.message
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
    assert "cost 0.9000 used + 0.1020 requested > 1.0000" in caught.value.message


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
