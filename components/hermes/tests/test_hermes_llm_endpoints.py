"""Hermes's ``/api/llm`` endpoints answered by Rhetor: chat, message/service analysis, model selection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hermes.api.app import app
from websockets.asyncio.client import connect


@pytest.fixture
async def client(rhetor_env: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hermes") as http:
        yield http


async def test_chat_is_answered_by_the_llm(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/llm/chat", json={"message": "How do services register?"})

    body = response.json()
    assert body["success"] is True
    assert 'I received your message: "How do services register?"' in body["message"]
    assert (body["provider"], body["model"]) == ("anthropic", "claude-3-haiku-20240307")


async def test_chat_sends_hermes_system_prompt_and_history(client: httpx.AsyncClient) -> None:
    history = [
        {"role": "user", "content": "Is Athena registered?"},
        {"role": "assistant", "content": "Yes, at http://localhost:8005."},
    ]

    body = (await client.post("/api/llm/chat", json={"message": "And Ergon?", "chat_history": history})).json()

    # Hermes's system message + two history turns + the new question.
    assert 'I received your message: "And Ergon?". I see a conversation with 4 messages.' in body["message"]


async def test_rest_chat_stream_asks_the_llm_but_never_streams(client: httpx.AsyncClient, rhetor_env: Any) -> None:
    # The route hands the adapter an async generator function as callback (a defect of the real Hermes): the
    # answer is streamed from Rhetor, but no chunk reaches the response, which carries only its end marker.
    response = await client.post("/api/llm/chat/stream", json={"message": "stream over REST"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == "data: [DONE]\n\n"
    streamed = [r.body for r in rhetor_env.requests if r.path == "/api/v1/chat/stream"]
    assert len(streamed) == 1
    assert streamed[0]["messages"][-1] == {"role": "user", "content": "stream over REST"}


async def test_message_analysis_is_parsed_into_fields(client: httpx.AsyncClient) -> None:
    content = (
        "Purpose: restart the scheduler\n"
        "Components: ergon, hermes\n"
        "Data content: scheduler configuration v2\n"
        "Priority: high\n"
        "(sent by the ops console)"
    )

    analysis = (await client.post("/api/llm/analyze/message", json={"content": content})).json()

    assert analysis["purpose"] == "restart the scheduler"
    assert analysis["components"] == ["ergon", "hermes"]
    assert analysis["data_summary"] == "scheduler configuration v2"
    assert analysis["priority"] == "high"
    assert analysis["full_analysis"].startswith("I received your message:")


async def test_service_analysis_sends_the_registration_as_json(client: httpx.AsyncClient) -> None:
    service = {"name": "athena", "endpoint": "http://localhost:8005", "capabilities": ["knowledge_graph"]}

    analysis = (await client.post("/api/llm/analyze/service", json={"service_data": service})).json()

    assert set(analysis) == {
        "capabilities",
        "dependencies",
        "integration_points",
        "use_cases",
        "summary",
        "full_analysis",
    }
    assert '"name": "athena",\n  "endpoint": "http://localhost:8005"' in analysis["full_analysis"]


async def test_provider_selection_is_process_wide(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/llm/providers")).json()
    chosen = (await client.post("/api/llm/provider", params={"provider": "openai", "model": "gpt-4o"})).json()
    after = (await client.get("/api/llm/providers")).json()

    assert (before["current_provider"], before["current_model"]) == ("anthropic", "claude-3-haiku-20240307")
    assert chosen == {"success": True, "provider": "openai", "model": "gpt-4o"}
    assert (after["current_provider"], after["current_model"]) == ("openai", "gpt-4o")
    # Without a provider listing from the service, the adapter offers the current choice as its only provider.
    assert list(after["providers"]) == ["openai"]
    assert after["providers"]["openai"]["models"][0] == {"id": "gpt-4o", "name": "Default Model"}


async def test_websocket_chat_streams_the_answer(rhetor_env: Any, hermes_ws_base: str) -> None:
    frames: list[dict[str, Any]] = []
    async with connect(f"{hermes_ws_base}/api/llm/ws/chat") as ws:
        await ws.send(json.dumps({"message": "stream the registry status"}))
        while not frames or not frames[-1]["done"]:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=30)))

    *chunks, final = frames
    assert final == {"done": True, "success": True, "provider": "anthropic", "model": "claude-3-haiku-20240307"}
    assert chunks and all(frame["success"] and not frame["done"] for frame in chunks)
    text = "".join(frame["chunk"] for frame in chunks)
    assert text.startswith('I received your message: "stream the registry status".')
