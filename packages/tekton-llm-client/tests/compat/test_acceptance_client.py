"""compat-api.md §16, "Client and settings" and "Environment": one test per call shape, against the test server."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import (
    Client,
    ClientSettings,
    FallbackAdapter,
    LLMSettings,
    LocalFallbackAdapter,
    TektonLLMClient,
    get_env,
)
from tekton_llm_client.models import ChatCompletionOptions, ChatMessage, CompletionOptions

ECHO = "I received your message:"


@pytest.fixture
def v1(make_server: Any) -> Any:
    return make_server("v1")


@pytest.fixture
def classic(make_server: Any) -> Any:
    return make_server("classic")


@pytest.fixture
async def settings_client(v1: Any) -> Any:
    client = TektonLLMClient(
        settings=ClientSettings(component_id="c", base_url=v1.url, provider_id="anthropic", model_id="simulated-fast",
                                timeout=120, max_retries=3, use_fallback=True),
        llm_settings=LLMSettings(temperature=0.7, max_tokens=1500, top_p=0.95),
    )
    yield client
    await client.aclose()


async def test_settings_objects_constructor(settings_client: Any, v1: Any) -> None:
    response = await settings_client.generate_text("hello")
    assert response.content.startswith(ECHO) and response.fallback is False
    body = v1.requests[-1].body
    assert body["temperature"] == 0.7 and body["max_tokens"] == 1500
    assert settings_client.config.timeout == 120 and settings_client.component_id == "c"


async def test_generate_text_with_per_call_settings(settings_client: Any, v1: Any) -> None:
    response = await settings_client.generate_text(
        prompt="p", system_prompt="s", settings=LLMSettings(temperature=0.7, max_tokens=1000, model=None, provider=None)
    )
    assert response.content.startswith(ECHO) and response.model == "simulated-fast"
    assert isinstance(response.provider, str)
    assert v1.requests[-1].body["max_tokens"] == 1000  # per-call explicit field wins over llm_settings


async def test_generate_text_settings_none_or_omitted(settings_client: Any) -> None:
    a = await settings_client.generate_text(prompt="p", system_prompt="s", settings=None)
    b = await settings_client.generate_text(prompt="p", system_prompt="s")
    assert a.content == b.content and a.content.startswith(ECHO)


async def test_options_without_initialize(v1: Any, make_client: Any) -> None:
    client = make_client(v1.url)
    response = await client.generate_text(
        prompt="p", system_prompt="s",
        options={"temperature": 0.3, "max_tokens": 3000, "top_p": 0.95, "model": "simulated-advanced"},
    )
    assert response.model == "simulated-advanced"
    body = v1.requests[-1].body
    assert (body["temperature"], body["max_tokens"], body["model"]) == (0.3, 3000, "simulated-advanced")


async def test_chat_history(settings_client: Any, v1: Any) -> None:
    response = await settings_client.generate_text(
        prompt="now", system_prompt="s", settings=LLMSettings(temperature=0.5),
        chat_history=[{"role": "assistant", "content": "earlier answer"}],
    )
    assert "conversation with 3 messages" in response.content
    assert [m["role"] for m in v1.requests[-1].body["messages"]] == ["system", "assistant", "user"]


async def test_awaited_stream(settings_client: Any) -> None:
    stream = await settings_client.generate_text(prompt="p", system_prompt="s", settings=LLMSettings(), streaming=True)
    text = "".join([c.chunk async for c in stream])
    assert text.startswith(ECHO)


async def test_generate_chat_stream_without_await(settings_client: Any) -> None:
    msgs = [{"role": "user", "content": "hermes asks"}]
    parts = [c.chunk async for c in settings_client.generate_chat(messages=msgs, system_prompt="s", settings=None,
                                                                   streaming=True)]
    assert "".join(parts).startswith(f'{ECHO} "hermes asks"')


async def test_generate_chat_awaited(settings_client: Any) -> None:
    response = await settings_client.generate_chat(
        messages=[{"role": "user", "content": "q"}], system_prompt="s", settings=LLMSettings(temperature=0.1))
    assert response.content.startswith(f'{ECHO} "q"')


@pytest.mark.parametrize("profile", ["v1", "classic"])
async def test_get_providers_models_mapping(make_server: Any, make_client: Any, profile: str) -> None:
    client = make_client(make_server(profile).url)
    providers = (await client.get_providers()).providers
    for info in providers.values():
        for model_id, model in info.get("models", {}).items():
            assert model["id"] == model_id and model["name"]
    assert "simulated-fast" in providers["simulated"]["models"]


async def test_client_alias_with_fallback_adapter(v1: Any) -> None:
    client = Client(base_url=v1.url, default_model="simulated-fast",
                    adapter=FallbackAdapter(fallback_models=["simulated-standard", "simulated-advanced"],
                                            max_retries=2),
                    timeout=60)
    try:
        assert Client is TektonLLMClient and FallbackAdapter is LocalFallbackAdapter
        response = await client.generate_text("x")
        assert response.model == "simulated-fast"
        v1.faults.fail_status, v1.faults.fail_times, v1.faults.fail_paths = 500, 1, {"/api/v1/chat"}
        client.retry_policy.max_retries = 0
        client.config = client.config.with_changes(transport="http")
        retried = await client.generate_text("y")
        assert retried.model == "simulated-standard"  # the first fallback model, through Rhetor
    finally:
        await client.aclose()


async def test_local_fallback_adapter_shape(v1: Any) -> None:
    client = TektonLLMClient(base_url=v1.url, default_model="simulated-fast", timeout=60,
                             adapter=LocalFallbackAdapter(fallback_models=["simulated-advanced"], max_retries=2,
                                                          timeout=60))
    try:
        assert (await client.generate_text("z")).content.startswith(ECHO)
        # The primary model fails once (no retries left for it): the adapter's fallback model answers via Rhetor.
        v1.faults.fail_status, v1.faults.fail_times, v1.faults.fail_paths = 500, 1, {"/api/v1/chat"}
        client.retry_policy.max_retries = 0
        retried = await client.generate_text("z again")
        assert retried.content.startswith(ECHO) and retried.fallback is False
        assert retried.model == "simulated-advanced"
        models = [r.body.get("model") for r in v1.requests if r.path == "/api/v1/chat"]
        assert models[-2:] == ["simulated-fast", "simulated-advanced"]
    finally:
        await client.aclose()


async def test_chat_completion_openai_shape(v1: Any, make_client: Any) -> None:
    client = make_client(v1.url)
    completion = await client.chat_completion(
        messages=[ChatMessage(role="system", content="sys"), ChatMessage(role="user", content="openai style")],
        options=ChatCompletionOptions(temperature=0.2, max_tokens=2000, stream=False),
    )
    assert completion.choices[0].message.content.startswith(f'{ECHO} "openai style"')
    assert completion.content == completion.choices[0].message.content
    assert completion.choices[0].message.role == "assistant"
    assert completion.usage is None  # the v1 server answers "usage": null (mapping tested in test_honest_answers)
    assert (completion.fallback, completion.error) == (False, None)
    assert v1.requests[-1].body["temperature"] == 0.2


async def test_stream_chat_completion(v1: Any, make_client: Any) -> None:
    client = make_client(v1.url)
    deltas: list[str] = []
    finishes: list[str | None] = []
    async for c in client.stream_chat_completion(messages=[{"role": "user", "content": "s"}],
                                                 options=CompletionOptions(temperature=0.3, max_tokens=1500,
                                                                           stream=True)):
        deltas.append(c.choices[0].delta.content or "")
        finishes.append(c.choices[0].finish_reason)
    assert "".join(deltas).startswith(f'{ECHO} "s"')
    assert finishes[-1] == "stop" and all(f is None for f in finishes[:-1])


async def test_budget_style_positional_url_list_models_and_chat(v1: Any) -> None:
    client = Client(v1.url)
    try:
        models = await client.list_models()
        assert {"id": "simulated-fast", "provider": "simulated", "name": "Fast Simulation"} in models
        result = await client.chat(model="simulated-fast", messages=[{"role": "user", "content": "budget"}],
                                   temperature=0.7, stop=["\n"])
        assert result["object"] == "chat.completion"
        assert result["choices"][0]["finish_reason"] == "stop"
        assert result["choices"][0]["message"]["content"].startswith(f'{ECHO} "budget"')
        assert "\n" not in result["choices"][0]["message"]["content"]  # stop sequences applied client-side
    finally:
        await client.aclose()


async def test_live_settings_provider_change(classic: Any) -> None:
    settings = ClientSettings(component_id="hermes", base_url=classic.url, provider_id="simulated")
    client = TektonLLMClient(settings=settings)
    try:
        await client.generate_text("first")
        assert classic.requests[-1].body["options"]["provider"] == "simulated"
        settings.provider_id = "openai"
        settings.model_id = "gpt-4"
        await client.generate_text("second")
        assert classic.requests[-1].body["options"] == {"provider": "openai", "model": "gpt-4"}
    finally:
        await client.aclose()


async def test_initialize_and_shutdown(v1: Any) -> None:
    client = TektonLLMClient("c", rhetor_url=v1.url)
    assert await client.initialize() is True
    assert await client.initialize() is True  # idempotent
    await client.shutdown()
    await client.shutdown()
    assert (await client.generate_text("reopened")).content.startswith(ECHO)  # usable again
    await client.shutdown()


def test_get_env_exact_name_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RHETOR_PORT", "9999")
    assert get_env("RHETOR_PORT", "8003") == "9999"
    monkeypatch.delenv("RHETOR_PORT")
    assert get_env("RHETOR_PORT", "8003") == "8003"


def test_get_env_prefixed_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_PROVIDER", raising=False)
    monkeypatch.setenv("TEKTON_LLM_LLM_PROVIDER", "openai")
    assert get_env("LLM_PROVIDER", "anthropic") == "openai"
    monkeypatch.setenv("LLM_PROVIDER", "ollama")
    assert get_env("LLM_PROVIDER", "anthropic") == "ollama"


def test_get_env_prefixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEKTON_LLM_URL", "http://rhetor:8003")
    assert get_env("TEKTON_LLM_URL", "http://localhost:8003") == "http://rhetor:8003"
    monkeypatch.delenv("TEKTON_LLM_URL")
    assert get_env("TEKTON_LLM_URL", "http://localhost:8003") == "http://localhost:8003"
    with pytest.raises(ValueError):
        get_env("SURELY_NOT_SET_ANYWHERE_123", required=True)
