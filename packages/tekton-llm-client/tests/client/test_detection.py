"""Automatic generation detection (once per client) and pinning with RHETOR_API."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import exceptions as exc


@pytest.mark.parametrize("profile", ["v1", "v1-as-shipped", "classic", "classic-as-shipped"])
async def test_detects_generation(make_server: Any, make_client: Any, profile: str) -> None:
    server = make_server(profile)
    client = make_client(server.url)
    assert await client.initialize() is True
    assert client.dialect == profile.split("-", maxsplit=1)[0]


async def test_detection_happens_once(make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    client = make_client(server.url)
    await client.generate_text("one")
    await client.generate_text("two")
    await client.get_providers()
    assert server.attempts("/health") == 1


async def test_pinned_api_skips_detection(make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_server("v1")
    monkeypatch.setenv("RHETOR_API", "v1")
    client = make_client(server.url)
    await client.generate_text("pinned")
    assert server.attempts("/health") == 0


async def test_adapter_service_is_refused_clearly(make_server: Any, make_client: Any) -> None:
    server = make_server("adapter")
    client = make_client(server.url)
    with pytest.raises(exc.ConfigurationError, match="LLM Adapter"):
        await client.generate_text("wrong server")


async def test_initialize_false_when_unreachable(make_client: Any) -> None:
    from tekton_llm_client.testing import closed_port

    client = make_client(f"http://127.0.0.1:{closed_port()}")
    assert await client.initialize() is False


async def test_health(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    health = await client.health()
    assert health.healthy and health.status == "healthy"
    assert health.raw["version"] == "0.1.0"


async def test_providers_and_set_provider(make_server: Any, make_client: Any) -> None:
    classic = make_server("classic")
    client = make_client(classic.url)
    providers = await client.get_providers()
    assert providers.providers["simulated"]["available"] is True
    assert "simulated-advanced" in providers.providers["simulated"]["models"]
    assert providers.default_provider == "simulated"
    result = await client.set_provider("simulated", "simulated-advanced")
    assert result["success"] is True
    with pytest.raises(exc.InvalidRequestError, match="not available"):
        await client.set_provider("simulated", "nope")
    v1 = make_server("v1")
    v1_client = make_client(v1.url)
    listing = await v1_client.get_providers()
    assert "simulated-fast" in listing.providers["simulated"]["models"]
    with pytest.raises(exc.UnsupportedOperation):
        await v1_client.set_provider("simulated", "simulated-fast")


async def test_v1_as_shipped_providers_fall_back_to_configuration(make_server: Any, make_client: Any) -> None:
    server = make_server("v1-as-shipped")
    client = make_client(server.url, provider_id="anthropic", model_id="claude-3-haiku-20240307")
    listing = await client.get_providers()
    assert listing.default_model == "claude-3-haiku-20240307"
    assert "claude-3-haiku-20240307" in listing.providers["anthropic"]["models"]


async def test_contexts_and_budget_reads(server: Any, make_client: Any) -> None:
    client = make_client(server.url)
    assert await client.clear_context("test:ctx") is True
    usage = await client.get_budget_usage()
    assert usage["period"] == "daily"
    if server.profile == "classic":
        status = await client.get_budget_status()
        assert "daily" in status
        context = await client.get_context("test:ctx")
        assert context["context_id"] == "test:ctx"
    else:
        with pytest.raises(exc.UnsupportedOperation):
            await client.get_budget_status()
