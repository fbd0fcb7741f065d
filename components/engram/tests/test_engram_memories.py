"""Storing and searching memories: Engram's own job, which needs no LLM."""

from __future__ import annotations

import httpx


async def test_memories_are_stored_and_found(client: httpx.AsyncClient) -> None:
    first = (await client.post("/memories", json={"content": "Parked on level 3, bay C12."})).json()
    await client.post("/memories", json={"content": "Passport is in the blue drawer.", "namespace": "home"})
    await client.post("/memories", json={"content": "Level 3 lounge opens at 6.", "namespace": "travel"})

    stored = (await client.get(f"/memories/{first['id']}")).json()
    level_three = (await client.get("/memories", params={"query": "LEVEL 3"})).json()
    travel_only = (await client.get("/memories", params={"query": "level 3", "namespace": "travel"})).json()
    missing = await client.get("/memories/mem-999")

    assert stored == {"id": first["id"], "namespace": "conversations", "content": "Parked on level 3, bay C12."}
    assert [m["content"] for m in level_three] == ["Parked on level 3, bay C12.", "Level 3 lounge opens at 6."]
    assert [m["content"] for m in travel_only] == ["Level 3 lounge opens at 6."]
    assert missing.status_code == 404
