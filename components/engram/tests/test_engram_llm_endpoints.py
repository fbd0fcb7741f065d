"""Engram's ``/v1/llm`` endpoints answered by Rhetor: chat, streamed chat, memory analysis, models."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import httpx

USER = [{"role": "user", "content": "Where did I park the car?"}]


async def test_chat_is_answered_by_the_llm(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/llm/chat", json={"messages": USER})).json()

    assert body["model"] == "claude-3-haiku-20240307"
    assert (
        'I received your message: "Where did I park the car?". I see a conversation with 1 messages.' in body["content"]
    )


async def test_chat_passes_model_and_system_prompt(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    request = {
        "messages": USER,
        "model": "simulated-advanced",
        "system_prompt": "You are Engram's recall aid.",
        "temperature": 0.2,
        "max_tokens": 200,
    }

    body = (await client.post("/v1/llm/chat", json=request)).json()

    assert body["model"] == "simulated-advanced"
    assert "As the advanced simulation model" in body["content"]
    assert "You are Engram's recall aid." in body["content"]


async def test_streamed_chat_arrives_as_server_sent_events(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    # The simulated fast model answers in 10-character pieces.
    response = await client.post("/v1/llm/chat/stream", json={"messages": USER, "model": "simulated-fast"})

    events = [json.loads(line[len("data: ") :]) for line in response.text.splitlines() if line.startswith("data: ")]
    *chunks, last = events
    assert response.headers["content-type"].startswith("text/event-stream")
    assert last == {"chunk": "", "done": True, "model": "simulated-fast"}
    assert "".join(c["chunk"] for c in chunks).startswith('I received your message: "Where did I park the car?".')
    assert len(chunks) > 1, "the answer should arrive in several pieces"


async def test_memory_analysis_includes_context(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    request = {"content": "Parked on level 3, bay C12.", "context": "Airport trip, returning Sunday"}

    body = (await client.post("/v1/llm/analyze", json=request)).json()

    assert body["success"] is True
    assert (
        'I received your message: "Consider this additional context:\n\nAirport trip, returning Sunday"'
        in body["analysis"]
    )


async def test_models_route_lists_models_without_awaiting(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/llm/models")).json()

    assert body["default_model"] == "claude-3-haiku-20240307"
    assert {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"} in body["models"]["anthropic"]


async def test_generate_uses_the_adapters_client(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    request = {
        "prompt": "Which memories mention Lisbon?",
        "system_prompt": "Answer from memory.",
        "model": "simulated-fast",
    }

    response = await client.post("/v1/llm/generate", json=request)

    assert response.status_code == 200, response.text
    body = response.json()
    assert 'I received your message: "Which memories mention Lisbon?"' in body["content"]
    assert "Answer from memory." in body["content"]
    assert body["model"] == "simulated-fast"
    assert body["provider"]  # Rhetor's, or Engram's default when the answer names none


async def test_generate_stream_sends_the_clients_chunks(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    request = {"prompt": "Stream my notes", "model": "simulated-fast"}

    response = await client.post("/v1/llm/generate/stream", json=request)

    assert response.status_code == 200, response.text
    events = [json.loads(line[len("data: ") :]) for line in response.text.splitlines() if line.startswith("data: ")]
    *chunks, last = events
    assert len(chunks) > 1
    assert "".join(c["chunk"] for c in chunks).startswith('I received your message: "Stream my notes".')
    assert (last["done"], last["model"]) == (True, "simulated-fast")


async def test_live_models_are_awaited_and_come_from_rhetor(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/llm/models/live")

    assert response.status_code == 200, response.text
    body = response.json()
    assert {"id": "simulated-fast", "name": "Fast Simulation"} in body["models"]["simulated"]
    assert body["default_model"] == "claude-3-haiku-20240307"


async def test_analyze_route_hands_request_fields_to_the_adapter(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    canned = {"analysis": "entities: car, level 3", "success": True}
    with mock.patch(
        "engram.core.llm_adapter.LLMAdapter.analyze_memory", new=mock.AsyncMock(return_value=canned)
    ) as analyze_memory:
        body = (await client.post("/v1/llm/analyze", json={"content": "Parked on level 3."})).json()

    analyze_memory.assert_awaited_once_with(content="Parked on level 3.", context=None, model="claude-3-haiku-20240307")
    assert body == {**canned, "model": "claude-3-haiku-20240307"}
