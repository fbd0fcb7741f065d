"""tekton-llm-client: the shared client for Rhetor, Tekton's central LLM service.

Names are loaded on first use (PEP 562), so ``import tekton_llm_client`` stays cheap for the many components that
import it at start-up; ``httpx`` itself is imported only when the first connection opens.

Quick start::

    from tekton_llm_client import TektonLLMClient

    async with TektonLLMClient("my-component") as client:
        answer = await client.generate_text("Hello")
        print(answer.content)
"""

from __future__ import annotations

import logging as _logging
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

# Library convention: the application decides where log records go. Without this, an application that never
# configured logging would get our WARNING lines on stderr through logging's last-resort handler.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

# name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    # client
    "TektonLLMClient": "client",
    "Client": "client",
    "BatchResult": "client",
    "EmptyAnswerError": "exceptions",
    "BudgetLimit": "budget",
    "TextStream": "_stream",
    "SyncTektonLLMClient": "sync",
    "TektonLLMWebSocketClient": "ws_client",
    # settings and environment
    "ClientSettings": "settings",
    "LLMSettings": "settings",
    "load_settings": "settings",
    "save_settings": "settings",
    "get_default_settings": "settings",
    "get_env": "env",
    "get_env_bool": "env",
    "get_env_int": "env",
    "get_env_float": "env",
    "get_env_list": "env",
    "get_env_dict": "env",
    "set_env": "env",
    "has_env": "env",
    "ClientConfig": "config",
    # templates, parsing, streams
    "PromptTemplate": "templates",
    "PromptTemplateRegistry": "templates",
    "TemplateCollection": "templates",
    "load_template": "templates",
    "JSONParser": "json_utils",
    "parse_json": "json_utils",
    "extract_json": "json_utils",
    "StructuredOutputParser": "structured",
    "OutputFormat": "structured",
    "StreamHandler": "stream_handler",
    "collect_stream": "stream_handler",
    "stream_to_string": "stream_handler",
    # models
    "Message": "models",
    "ChatMessage": "models",
    "MessageRole": "models",
    "ChatRole": "models",
    "CompletionOptions": "models",
    "ChatCompletionOptions": "models",
    "CompletionResponse": "models",
    "StreamingChunk": "models",
    "AvailableProviders": "models",
    "HealthStatus": "models",
    "ChatCompletion": "models",
    "ChatCompletionChunk": "models",
    "Choice": "models",
    "ChunkChoice": "models",
    "Delta": "models",
    "Usage": "models",
    # adapters
    "LocalFallbackAdapter": "adapters.fallback",
    "FallbackAdapter": "adapters.fallback",
    # resilience
    "ContextManager": "context_manager",
    "BudgetTracker": "budget",
    "ResponseCache": "cache",
    "RateLimits": "_ratelimit",
    # exceptions
    "TektonLLMError": "exceptions",
    "ConnectionError": "exceptions",
    "TimeoutError": "exceptions",
    "AuthenticationError": "exceptions",
    "PermissionDeniedError": "exceptions",
    "InvalidRequestError": "exceptions",
    "RequestValidationError": "exceptions",
    "NotFoundError": "exceptions",
    "MethodNotAllowedError": "exceptions",
    "RateLimitError": "exceptions",
    "ServerError": "exceptions",
    "ServiceUnavailableError": "exceptions",
    "StreamBrokenError": "exceptions",
    "HTTPStatusError": "exceptions",
    "ConflictError": "exceptions",
    "RequestTimeoutError": "exceptions",
    "ProtocolError": "exceptions",
    "MissingTextError": "exceptions",
    "ProviderError": "exceptions",
    "IncompleteStreamError": "exceptions",
    "UnsupportedOperation": "exceptions",
    "BudgetExceededError": "exceptions",
    "ClientRateLimitError": "exceptions",
    "ConfigurationError": "exceptions",
    "AdapterError": "exceptions",
    "FallbackError": "exceptions",
    "JSONParsingError": "exceptions",
    "FormatError": "exceptions",
    "TemplateError": "exceptions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tekton_llm_client' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from ._ratelimit import RateLimits
    from ._stream import TextStream
    from .adapters.fallback import FallbackAdapter, LocalFallbackAdapter
    from .budget import BudgetLimit, BudgetTracker
    from .cache import ResponseCache
    from .client import BatchResult, Client, TektonLLMClient
    from .config import ClientConfig
    from .context_manager import ContextManager
    from .env import get_env, get_env_bool, get_env_dict, get_env_float, get_env_int, get_env_list, has_env, set_env
    from .exceptions import (
        AdapterError,
        AuthenticationError,
        BudgetExceededError,
        ClientRateLimitError,
        ConfigurationError,
        ConflictError,
        ConnectionError,
        EmptyAnswerError,
        FallbackError,
        FormatError,
        HTTPStatusError,
        IncompleteStreamError,
        InvalidRequestError,
        JSONParsingError,
        MethodNotAllowedError,
        MissingTextError,
        NotFoundError,
        PermissionDeniedError,
        ProtocolError,
        ProviderError,
        RateLimitError,
        RequestTimeoutError,
        RequestValidationError,
        ServerError,
        ServiceUnavailableError,
        StreamBrokenError,
        TektonLLMError,
        TemplateError,
        TimeoutError,
        UnsupportedOperation,
    )
    from .json_utils import JSONParser, extract_json, parse_json
    from .models import (
        AvailableProviders,
        ChatCompletion,
        ChatCompletionChunk,
        ChatCompletionOptions,
        ChatMessage,
        ChatRole,
        Choice,
        ChunkChoice,
        CompletionOptions,
        CompletionResponse,
        Delta,
        HealthStatus,
        Message,
        MessageRole,
        StreamingChunk,
        Usage,
    )
    from .settings import ClientSettings, LLMSettings, get_default_settings, load_settings, save_settings
    from .stream_handler import StreamHandler, collect_stream, stream_to_string
    from .structured import OutputFormat, StructuredOutputParser
    from .sync import SyncTektonLLMClient
    from .templates import PromptTemplate, PromptTemplateRegistry, TemplateCollection, load_template
    from .ws_client import TektonLLMWebSocketClient
