"""Engram shim: memory helpers, chat and ``_stream_chat`` as Engram's endpoints use them, and ``_get_client``."""

from __future__ import annotations

import weakref
from typing import Any

import pytest
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims.engram import SYS_ENGRAM_ANALYZE, SYS_ENGRAM_SUMMARIZE, LLMAdapter

FALLBACK = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues or "
    "the service being offline. Basic memory operations will continue to work, but advanced analysis and "
    "generation capabilities may be limited. Please try again later or contact your administrator if the problem "
    "persists."
)
CATEGORIZE_SYSTEM = (
    "\n        You are an AI assistant that categorizes content into predefined categories."
    "\n        The available categories are: work, Personal Notes"
    "\n        Analyze the provided content and assign it to the most appropriate category."
    "\n        Return ONLY the category name without explanation or additional text."
    "\n        "
)


def test_attributes_engram_endpoints_read() -> None:
    adapter = LLMAdapter()

    assert (adapter.default_model, adapter.default_provider) == ("claude-3-haiku-20240307", "anthropic")
    assert (adapter.adapter_url, adapter.ws_url, adapter.ws_port) == (
        "http://localhost:8003",
        "ws://localhost:8301",
        "8301",
    )


async def test_analyze_memory(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    result = await adapter.analyze_memory("Met Ana at the café", context="travel", model="simulated-fast")

    assert set(result) == {"analysis", "success"} and result["success"] is True
    assert "Consider this additional context" in result["analysis"]  # the last user message, echoed
    wire.check(
        messages=[
            {"role": "system", "content": SYS_ENGRAM_ANALYZE},
            {"role": "user", "content": "Please analyze the following content:\n\nMet Ana at the café"},
            {"role": "user", "content": "Consider this additional context:\n\ntravel"},
        ],
        model="simulated-fast",
        temperature=0.7,
        component="engram",
    )
    await adapter.aclose()


async def test_analyze_memory_outage_reports_success_with_fallback(rhetor_down: str) -> None:
    # Kept quirk: the adapter's chat() answers outages with text, so the analysis "succeeds".
    assert await LLMAdapter().analyze_memory("x") == {"analysis": FALLBACK, "success": True}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("work", "work"), ("  Personal Notes \n", "Personal Notes"), ("It is WORK related", "work"), ("no idea", "work")],
)
async def test_categorize_memory_matching(rhetor: RhetorTestServer, wire: Any, reply: str, expected: str) -> None:
    rhetor.faults.reply = reply
    adapter = LLMAdapter()

    result = await adapter.categorize_memory("the quarterly report", ["work", "Personal Notes"])

    assert result == {"category": expected, "success": True}
    wire.check(
        messages=[
            {"role": "system", "content": CATEGORIZE_SYSTEM},
            {"role": "user", "content": "Categorize this content:\n\nthe quarterly report"},
        ],
        temperature=0.3,
    )
    await adapter.aclose()


async def test_categorize_memory_needs_categories(rhetor: RhetorTestServer, wire: Any) -> None:
    with pytest.raises(IndexError):
        await LLMAdapter().categorize_memory("x", [])
    assert wire.sent() == []


async def test_categorize_memory_outage_matches_on_fallback_text(rhetor_down: str) -> None:
    # Kept quirk: the fallback text mentions "memory", so that category wins.
    assert await LLMAdapter().categorize_memory("x", ["travel", "memory"]) == {"category": "memory", "success": True}


async def test_summarize_memories(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    assert await adapter.summarize_memories([]) == ""
    assert wire.sent() == []
    summary = await adapter.summarize_memories(["one", "two"], model="simulated-fast")

    assert 'I received your message: "Summarize these related memories:\n\none\n\ntwo"' in summary
    wire.check(
        messages=[
            {"role": "system", "content": SYS_ENGRAM_SUMMARIZE},
            {"role": "user", "content": "Summarize these related memories:\n\none\n\ntwo"},
        ],
        model="simulated-fast",
    )
    await adapter.aclose()


async def test_summarize_memories_failures(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    assert await adapter.summarize_memories(["a"]) == FALLBACK
    broken = await adapter.summarize_memories(["a", 3])  # type: ignore[list-item]
    assert broken.startswith("Error summarizing memories: ")


async def test_endpoint_style_chat_and_stream_chat(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    messages = [{"role": "user", "content": "hello engram"}]

    text = await adapter.chat(
        messages=messages, model=adapter.default_model, temperature=None, max_tokens=None, system_prompt=None
    )
    stream = adapter._stream_chat(
        messages=messages, model=None, temperature=None, max_tokens=None, system_prompt="Short."
    )
    pieces = [p async for p in stream]

    assert isinstance(text, str) and "hello engram" in text
    assert len(pieces) > 1 and "hello engram" in "".join(pieces)
    first, second = wire.sent()
    assert (first["temperature"], second["temperature"]) == (0.7, 0.7)
    assert second["messages"][0] == {"role": "system", "content": "Short."}
    await adapter.aclose()


async def test_stream_chat_outage_yields_engram_fallback(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    assert [p async for p in adapter._stream_chat([{"role": "user", "content": "x"}])] == [FALLBACK]
    assert await adapter.chat([{"role": "user", "content": "x"}]) == FALLBACK


async def test_get_available_models_sync_and_awaited(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    sync = adapter.get_available_models()
    assert sync["anthropic"][0] == {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"}
    awaited = await adapter.get_available_models()

    assert "simulated" in awaited
    await adapter.aclose()


async def test_get_client_for_post_migration_endpoints(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    client = await adapter._get_client()
    response = await client.generate_text("direct prompt", system_prompt="Sys.")
    stream = await client.generate_text("direct stream", streaming=True)
    chunks = [chunk async for chunk in stream]

    assert await adapter._get_client() is client
    assert "direct prompt" in response.content and response.model
    assert isinstance(response.provider, str)  # v1 answers carry no provider; Engram then reads default_provider
    assert "direct stream" in "".join(c.chunk for c in chunks)
    assert stream._model_info.get("model")
    await adapter.aclose()


async def test_collected_adapter_leaves_the_client_it_handed_out_working(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    client = await adapter._get_client()  # post-migration endpoints keep the client, not the adapter
    closed: list[bool] = []
    original = client.aclose

    async def recording_close() -> None:
        closed.append(True)
        await original()

    client.aclose = recording_close  # type: ignore[method-assign]
    stream = await client.generate_text("kept stream", streaming=True)
    first = await anext(stream)
    collected: list[bool] = []
    weakref.finalize(adapter, collected.append, True)
    del adapter
    # Dropping the last reference collects the adapter at once (it is in no reference cycle): no gc.collect().
    assert collected == [True]
    # Anything the collection scheduled on the loop (a close task, say) runs before the answer to the request
    # below can arrive (ready callbacks run before the loop polls for I/O); recording_close records at its start.
    rest = [chunk.chunk async for chunk in stream]
    later = await client.generate_text("after collection")

    assert closed == []
    assert 'I received your message: "kept stream"' in first.chunk + "".join(rest)
    assert 'I received your message: "after collection"' in later.content
