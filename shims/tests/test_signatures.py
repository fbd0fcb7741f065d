"""Each shim class against a table written from legacy-adapters.md: members, parameters, defaults, async-ness.

Callers pass arguments by keyword and await (or do not await) each method exactly as the legacy class required,
so any drift here is a runtime break in a component. The tables are the contract; ``EXTENSIONS`` lists the few
members the shims add on purpose.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

REQUIRED = inspect.Parameter.empty
SYNC, ASYNC, ASYNC_GEN = "sync", "async", "async generator"

# name -> (kind, [(parameter, default)], {keyword-only parameter: default})
Method = tuple[str, list[tuple[str, Any]], dict[str, Any]]

PROVIDER_METHODS: dict[str, Method] = {
    "get_available_providers": (ASYNC, [], {}),
    "get_current_provider_and_model": (SYNC, [], {}),
    "set_provider_and_model": (SYNC, [("provider_id", REQUIRED), ("model_id", REQUIRED)], {}),
}

CHAT_METHODS: dict[str, Method] = {
    "chat": (
        ASYNC,
        [("messages", REQUIRED), ("model", None), ("temperature", 0.7), ("max_tokens", None), ("stream", False),
         ("system_prompt", None)],
        {},
    ),
    "get_available_models": (SYNC, [], {}),
}

PRIVATE_CHAT_METHODS: dict[str, Method] = {
    "_stream_chat": (
        ASYNC_GEN,
        [("messages", REQUIRED), ("model", None), ("temperature", 0.7), ("max_tokens", None), ("system_prompt", None)],
        {},
    ),
    "_get_fallback_response": (SYNC, [], {}),
}

EXTENSIONS: dict[str, Method] = {"aclose": (ASYNC, [], {})}
EXTENSION_ATTRIBUTES = {"llm_url"}

TABLE: dict[str, dict[str, Any]] = {
    "terma": {
        "init": ([("config_path", None)], {"adapter_url": None}),
        "attributes": {"config", "adapter_url", "adapter_ws_url", "provider", "model", "system_prompt"},
        "methods": {
            "add_message": (SYNC, [("session_id", REQUIRED), ("message", REQUIRED), ("role", "user")], {}),
            "clear_context": (SYNC, [("session_id", REQUIRED)], {}),
            "set_provider_and_model": (SYNC, [("provider", REQUIRED), ("model", REQUIRED)], {}),
            "get_current_provider_and_model": (SYNC, [], {}),
            "get_available_providers": (ASYNC, [], {}),
            "analyze_command": (ASYNC, [("session_id", REQUIRED), ("command", REQUIRED)], {}),
            "analyze_output": (ASYNC, [("session_id", REQUIRED), ("command", REQUIRED), ("output", REQUIRED)], {}),
            "stream_command_analysis": (
                ASYNC, [("session_id", REQUIRED), ("command", REQUIRED), ("callback", REQUIRED)], {}
            ),
            "get_terminal_help": (ASYNC, [("session_id", REQUIRED), ("task", REQUIRED)], {}),
        },
        "private": {"_get_session_context": (SYNC, [("session_id", REQUIRED)], {})},
        "private_attributes": {"_session_contexts"},
    },
    "hermes": {
        "init": ([("adapter_url", None)], {}),
        "attributes": {"adapter_url", "default_provider", "default_model"},
        "methods": {
            **PROVIDER_METHODS,
            "analyze_message": (ASYNC, [("message_content", REQUIRED), ("message_type", "standard")], {}),
            "analyze_service": (ASYNC, [("service_data", REQUIRED)], {}),
            "chat": (ASYNC, [("message", REQUIRED), ("chat_history", None)], {}),
            "streaming_chat": (ASYNC, [("message", REQUIRED), ("callback", REQUIRED), ("chat_history", None)], {}),
        },
        "private": {},
        "private_attributes": set(),
    },
    "telos": {
        "init": ([("adapter_url", None)], {}),
        "attributes": {"adapter_url", "default_provider", "default_model", "ws_url", "ws_port"},
        "methods": {
            **PROVIDER_METHODS,
            **CHAT_METHODS,
            # v2 names positionally; v1's requirement_text as a keyword (dispatch on the argument type).
            "analyze_requirement": (
                ASYNC, [("requirement", None), ("context", None), ("model", None)], {"requirement_text": None}
            ),
            "refine_requirement": (
                ASYNC, [("requirement", None), ("feedback", None), ("model", None)], {"requirement_text": None}
            ),
            "validate_requirements": (
                ASYNC, [("requirements", REQUIRED), ("validation_criteria", REQUIRED), ("model", None)], {}
            ),
            "detect_conflicts": (ASYNC, [("requirements", REQUIRED), ("model", None)], {}),
            "generate_acceptance_criteria": (
                ASYNC, [("requirement", REQUIRED), ("context", None), ("model", None)], {}
            ),
        },
        "private": {
            **PRIVATE_CHAT_METHODS,
            "_parse_requirement_analysis": (SYNC, [("response", REQUIRED)], {}),
            "_parse_refined_requirement": (SYNC, [("response", REQUIRED), ("original", REQUIRED)], {}),
        },
        "private_attributes": set(),
    },
    "engram": {
        "init": ([("adapter_url", None)], {}),
        "attributes": {"adapter_url", "default_provider", "default_model", "ws_url", "ws_port"},
        "methods": {
            **CHAT_METHODS,
            "analyze_memory": (ASYNC, [("content", REQUIRED), ("context", None), ("model", None)], {}),
            "categorize_memory": (ASYNC, [("content", REQUIRED), ("categories", REQUIRED), ("model", None)], {}),
            "summarize_memories": (ASYNC, [("memories", REQUIRED), ("model", None)], {}),
        },
        "private": {**PRIVATE_CHAT_METHODS, "_get_client": (ASYNC, [], {})},
        "private_attributes": set(),
    },
}


def kind_of(function: Any) -> str:
    # A recorded async-generator method is a plain function answering the method's own generator (unwrapped
    # while telemetry is off, see _shim_calls): its kind is the legacy method's, under ``__wrapped__``.
    if inspect.isasyncgenfunction(inspect.unwrap(function)):
        return ASYNC_GEN
    return ASYNC if inspect.iscoroutinefunction(function) else SYNC


def shape(function: Any) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """Positional-or-keyword parameters with defaults, and keyword-only ones (``self`` dropped)."""
    params = list(inspect.signature(function).parameters.values())[1:]
    assert all(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params), function
    positional = [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    return positional, keyword


def adapter_class(shim: str) -> Any:
    return importlib.import_module(f"tekton_llm_shims.{shim}").LLMAdapter


@pytest.mark.parametrize("shim", list(TABLE))
def test_class_name_and_module_exports(shim: str) -> None:
    module = importlib.import_module(f"tekton_llm_shims.{shim}")

    assert module.LLMAdapter.__name__ == "LLMAdapter"
    assert "LLMAdapter" in module.__all__ and all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("shim", list(TABLE))
def test_constructor(shim: str) -> None:
    assert shape(adapter_class(shim).__init__) == TABLE[shim]["init"]


@pytest.mark.parametrize("shim", list(TABLE))
def test_public_members_are_exactly_the_legacy_surface_plus_extensions(shim: str) -> None:
    instance = adapter_class(shim)()
    spec = TABLE[shim]

    public = {name for name in dir(instance) if not name.startswith("_")}

    assert public == set(spec["methods"]) | spec["attributes"] | set(EXTENSIONS) | EXTENSION_ATTRIBUTES


@pytest.mark.parametrize(
    ("shim", "name"),
    [(shim, name) for shim, spec in TABLE.items() for name in [*spec["methods"], *spec["private"], *EXTENSIONS]],
)
def test_method_signature_and_async_ness(shim: str, name: str) -> None:
    spec = TABLE[shim]
    kind, positional, keyword = {**spec["methods"], **spec["private"], **EXTENSIONS}[name]
    method = getattr(adapter_class(shim), name)

    assert kind_of(method) == kind
    assert shape(method) == (positional, keyword)


@pytest.mark.parametrize("shim", list(TABLE))
def test_attributes_exist_on_instances(shim: str) -> None:
    instance = adapter_class(shim)()

    for name in TABLE[shim]["attributes"] | TABLE[shim]["private_attributes"]:
        assert hasattr(instance, name), name
