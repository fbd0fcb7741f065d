"""Terma's provider/model REST routes: selection is validated, persisted in the config file, read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from terma.api.app import app


@pytest.fixture
async def client(rhetor_env: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://terma") as http:
        yield http


async def test_providers_route_reports_table_and_current_choice(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/llm/providers")

    assert response.status_code == 200
    body = response.json()
    assert body["current_provider"] == "claude"
    assert body["current_model"] == "claude-3-sonnet-20240229"
    assert set(body["providers"]) == {"claude", "openai", "local"}
    assert [m["id"] for m in body["providers"]["local"]["models"]] == ["mistral-7b", "llama-2-13b"]


async def test_models_route_marks_current_model_only_for_current_provider(client: httpx.AsyncClient) -> None:
    claude = (await client.get("/api/llm/models/claude")).json()
    openai = (await client.get("/api/llm/models/openai")).json()
    missing = await client.get("/api/llm/models/nope")

    assert claude["current_model"] == "claude-3-sonnet-20240229"
    assert [m["id"] for m in claude["models"]][0] == "claude-3-opus-20240229"
    assert openai["current_model"] == ""
    assert missing.status_code == 404


async def test_set_route_persists_choice_in_config_file(client: httpx.AsyncClient, terma_home: Path) -> None:
    response = await client.post("/api/llm/set", json={"provider": "openai", "model": "gpt-4-turbo"})

    assert response.json() == {"status": "success"}
    saved = json.loads((terma_home / ".terma" / "config.json").read_text(encoding="utf-8"))
    assert (saved["llm"]["provider"], saved["llm"]["model"]) == ("openai", "gpt-4-turbo")
    providers = (await client.get("/api/llm/providers")).json()
    assert (providers["current_provider"], providers["current_model"]) == ("openai", "gpt-4-turbo")
    assert (await client.get("/api/llm/models/openai")).json()["current_model"] == "gpt-4-turbo"


async def test_set_route_rejects_unknown_choices_without_writing(client: httpx.AsyncClient, terma_home: Path) -> None:
    unknown_provider = await client.post("/api/llm/set", json={"provider": "nope", "model": "gpt-4"})
    unknown_model = await client.post("/api/llm/set", json={"provider": "openai", "model": "claude-3-opus-20240229"})

    assert (unknown_provider.status_code, unknown_model.status_code) == (404, 404)
    assert not (terma_home / ".terma" / "config.json").exists()


async def test_terma_environment_overrides_config_file(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMA_LLM_PROVIDER", "local")
    monkeypatch.setenv("TERMA_LLM_MODEL", "llama-2-13b")

    body = (await client.get("/api/llm/providers")).json()

    assert (body["current_provider"], body["current_model"]) == ("local", "llama-2-13b")
