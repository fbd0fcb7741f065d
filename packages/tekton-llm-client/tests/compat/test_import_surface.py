"""compat-api.md §1: every name importable from its path; aliases are the same objects."""

from __future__ import annotations

import importlib

import pytest

TOP = [
    "TektonLLMClient", "Client", "ClientSettings", "LLMSettings", "load_settings", "get_env", "PromptTemplateRegistry",
    "PromptTemplate", "load_template", "JSONParser", "parse_json", "extract_json", "StructuredOutputParser",
    "OutputFormat", "StreamHandler", "collect_stream", "stream_to_string", "TektonLLMWebSocketClient",
    "ConnectionError", "TimeoutError", "AuthenticationError", "FormatError", "get_env_bool", "get_env_int",
    "get_env_float", "get_env_list", "get_env_dict", "set_env", "has_env", "save_settings", "get_default_settings",
    "ChatRole", "JSONParsingError", "TemplateError", "TektonLLMError", "ChatCompletion", "ChatCompletionChunk",
    "Choice", "ChunkChoice", "Usage", "ConflictError", "RequestTimeoutError", "StreamBrokenError", "MissingTextError",
    "EmptyAnswerError", "IncompleteStreamError", "ProviderError", "ServerError", "NotFoundError",
]
MODELS = ["ChatMessage", "ChatCompletionOptions", "StreamingChunk", "Message", "CompletionOptions", "MessageRole",
          "ChatRole", "ChatCompletion", "Choice", "ChatCompletionChunk", "ChunkChoice", "Usage", "CompletionResponse",
          "AvailableProviders"]
EXCEPTIONS = ["TektonLLMError", "ConnectionError", "TimeoutError", "AuthenticationError", "ServiceUnavailableError",
              "RateLimitError", "InvalidRequestError", "AdapterError", "FallbackError", "JSONParsingError",
              "FormatError", "TemplateError"]


@pytest.mark.parametrize("name", TOP)
def test_top_level(name: str) -> None:
    module = importlib.import_module("tekton_llm_client")
    assert getattr(module, name) is not None


def test_star_import_and_all() -> None:
    namespace: dict[str, object] = {}
    exec("from tekton_llm_client import *", namespace)
    assert "TektonLLMClient" in namespace and "StreamHandler" in namespace


@pytest.mark.parametrize("name", MODELS)
def test_models_module(name: str) -> None:
    assert getattr(importlib.import_module("tekton_llm_client.models"), name) is not None


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_exceptions_module(name: str) -> None:
    exceptions = importlib.import_module("tekton_llm_client.exceptions")
    error = getattr(exceptions, name)
    assert issubclass(error, exceptions.TektonLLMError)
    assert getattr(importlib.import_module("tekton_llm_client"), name, error) is error


def test_aliases_are_identical() -> None:
    import tekton_llm_client as t
    from tekton_llm_client import adapters, models

    assert t.Client is t.TektonLLMClient
    assert models.ChatMessage is models.Message
    assert models.ChatRole is models.MessageRole
    assert adapters.FallbackAdapter is adapters.LocalFallbackAdapter
    assert t.TektonLLMError is importlib.import_module("tekton_llm_client.exceptions").TektonLLMError


def test_parsing_errors_are_value_errors() -> None:
    from tekton_llm_client import FormatError, JSONParsingError, TemplateError

    for cls in (FormatError, JSONParsingError, TemplateError):
        assert issubclass(cls, ValueError)


def test_unknown_attribute() -> None:
    import tekton_llm_client

    with pytest.raises(AttributeError):
        tekton_llm_client.NoSuchThing  # noqa: B018
