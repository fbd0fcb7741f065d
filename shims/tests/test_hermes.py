"""Hermes shim: environment, provider methods, analyses, chat and streaming chat against both generations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims import _common
from tekton_llm_shims.hermes import LLMAdapter

HERMES_SYSTEM = (
    "You are a helpful assistant for the Hermes component in the Tekton platform. \n"
    "                Hermes provides message bus and service discovery capabilities for the Tekton system.\n"
    "                You can help users understand how Hermes works, how services register and communicate,\n"
    "                and provide debugging assistance for message routing and service discovery issues."
)
MESSAGE_PROMPT = json.loads(
    '"\\n            Analyze the following message that was sent through the Hermes message bus. \\n            Extract'
    " key information such as:\\n            1. Message purpose - What is the goal of this message?\\n           "
    " 2. Components involved - Which components are mentioned or interacting?\\n            3. Data contents - What"
    " key data is being transmitted?\\n            4. Priority - How urgent or important does this message appear"
    " to be?\\n            \\n            Provide a brief summary of what this message is trying to accomplish in the"
    ' system.\\n            \\n            Message:\\n            "'
)
SERVICE_PROMPT = json.loads(
    '"\\n            Analyze the following service registration in the Tekton platform. \\n            Extract key'
    " information such as:\\n            1. Service capabilities - What functionality does this service provide?\\n "
    "           2. Dependencies - What other services might this service depend on?\\n            3. Integration"
    " points - How would other services interact with this one?\\n            4. Potential use cases - What"
    " problems does this service solve?\\n            \\n            Provide a brief summary of this service's role"
    ' in the system.\\n            \\n            Service Data:\\n            "'
)
TROUBLE = "I'm having trouble connecting to my language model service. Please try again later."


def fallback_providers(provider: str, model: str) -> dict[str, Any]:
    return {
        provider: {
            "available": True,
            "models": [
                {"id": model, "name": "Default Model"},
                {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
                {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            ],
        }
    }


# -- construction -----------------------------------------------------------------------------------------------


def test_defaults_and_legacy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = LLMAdapter()
    assert (plain.adapter_url, plain.default_provider, plain.default_model) == (
        "http://localhost:8003",
        "anthropic",
        "claude-3-haiku-20240307",
    )
    assert plain.llm_url == "http://localhost:8003"

    monkeypatch.setenv("RHETOR_PORT", "8111")
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4")
    ported = LLMAdapter()
    assert (ported.adapter_url, ported.llm_url) == ("http://localhost:8111", "http://localhost:8111")
    assert ported.get_current_provider_and_model() == ("openai", "gpt-4")

    monkeypatch.setenv("LLM_ADAPTER_URL", "http://rhetor.internal:8003")
    assert LLMAdapter().llm_url == "http://rhetor.internal:8003"
    assert LLMAdapter("http://explicit:1").adapter_url == "http://explicit:1"
    assert LLMAdapter(adapter_url="http://explicit:1").llm_url == "http://explicit:1"


def test_standard_variables_win_over_legacy_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_ADAPTER_URL", "http://legacy:8003")
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4")
    monkeypatch.setenv("RHETOR_URL", "http://standard:8003")
    monkeypatch.setenv("RHETOR_DEFAULT_PROVIDER", "simulated")
    monkeypatch.setenv("RHETOR_DEFAULT_MODEL", "simulated-fast")

    adapter = LLMAdapter()

    assert adapter.adapter_url == "http://legacy:8003"  # the reported legacy attribute
    assert adapter.llm_url == "http://standard:8003"  # where requests go
    assert adapter.get_current_provider_and_model() == ("simulated", "simulated-fast")


def test_retired_adapter_service_url_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LLM_ADAPTER_URL", "http://localhost:8300")
    monkeypatch.setenv("RHETOR_PORT", "8004")

    _common._logged_retired.clear()

    with caplog.at_level("WARNING", logger="tekton_llm_shims"):
        adapter = LLMAdapter()
        LLMAdapter()

    assert adapter.adapter_url == "http://localhost:8300"
    assert adapter.llm_url == "http://localhost:8004"
    ignored = [r for r in caplog.records if "LLM_ADAPTER_URL=http://localhost:8300" in r.getMessage()]
    assert len(ignored) == 1  # logged once per process, not per construction


async def test_construction_does_no_network_io(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    assert rhetor.requests == []
    assert adapter._client is None


def test_set_provider_and_model_is_in_memory_only(clean_env: Path) -> None:
    adapter = LLMAdapter()

    adapter.set_provider_and_model("openai", "gpt-4o")

    assert adapter.get_current_provider_and_model() == ("openai", "gpt-4o")
    assert LLMAdapter().get_current_provider_and_model() == ("anthropic", "claude-3-haiku-20240307")
    assert list(clean_env.iterdir()) == []


# -- providers --------------------------------------------------------------------------------------------------


async def test_get_available_providers(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    adapter.set_provider_and_model("simulated", "simulated-fast")

    providers = await adapter.get_available_providers()

    if rhetor.profile == "classic":
        assert providers == httpx.get(rhetor.url + "/providers").json()  # the raw body, unwrapped
    else:
        assert providers == fallback_providers("simulated", "simulated-fast")
    await adapter.aclose()


async def test_get_available_providers_outage(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    assert await adapter.get_available_providers() == fallback_providers("anthropic", "claude-3-haiku-20240307")


# -- chat -------------------------------------------------------------------------------------------------------


async def test_chat_sends_system_history_and_message(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    adapter.set_provider_and_model("simulated", "simulated-advanced")
    history = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"}]

    result = await adapter.chat("What is Hermes?", chat_history=history)

    assert set(result) == {"message", "success"}
    assert result["success"] is True
    assert 'I received your message: "What is Hermes?". I see a conversation with 4 messages.' in result["message"]
    wire.check(
        messages=[
            {"role": "system", "content": HERMES_SYSTEM}, *history, {"role": "user", "content": "What is Hermes?"}
        ],
        model="simulated-advanced",
        provider="simulated",
        context_id="hermes:chat",
        task_type="chat",
        component="hermes",
        stream=False,
    )
    await adapter.aclose()


async def test_chat_service_failure(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()

    assert await adapter.chat("hi") == {"message": TROUBLE, "success": False}
    await adapter.aclose()


@pytest.mark.parametrize("rhetor", ["classic"], indirect=True)  # v1 reports provider errors with HTTP 500
async def test_chat_in_band_error_is_a_service_failure(rhetor: RhetorTestServer) -> None:
    """Classic Rhetor's HTTP 200 ``{"error": …}``. The original read it as an answer without text and returned
    ``{"message": "", "success": True}``; the shim reports the failure (MIGRATION.md §5.1, spec §0.3)."""
    rhetor.faults.error_in_200 = True
    adapter = LLMAdapter()

    assert await adapter.chat("hi") == {"message": TROUBLE, "success": False}
    await adapter.aclose()


@pytest.mark.parametrize("rhetor", ["classic"], indirect=True)
async def test_analyze_message_in_band_error_is_the_failure_dict_not_an_empty_analysis(
    rhetor: RhetorTestServer,
) -> None:
    rhetor.faults.error_in_200 = True
    adapter = LLMAdapter()

    analysis = await adapter.analyze_message("m")

    # The original parsed the missing text into an empty 6-key analysis; a failure keeps its 5-key failure shape.
    assert analysis == {
        "purpose": "Unknown",
        "components": [],
        "data_summary": "Could not analyze message",
        "priority": "Unknown",
        "summary": "Failed to connect to LLM service.",
    }
    await adapter.aclose()


async def test_chat_transport_failure(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    result = await adapter.chat("hi")

    assert result["success"] is False
    assert result["message"].startswith("I encountered an error: ")
    assert result["message"].endswith(". Please try again later.")
    assert len(result["message"]) > len("I encountered an error: . Please try again later.")


# -- streaming chat ---------------------------------------------------------------------------------------------


async def test_streaming_chat_chunks_then_one_done(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    calls: list[dict[str, Any]] = []

    async def callback(data: dict[str, Any]) -> None:
        calls.append(data)

    await adapter.streaming_chat("stream please", callback, chat_history=[{"role": "user", "content": "before"}])

    assert calls[-1] == {"done": True}
    assert [c.get("done") for c in calls].count(True) == 1
    chunks = calls[:-1]
    assert len(chunks) > 1 and all(c["done"] is False and c["chunk"] for c in chunks)
    assert 'I received your message: "stream please"' in "".join(c["chunk"] for c in chunks)
    wire.check(context_id="hermes:chat:streaming", task_type="chat", stream=True, model="claude-3-haiku-20240307")
    assert wire.only()["messages"][1] == {"role": "user", "content": "before"}
    await adapter.aclose()


async def test_streaming_chat_plain_callback(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    calls: list[dict[str, Any]] = []

    await adapter.streaming_chat("hi", calls.append)

    assert calls[-1] == {"done": True} and len(calls) > 2
    await adapter.aclose()


async def test_streaming_chat_service_failure_before_any_chunk(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()
    calls: list[dict[str, Any]] = []

    await adapter.streaming_chat("hi", calls.append)

    assert len(calls) == 1
    assert calls[0] == {
        "chunk": "I'm having trouble connecting to my language model service.",
        "error": "Service Unavailable",  # the server's own text, without status or request id
        "done": True,
    }
    await adapter.aclose()


async def test_streaming_chat_transport_failure(rhetor_down: str) -> None:
    adapter = LLMAdapter()
    calls: list[dict[str, Any]] = []

    await adapter.streaming_chat("hi", calls.append)

    assert len(calls) == 1
    call = calls[0]
    assert set(call) == {"chunk", "error", "done"} and call["done"] is True
    assert call["chunk"] == f"I encountered an error: {call['error']}. Please try again later."


async def test_streaming_chat_failure_after_chunks(rhetor: RhetorTestServer) -> None:
    rhetor.faults.error_after_chunks = 2
    adapter = LLMAdapter()
    calls: list[dict[str, Any]] = []

    await adapter.streaming_chat("hi", calls.append)

    assert [c["done"] for c in calls] == [False, False, True]
    assert calls[-1] == {"chunk": "", "error": "Anthropic Claude is not available.", "done": True}
    await adapter.aclose()


async def test_answer_without_text_field_is_an_empty_answer(textless: Any) -> None:
    adapter = LLMAdapter()

    assert await adapter.chat("hi") == {"message": "", "success": True}  # the original read it with a "" default
    analysis = await adapter.analyze_message("m")
    assert (analysis["purpose"], analysis["full_analysis"]) == ("Unknown", "")


async def test_async_generator_callback_streams_nothing_and_is_reported_once(
    rhetor: RhetorTestServer, wire: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Hermes' REST /chat/stream route passed such a callback (spec §6 #17): calling it runs none of its body.
    _common._warned_callbacks.clear()
    adapter = LLMAdapter()
    ran: list[dict[str, Any]] = []

    async def send(update: dict[str, Any]) -> Any:
        ran.append(update)
        yield f"data: {json.dumps(update)}"

    with caplog.at_level("WARNING", logger="tekton_llm_shims"):
        await adapter.streaming_chat("first", send)
        await adapter.streaming_chat("second", send)

    assert ran == []
    assert [request["stream"] for request in wire.sent()] == [True, True]  # Rhetor was asked both times
    reports = [r.getMessage() for r in caplog.records if "async generator function" in r.getMessage()]
    assert len(reports) == 1 and "send" in reports[0]
    await adapter.aclose()


async def test_streaming_chat_callback_exception_propagates(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    async def callback(data: dict[str, Any]) -> None:
        raise ValueError("consumer failed")

    with pytest.raises(ValueError, match="consumer failed"):
        await adapter.streaming_chat("hi", callback)
    await adapter.aclose()


# -- analyses ---------------------------------------------------------------------------------------------------

MESSAGE_ANSWER = """Message purpose: register a new service
Components involved: Hermes, Engram
- Rhetor
Data contents: service name and port
Priority: high
Summary: Engram announces itself
to the bus."""


async def test_analyze_message(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = MESSAGE_ANSWER
    adapter = LLMAdapter()

    result = await adapter.analyze_message('{"type": "register"}', message_type="registration")

    assert result == {
        "purpose": "register a new service",
        "components": ["Hermes", "Engram", "Rhetor"],
        "data_summary": "service name and port",
        "priority": "high",
        "summary": "Engram announces itself to the bus.",
        "full_analysis": MESSAGE_ANSWER,
    }
    wire.check(
        messages=[{"role": "user", "content": MESSAGE_PROMPT + "\n\n" + '{"type": "register"}'}],
        context_id="hermes:message_analysis:registration",
        task_type="analysis",
        component="hermes",
        model=None,
        provider=None,
    )
    await adapter.aclose()


async def test_analyze_message_failures(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()

    assert await adapter.analyze_message("m") == {
        "purpose": "Unknown",
        "components": [],
        "data_summary": "Could not analyze message",
        "priority": "Unknown",
        "summary": "Failed to connect to LLM service.",
    }
    await adapter.aclose()


async def test_analyze_message_transport_failure(rhetor_down: str) -> None:
    result = await LLMAdapter().analyze_message("m")

    assert {k: v for k, v in result.items() if k != "summary"} == {
        "purpose": "Unknown",
        "components": [],
        "data_summary": "Error in analysis",
        "priority": "Unknown",
    }
    assert result["summary"].startswith("Error analyzing message: ") and len(result) == 5


SERVICE_ANSWER = """Service capabilities:
- stores memories
- semantic search
Dependencies:
- Hermes
Integration points:
- REST API
Use cases:
- recall
Summary: The memory service
of Tekton."""


async def test_analyze_service(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = SERVICE_ANSWER
    adapter = LLMAdapter()
    service = {"name": "engram", "port": 8000, "tags": ["mémoire"]}

    result = await adapter.analyze_service(service)

    assert result == {
        "capabilities": ["stores memories", "semantic search"],
        "dependencies": ["Hermes"],
        "integration_points": ["REST API"],
        "use_cases": ["recall"],
        "summary": "The memory service of Tekton.",
        "full_analysis": SERVICE_ANSWER,
    }
    sent_text = wire.check(context_id="hermes:service_analysis", task_type="analysis")["messages"][0]["content"]
    assert sent_text == SERVICE_PROMPT + "\n\n" + json.dumps(service, indent=2)
    assert "\\u00e9" in sent_text  # ASCII escaping, as json.dumps does by default
    await adapter.aclose()


async def test_analyze_service_failures(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    unserializable = await adapter.analyze_service({"when": object()})
    assert wire.sent() == []  # failed before any request
    wire.fail(503)
    service_failure = await adapter.analyze_service({"name": "x"})

    empty: dict[str, list[str]] = {"capabilities": [], "dependencies": [], "integration_points": [], "use_cases": []}
    assert service_failure == {**empty, "summary": "Failed to connect to LLM service."}
    assert {k: v for k, v in unserializable.items() if k != "summary"} == empty
    assert unserializable["summary"].startswith("Error analyzing service: ")
    await adapter.aclose()
