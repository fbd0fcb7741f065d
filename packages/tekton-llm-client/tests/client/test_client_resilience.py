"""Cache, client-side budget and conversation context wired into the client, checked against the server."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tekton_llm_client import BudgetTracker, ContextManager, ResponseCache
from tekton_llm_client import exceptions as exc
from tekton_llm_client.budget import BudgetLimit
from tekton_llm_client.testing import closed_port


async def test_cache_hit_at_temperature_zero(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    cache = ResponseCache(max_entries=8, ttl=60)
    client = make_client(server.url, api="v1", cache=cache)
    first = await client.generate_text("cache me", options={"temperature": 0})
    second = await client.generate_text("cache me", options={"temperature": 0})
    assert second.content == first.content
    assert server.attempts("/api/v1/chat") == 1
    assert cache.stats.hits == 1
    await client.generate_text("cache me", options={"temperature": 0.7})  # not cacheable
    await client.generate_text("cache me", options={"temperature": 0.7})
    assert server.attempts("/api/v1/chat") == 3


async def test_cache_never_stores_fallback(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    cache = ResponseCache()
    client = make_client(f"http://127.0.0.1:{closed_port()}", use_fallback=True, max_retries=0, cache=cache)
    response = await client.generate_text("down", options={"temperature": 0})
    assert response.fallback and len(cache) == 0


async def test_budget_enforce_blocks_before_sending(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    budget = BudgetTracker("test", limits=[BudgetLimit("daily", max_tokens=5, policy="enforce")])
    client = make_client(server.url, api="v1", budget=budget)
    with pytest.raises(exc.BudgetExceededError):
        await client.generate_text("this prompt is certainly longer than five tokens in any counting")
    assert server.attempts("/api/v1/chat") == 0


async def test_budget_warn_logs_and_sends(
    make_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    budget = BudgetTracker("test", limits=[BudgetLimit("daily", max_tokens=60, policy="warn")])
    client = make_client(server.url, api="v1", budget=budget)
    caplog.set_level(logging.WARNING)
    await client.generate_text("first call")
    assert budget.usage("daily").total_tokens > 0  # recorded from the answer
    await client.generate_text("second call goes over the small daily limit")
    assert server.attempts("/api/v1/chat") == 2
    assert "budget exceeded" in caplog.text.lower()


async def test_context_manager_sends_history(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    context = ContextManager("test", max_tokens=2000)
    client = make_client(server.url, api="v1", context_manager=context)
    await client.generate_text("my name is Ada")
    second = await client.generate_text("what is my name?")
    assert "conversation with 3 messages" in second.content
    sent = server.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "my name is Ada"
    assert len(context.get_messages()) == 4
