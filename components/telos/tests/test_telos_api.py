"""Telos's REST API: the requirement store, the reviewing model, and refinement through the LLM."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telos.api.app import app

REQUIREMENT = {
    "requirement_id": "REQ-9",
    "title": "Offline mode",
    "description": "The app works without a network connection.",
    "priority": "high",
}


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://telos") as http:
        yield http


async def test_requirements_are_stored_and_read_back(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/requirements", json=REQUIREMENT)
    stored = (await client.get("/api/requirements/REQ-9")).json()
    missing = await client.get("/api/requirements/REQ-404")

    assert created.status_code == 201
    assert (stored["title"], stored["type"], stored["revisions"]) == ("Offline mode", "functional", 0)
    assert missing.status_code == 404


async def test_status_reports_the_configured_model(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    default = (await client.get("/api/llm/status")).json()
    monkeypatch.setenv("LLM_MODEL", "claude-3-opus-20240229")
    configured = (await client.get("/api/llm/status")).json()

    assert default == {"provider": "anthropic", "model": "claude-3-haiku-20240307"}
    assert configured == {"provider": "anthropic", "model": "claude-3-opus-20240229"}


async def test_refine_route_stores_the_refined_requirement(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    await client.post("/api/requirements", json=REQUIREMENT)

    refined = await client.post(
        "/api/requirements/REQ-9/refine", json={"feedback": "Title: Offline mode with sync on reconnect\nThanks."}
    )
    stored = (await client.get("/api/requirements/REQ-9")).json()

    assert refined.json()["title"] == "Offline mode with sync on reconnect"
    assert (stored["title"], stored["revisions"]) == ("Offline mode with sync on reconnect", 1)


async def test_analyze_route_returns_the_llm_review(rhetor_env: Any, client: httpx.AsyncClient) -> None:
    await client.post("/api/requirements", json=REQUIREMENT)

    review = (await client.post("/api/requirements/REQ-9/analyze", json={})).json()

    assert (
        'I received your message: "Please analyze this requirement:\n\nRequirement ID: REQ-9\n'
        in review["raw_response"]
    )
