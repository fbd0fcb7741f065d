"""Response cache: only temperature 0, never errors or fallbacks, LRU eviction and TTL with an injected clock."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tekton_llm_client._request import LLMRequest
from tekton_llm_client.cache import ResponseCache, cache_key
from tekton_llm_client.exceptions import ConfigurationError
from tekton_llm_client.models import CompletionResponse


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _request(prompt: str = "hi", **changes: object) -> LLMRequest:
    request = LLMRequest(messages=[{"role": "user", "content": prompt}], temperature=0.0, model="simulated-fast")
    return replace(request, **changes)  # type: ignore[arg-type]


def _answer(text: str = "answer", **changes: object) -> CompletionResponse:
    return CompletionResponse(content=text, model="simulated-fast", provider="simulated", **changes)  # type: ignore[arg-type]


def test_hit_after_put_and_counters() -> None:
    cache = ResponseCache()
    assert cache.get(_request()) is None
    assert cache.put(_request(), _answer("cached text"))
    hit = cache.get(_request())
    assert hit is not None and hit.content == "cached text"
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.size) == (1, 1, 1)
    assert stats.hit_rate == 0.5


def test_hits_are_copies() -> None:
    cache = ResponseCache()
    cache.put(_request(), _answer("original"))
    first = cache.get(_request())
    assert first is not None
    first.content = "edited by a caller"
    second = cache.get(_request())
    assert second is not None and second.content == "original"


@pytest.mark.parametrize("temperature", [None, 0.7, 0.01])
def test_only_temperature_zero_is_cacheable(temperature: float | None) -> None:
    cache = ResponseCache()
    request = _request(temperature=temperature)
    assert cache_key(request) is None
    assert cache.put(request, _answer()) is False
    assert cache.get(request) is None
    assert (cache.stats.hits, cache.stats.misses, len(cache)) == (0, 0, 0)


def test_errors_and_fallbacks_are_never_cached() -> None:
    cache = ResponseCache()
    assert cache.put(_request(), _answer(fallback=True)) is False
    assert cache.put(_request(), _answer(error="provider failed")) is False
    assert len(cache) == 0 and cache.get(_request()) is None


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": "other"}]},
        {"system_prompt": "Be terse."},
        {"model": "simulated-advanced"},
        {"provider": "anthropic"},
        {"max_tokens": 10},
        {"top_p": 0.5},
        {"stop": ["\n"]},
        {"extra": {"top_k": 3}},
    ],
)
def test_every_answer_deciding_field_is_in_the_key(change: dict[str, object]) -> None:
    cache = ResponseCache()
    cache.put(_request(), _answer())
    assert cache_key(_request(**change)) != cache_key(_request())
    assert cache.get(_request(**change)) is None


def test_ids_context_stream_and_timeout_do_not_split_entries() -> None:
    cache = ResponseCache()
    cache.put(_request(), _answer("shared"))
    other = _request(request_id="another-id", context_id="terma:x", stream=True, timeout=3.0, component="terma")
    hit = cache.get(other)
    assert hit is not None and hit.content == "shared"


def test_entries_expire_after_ttl() -> None:
    clock = Clock()
    cache = ResponseCache(ttl=60.0, clock=clock)
    cache.put(_request(), _answer())
    clock.now += 59.9
    assert cache.get(_request()) is not None
    clock.now += 0.1
    assert cache.get(_request()) is None
    assert cache.stats.expirations == 1 and len(cache) == 0


def test_least_recently_used_entry_is_evicted() -> None:
    cache = ResponseCache(max_entries=2)
    a, b, c = _request("a"), _request("b"), _request("c")
    cache.put(a, _answer("A"))
    cache.put(b, _answer("B"))
    assert cache.get(a) is not None  # a is now the most recently used
    cache.put(c, _answer("C"))
    assert cache.get(b) is None
    assert [cache.get(r).content for r in (a, c)] == ["A", "C"]  # type: ignore[union-attr]
    assert cache.stats.evictions == 1


def test_invalidate_contains_and_clear() -> None:
    cache = ResponseCache()
    cache.put(_request(), _answer())
    assert cache.contains(_request()) and cache.stats.hits == 0
    assert cache.invalidate(_request()) is True and not cache.contains(_request())
    cache.put(_request(), _answer())
    cache.get(_request())
    cache.clear()
    assert (len(cache), cache.stats.hits) == (0, 0)


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigurationError):
        ResponseCache(max_entries=0)
    with pytest.raises(ConfigurationError):
        ResponseCache(ttl=0)
