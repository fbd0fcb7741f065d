"""Telos shim: the v1 and v2 APIs and the post-migration additions, against both generations and outages."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims import _telos_analysis as texts
from tekton_llm_shims.telos import LLMAdapter

FALLBACK = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues or "
    "the service being offline. Please try again later or contact your administrator if the problem persists."
)
REQUIREMENT = {
    "id": "REQ-7",
    "title": "Login",
    "description": "Users log in",
    "type": "functional",
    "priority": "high",
    "acceptance_criteria": ["works", "is fast"],
}
REQ_TEXT = (
    "Requirement ID: REQ-7\nTitle: Login\nDescription: Users log in\nType: functional\nPriority: high\n"
    "Acceptance Criteria:\n- works\n- is fast\n"
)


# -- construction -----------------------------------------------------------------------------------------------


def test_attributes_and_ws_url(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = LLMAdapter()
    assert (adapter.adapter_url, adapter.ws_port, adapter.ws_url) == (
        "http://localhost:8003",
        "8301",
        "ws://localhost:8301",
    )
    assert (adapter.default_provider, adapter.default_model) == ("anthropic", "claude-3-haiku-20240307")

    monkeypatch.setenv("LLM_ADAPTER_WS_PORT", "9001")
    assert LLMAdapter("https://rhetor.example:8443/prefix").ws_url == "wss://rhetor.example:9001"
    assert LLMAdapter("localhost").ws_url == "localhost:9001"


# -- v1: text requirements --------------------------------------------------------------------------------------


async def test_v1_analyze_requirement(rhetor: RhetorTestServer, wire: Any) -> None:
    answer = (
        "Clarity: 8/10\nCompleteness - 6\nTestability score: 7\nSuggestions to improve:\n- Add metrics\n* Name users"
    )
    rhetor.faults.reply = answer
    adapter = LLMAdapter()

    result = await adapter.analyze_requirement("The system shall log users in.")

    assert result == {
        "score": (8 + 6 + 7 + 5) / 40.0,
        "analysis": answer,
        "suggestions": ["Add metrics", "Name users"],
        "scores": {"clarity": 8.0, "completeness": 6.0, "testability": 7.0, "feasibility": 5.0},
    }
    wire.check(
        messages=[{"role": "user", "content": texts.PROMPT_V1_ANALYZE + "\n\nThe system shall log users in."}],
        context_id="telos:requirement_analysis",
        task_type="analysis",
        component="telos",
        model=None,
    )
    await adapter.aclose()


async def test_v1_analyze_failures(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()

    assert await adapter.analyze_requirement(requirement_text="x") == {
        "score": 0.5,
        "analysis": "Failed to connect to LLM service.",
        "suggestions": ["Ensure the requirement is clear and testable."],
    }
    await adapter.aclose()


async def test_v1_outage(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    analysis = await adapter.analyze_requirement("x")
    refinement = await adapter.refine_requirement("the text", "feedback")

    assert analysis["score"] == 0.5 and analysis["suggestions"] == ["Review the requirement manually."]
    assert analysis["analysis"].startswith("Error analyzing requirement: ")
    assert refinement["refined_text"] == "the text" and refinement["changes"] == []
    assert refinement["notes"].startswith("Error refining requirement: ")


async def test_v1_refine_requirement(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = (
        "Improved Requirement: The system shall\nlog users in within 2 s\n- not part of it\n\nChanges Made:\n"
        "- added timing\nignored line\n- clarified actor\nAdditional Notes:\nnote one\n\nnote two"
    )
    adapter = LLMAdapter()

    result = await adapter.refine_requirement("Users log in.", "Be specific")

    assert result == {
        "refined_text": "The system shall\nlog users in within 2 s",
        "changes": ["added timing", "clarified actor"],
        "notes": "note one\n\nnote two",
    }
    expected = (
        texts.PROMPT_V1_REFINE + "\n\nUsers log in.\n\n" + texts.PROMPT_V1_FEEDBACK + "\n\nBe specific\n\n"
        + texts.PROMPT_V1_TASK
    )
    wire.check(
        messages=[{"role": "user", "content": expected}],
        context_id="telos:requirement_refinement",
        task_type="refinement",
    )
    await adapter.aclose()


async def test_v1_refine_service_failure(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()

    assert await adapter.refine_requirement(requirement_text="orig", feedback="fb") == {
        "refined_text": "orig",
        "changes": [],
        "notes": "Failed to connect to LLM service.",
    }
    await adapter.aclose()


async def test_missing_arguments_raise_type_error() -> None:
    adapter = LLMAdapter()

    with pytest.raises(TypeError):
        await adapter.analyze_requirement()
    with pytest.raises(TypeError):
        await adapter.refine_requirement("text only")


# -- v2: requirement dicts --------------------------------------------------------------------------------------

V2_ANSWER = """Clarity: 4/5
Completeness: 3 / 5
Testability 5/5
Feasibility: 2/5
Consistency: 5/5
Suggestions:
- Add acceptance criteria
- Quantify speed
Issues:
- vague actor"""


async def test_v2_analyze_requirement(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = V2_ANSWER
    adapter = LLMAdapter()

    result = await adapter.analyze_requirement(REQUIREMENT, context="banking app")

    assert result == {
        "success": True,
        "analysis": {
            "scores": {"clarity": 4, "completeness": 3, "testability": 5, "feasibility": 2, "consistency": 5},
            "suggestions": ["Add acceptance criteria", "Quantify speed"],
            "issues": ["vague actor"],
            "overall_score": 3.8,
        },
        "raw_response": V2_ANSWER,
    }
    wire.check(
        messages=[
            {"role": "system", "content": texts.SYS_V2_ANALYZE},
            {"role": "user", "content": "Please analyze this requirement:\n\n" + REQ_TEXT},
            {"role": "user", "content": "Consider this additional project context:\n\nbanking app"},
        ],
        temperature=0.3,
        model="claude-3-haiku-20240307",
        provider="anthropic",
        component="telos",
    )
    await adapter.aclose()


async def test_v2_analyze_outage_still_reports_success(rhetor_down: str) -> None:
    result = await LLMAdapter().analyze_requirement({"title": "x"})

    # Kept quirk: chat() answers with the fallback text, so the analysis "succeeds" with zero scores.
    assert result["success"] is True and result["raw_response"] == FALLBACK
    criteria = ("clarity", "completeness", "testability", "feasibility", "consistency")
    assert result["analysis"]["scores"] == dict.fromkeys(criteria, 0)


async def test_v2_exception_outside_chat() -> None:
    result = await LLMAdapter().analyze_requirement({"title": "x"}.items())  # type: ignore[arg-type]

    assert result["success"] is False and result["raw_response"] == "" and result["error"]


async def test_v2_refine_requirement(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = (
        "Title: Fast login\nDescription: Users log in\nwithin 2 seconds\nType: functional\nPriority: critical\n"
        "Acceptance Criteria:\n- login < 2s\n- error shown"
    )
    adapter = LLMAdapter()

    result = await adapter.refine_requirement(REQUIREMENT, "make it faster", model="simulated-fast")

    assert result["success"] is True
    assert result["refined_requirement"] == {
        "id": "REQ-7",
        "title": "Fast login",
        "description": "Users log in\nwithin 2 seconds",
        "type": "functional",
        "priority": "critical",
        "acceptance_criteria": ["login < 2s", "error shown"],
    }
    assert REQUIREMENT["title"] == "Login"  # the input is not modified
    wire.check(
        messages=[
            {"role": "system", "content": texts.SYS_V2_REFINE},
            {"role": "user", "content": "Here is the requirement to refine:\n\n" + REQ_TEXT},
            {"role": "user", "content": "Here is the feedback to incorporate:\n\nmake it faster"},
        ],
        temperature=0.7,
        model="simulated-fast",
    )
    await adapter.aclose()


# -- chat -------------------------------------------------------------------------------------------------------


async def test_chat_text_and_settings(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    text = await adapter.chat(
        [{"role": "user", "content": "hello"}], model="simulated-advanced", temperature=0.2, max_tokens=64,
        system_prompt="Be terse.",
    )

    assert isinstance(text, str) and "As the advanced simulation model" in text
    wire.check(
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hello"}],
        model="simulated-advanced",
        temperature=0.2,
        max_tokens=64,
        provider="anthropic",
        component="telos",
        stream=False,
    )
    await adapter.aclose()


async def test_chat_defaults_none_temperature_and_zero_max_tokens(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    await adapter.chat([{"role": "user", "content": "hi"}], temperature=None, max_tokens=0)

    wire.check(temperature=0.7, max_tokens=None, model="claude-3-haiku-20240307")
    await adapter.aclose()


async def test_chat_failures_become_strings(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    invalid = await adapter.chat([{"role": "user", "content": 5}])  # type: ignore[dict-item]
    wire.fail(503)
    status = await adapter.chat([{"role": "user", "content": "hi"}])

    assert isinstance(invalid, str) and invalid.startswith("Error: ") and "string" in invalid
    assert status == "Error: Failed to get LLM response (Status: 503)"
    await adapter.aclose()


async def test_chat_provider_error_becomes_error_line(rhetor: RhetorTestServer) -> None:
    # Classic Rhetor reports a provider error inside a 200 body (spec §3.2: "Error: {message}"); v1 Rhetor answers it
    # with HTTP 500, which is a service failure with a status - and a healthy server's 500 must not switch to WebSocket.
    rhetor.faults.error_in_200 = True
    adapter = LLMAdapter()
    expected = {
        "classic": "Error: Anthropic Claude is not available.",
        "v1": "Error: Failed to get LLM response (Status: 500)",
    }[rhetor.profile]

    assert await adapter.chat([{"role": "user", "content": "hi"}]) == expected
    await adapter.aclose()


async def test_chat_answer_without_text_field_is_empty(textless: Any) -> None:
    adapter = LLMAdapter()

    assert await adapter.chat([{"role": "user", "content": "hi"}]) == ""  # spec §3.2: the answer text, "" if none
    assert len(textless.bodies) == 1


async def test_chat_outage_gives_fallback_text(rhetor_down: str) -> None:
    adapter = LLMAdapter()

    assert await adapter.chat([{"role": "user", "content": "hi"}]) == FALLBACK
    stream = await adapter.chat([{"role": "user", "content": "hi"}], stream=True)
    assert not isinstance(stream, str)
    assert [piece async for piece in stream] == [FALLBACK]


async def test_chat_stream_yields_text_chunks(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    stream = await adapter.chat([{"role": "user", "content": "stream me"}], stream=True)
    assert not isinstance(stream, str)
    pieces = [piece async for piece in stream]

    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert 'I received your message: "stream me"' in "".join(pieces)
    wire.check(stream=True)
    await adapter.aclose()


async def test_chat_stream_errors(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    rhetor.faults.error_after_chunks = 1

    broken = [p async for p in adapter._stream_chat([{"role": "user", "content": "x"}])]
    rhetor.faults.error_after_chunks = None
    wire.fail(503)
    refused = [p async for p in adapter._stream_chat([{"role": "user", "content": "x"}])]

    assert len(broken) == 2 and broken[0] and not broken[0].startswith("Error")
    assert broken[1] == "Error: Anthropic Claude is not available."  # the server's message, not the client's wrapper
    assert refused == ["Error: Failed to get LLM response (Status: 503)"]
    await adapter.aclose()


# -- models -----------------------------------------------------------------------------------------------------

MODELS_FALLBACK = {
    "anthropic": [
        {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
    ]
}


async def test_get_available_models_sync_then_awaited(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    models = adapter.get_available_models()  # sync inside a running loop: no network
    assert models == MODELS_FALLBACK and rhetor.requests == []
    awaited = await models

    assert awaited is models
    assert {"id": "simulated-fast", "name": "Fast Simulation"} in awaited["simulated"]
    assert adapter.get_available_models() == awaited  # remembered for sync callers
    await adapter.aclose()


async def test_get_available_models_outage(rhetor_down: str) -> None:
    assert await LLMAdapter().get_available_models() == MODELS_FALLBACK


# -- post-migration additions -----------------------------------------------------------------------------------


async def test_validate_requirements(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = (
        "Clarity: PASS - the text is clear\nbecause it is short\nTestability: FAIL\nRecommendation: add numbers"
    )
    adapter = LLMAdapter()
    criteria = ["Clarity: unambiguous", "Testability"]

    result = await adapter.validate_requirements([REQUIREMENT], criteria, model="simulated-fast")

    assert result["success"] is True
    (item,) = result["validation_results"]
    assert item == {
        "requirement_id": "REQ-7",
        "requirement_title": "Login",
        "validation_results": {
            "Clarity: unambiguous": {
                "pass": True, "explanation": "because it is short", "recommendations": []
            },
            "Testability": {"pass": False, "explanation": "", "recommendations": ["add numbers"]},
        },
        "raw_response": rhetor.faults.reply,
        "success": True,
        "model": "simulated-fast",
        "provider": item["provider"],
    }
    assert item["provider"]
    prompt = texts.VALIDATION_PROMPT.format(
        requirement_text=REQ_TEXT, validation_criteria="1. Clarity: unambiguous\n2. Testability\n"
    )
    wire.check(
        messages=[{"role": "system", "content": texts.VALIDATION_SYSTEM}, {"role": "user", "content": prompt}],
        temperature=0.3,
        max_tokens=2000,
        model="simulated-fast",
    )
    await adapter.aclose()


async def test_validate_requirements_outage_reports_per_item(rhetor_down: str) -> None:
    result = await LLMAdapter().validate_requirements([{"id": "A", "title": "t"}, {"id": "B"}], ["Clarity"])

    assert result["success"] is True
    assert [(i["requirement_id"], i["success"], i["validation_results"]) for i in result["validation_results"]] == [
        ("A", False, {}),
        ("B", False, {}),
    ]
    assert all(set(i) == {"requirement_id", "requirement_title", "validation_results", "success", "error"}
               for i in result["validation_results"])


async def test_detect_conflicts_uses_defaults_without_model(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = (
        "Conflict between REQ-1 and REQ-2: both set the timeout.\n\nRecommendation: align them.\n\n"
        "Another conflict between A and B."
    )
    adapter = LLMAdapter()

    result = await adapter.detect_conflicts([{"id": "REQ-1", "title": "a"}, {"id": "REQ-2"}])

    assert result["success"] is True
    assert result["conflicts"] == [
        {
            "requirement_ids": ["REQ-1", "REQ-2"],
            "description": "Conflict between REQ-1 and REQ-2: both set the timeout.",
            "recommendation": "Recommendation: align them.",
        },
        {"requirement_ids": ["A", "B"], "description": "Another conflict between A and B.", "recommendation": ""},
    ]
    listing = (
        "Requirement 1:\nID: REQ-1\nTitle: a\nDescription: N/A\nType: N/A\nPriority: N/A\n\n"
        "Requirement 2:\nID: REQ-2\nTitle: N/A\nDescription: N/A\nType: N/A\nPriority: N/A\n\n"
    )
    wire.check(
        messages=[
            {"role": "system", "content": texts.CONFLICTS_SYSTEM},
            {"role": "user", "content": texts.CONFLICTS_PROMPT.format(requirements_list=listing)},
        ],
        temperature=0.7,
        max_tokens=1500,
        model="claude-3-haiku-20240307",
    )
    await adapter.aclose()


async def test_generate_acceptance_criteria(rhetor: RhetorTestServer, wire: Any) -> None:
    rhetor.faults.reply = "# Criteria\n- Verify login\n* Show an error\n• Lock the account"
    adapter = LLMAdapter()

    result = await adapter.generate_acceptance_criteria(REQUIREMENT, context="web shop", model="simulated-fast")

    assert result["acceptance_criteria"] == ["Verify login", "Show an error", "Lock the account"]
    assert (result["success"], result["model"]) == (True, "simulated-fast")
    prompt = wire.check(temperature=0.5, max_tokens=2000)["messages"][-1]["content"]
    assert "Additional project context:\nweb shop\n" in prompt
    assert "Acceptance Criteria" not in prompt  # the requirement text without its criteria
    await adapter.aclose()


async def test_post_migration_failures(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter()

    conflicts = await adapter.detect_conflicts([REQUIREMENT])
    criteria = await adapter.generate_acceptance_criteria(REQUIREMENT)

    assert set(conflicts) == {"success", "error", "conflicts"} and conflicts["success"] is False
    assert conflicts["conflicts"] == [] and "503" in conflicts["error"]
    assert set(criteria) == {"success", "error", "acceptance_criteria"} and criteria["acceptance_criteria"] == []
    await adapter.aclose()


async def test_provider_methods_of_v1_api(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    adapter.set_provider_and_model("openai", "gpt-4")

    providers = await adapter.get_available_providers()

    assert adapter.get_current_provider_and_model() == ("openai", "gpt-4")
    if rhetor.profile == "v1":
        assert list(providers) == ["openai"]
        assert providers["openai"]["models"][0] == {"id": "gpt-4", "name": "Default Model"}
    else:
        assert providers["default_provider"] == "simulated" and "simulated" in providers["providers"]
    await adapter.aclose()
