"""Service registration and discovery: Hermes's own job, which needs no LLM."""

from __future__ import annotations

import httpx
from hermes.api.app import app


async def test_registered_services_are_found_by_capability() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hermes") as client:
        await client.post(
            "/api/registration",
            json={"name": "ergon", "endpoint": "http://localhost:8002", "capabilities": ["agents", "workflows"]},
        )
        await client.post(
            "/api/registration",
            json={"name": "athena", "endpoint": "http://localhost:8005", "capabilities": ["knowledge_graph"]},
        )
        agents = (await client.get("/api/services", params={"capability": "agents"})).json()
        removed = await client.delete("/api/registration/ergon")
        missing = await client.delete("/api/registration/ergon")
        remaining = (await client.get("/api/services")).json()

    assert [service["name"] for service in agents] == ["ergon"]
    assert removed.json() == {"unregistered": "ergon"}
    assert missing.status_code == 404
    assert [service["name"] for service in remaining] == ["athena"]
