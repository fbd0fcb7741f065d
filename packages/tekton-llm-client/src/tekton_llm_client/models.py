"""Typed results and inputs of the client (pydantic v2).

Field names here are the client's own; the wire names of each Rhetor generation live only in the dialects.
The legacy names (``Message``/``ChatMessage``, ``CompletionOptions``, ``StreamingChunk``...) and the OpenAI-shaped
results (``ChatCompletion``...) are kept because real Tekton components construct and read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .exceptions import InvalidRequestError

__all__ = [
    "AvailableProviders",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionOptions",
    "ChatMessage",
    "ChatRole",
    "Choice",
    "ChunkChoice",
    "CompletionOptions",
    "CompletionResponse",
    "Delta",
    "HealthStatus",
    "Message",
    "MessageRole",
    "StreamingChunk",
    "Usage",
    "message_dict",
]


def _now() -> str:
    return datetime.now().isoformat()


class MessageRole(str, Enum):
    """Role of a chat message; members compare equal to their string values."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    FUNCTION = "function"
    TOOL = "tool"

    def __str__(self) -> str:
        return self.value


ChatRole = MessageRole


class Message(BaseModel):
    """One chat message. ``role`` accepts a ``MessageRole`` or a case-insensitive string."""

    model_config = ConfigDict(extra="ignore")

    role: MessageRole
    content: str
    name: str | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _lower_role(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, MessageRole):
            return value.strip().lower()
        return value

    def to_dict(self) -> dict[str, str]:
        """The ``{"role", "content"}`` dict every Rhetor generation takes."""
        data = {"role": self.role.value, "content": self.content}
        if self.name:
            data["name"] = self.name
        return data


ChatMessage = Message


def message_dict(message: Any) -> dict[str, str]:
    """Any message shape callers use (``Message``, a ``{"role", "content"}`` mapping, an object with ``role`` and
    ``content``) as the plain dict every Rhetor generation takes. The one place messages are normalised."""
    if isinstance(message, dict):  # the common shape first: ``Message`` and ``Mapping`` checks go through ABCMeta
        role, content = message.get("role"), message.get("content")
    elif isinstance(message, Message):
        return message.to_dict()
    elif isinstance(message, Mapping):
        role, content = message.get("role"), message.get("content")
    else:
        role, content = getattr(message, "role", None), getattr(message, "content", None)
    if type(role) is not str:  # a MessageRole (or another enum) gives its value
        role = getattr(role, "value", role)
    if not isinstance(role, str) or not role:
        raise InvalidRequestError(f"every message needs a role, got {type(message).__name__}")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise InvalidRequestError(f"message content must be a string, got {type(content).__name__}")
    return {"role": role.lower(), "content": content}


class CompletionOptions(BaseModel):
    """Generation options (legacy shape, plus ``stream`` and ``model`` which callers pass)."""

    model_config = ConfigDict(extra="allow")

    temperature: float | None = 0.7
    max_tokens: int | None = None
    stop_sequences: list[str] | None = None
    top_p: float | None = None
    top_k: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    fallback_provider: str | None = None
    fallback_model: str | None = None
    timeout: float | None = 120
    retry_count: int | None = 3
    retry_delay: int | None = 1000
    stream: bool = False
    model: str | None = None


class ChatCompletionOptions(CompletionOptions):
    """Chat options; ``messages`` is optional because components build it without them."""

    messages: list[Message] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    system_message: str | None = None

    def add_system_message(self, content: str) -> None:
        """Put a system message first (replacing an existing leading one), as the legacy helper did."""
        self.system_message = content
        messages = list(self.messages or [])
        if messages and messages[0].role is MessageRole.SYSTEM:
            messages[0] = Message(role=MessageRole.SYSTEM, content=content)
        else:
            messages.insert(0, Message(role=MessageRole.SYSTEM, content=content))
        self.messages = messages


class StreamingChunk(BaseModel):
    """One piece of a streamed answer. ``str(chunk)`` is its text, because consumers treat items as strings."""

    model_config = ConfigDict(extra="ignore")

    chunk: str = ""
    context_id: str = ""
    model: str = ""
    provider: str = ""
    timestamp: str = Field(default_factory=_now)
    done: bool = False
    fallback: bool = False
    error: str | None = None
    request_id: str | None = None

    @property
    def text(self) -> str:
        """The chunk's text (alias of ``chunk``)."""
        return self.chunk

    def __str__(self) -> str:
        return self.chunk


class CompletionResponse(BaseModel):
    """A complete answer. ``fallback`` is true when the fallback chain (not Rhetor) produced it."""

    model_config = ConfigDict(extra="ignore")

    content: str
    model: str = ""
    provider: str = ""
    finish_reason: str | None = "stop"
    usage: dict[str, int] | None = None
    context_id: str = ""
    fallback: bool = False
    timestamp: str = Field(default_factory=_now)
    latency: float | None = None
    error: str | None = None
    request_id: str | None = None

    @property
    def success(self) -> bool:
        """True when no error was reported."""
        return self.error is None

    def __str__(self) -> str:
        return self.content


class AvailableProviders(BaseModel):
    """Providers and their models: ``providers[id]["models"]`` maps model id to ``{"id", "name", ...}``."""

    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    default_provider: str = ""
    default_model: str = ""


class HealthStatus(BaseModel):
    """What ``health()`` learned: the status, the detected generation and the raw body."""

    status: str
    healthy: bool
    dialect: str | None = None
    version: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class Usage(NamedTuple):
    """Token usage (a named tuple, so callers can use ``._asdict()``)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Choice(BaseModel):
    """One choice of an OpenAI-shaped completion."""

    index: int = 0
    message: Message
    finish_reason: str | None = "stop"


class ChatCompletion(BaseModel):
    """OpenAI-shaped completion; ``content`` is ``choices[0].message.content``."""

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    provider: str = ""
    choices: list[Choice]
    usage: Usage | None = None
    #: True when the fallback chain (not Rhetor) answered; ``error`` then says why (local canned answer).
    fallback: bool = False
    error: str | None = None

    @property
    def content(self) -> str:
        """Text of the first choice."""
        return self.choices[0].message.content


class Delta(BaseModel):
    """Incremental message content of a streamed choice."""

    role: str | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The single choice of an OpenAI-shaped stream chunk."""

    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    """OpenAI-shaped stream chunk; ``fallback`` marks every chunk of a fallback answer (``error`` its last one)."""

    id: str = ""
    object: str = "chat.completion.chunk"
    model: str = ""
    choices: list[ChunkChoice]
    fallback: bool = False
    error: str | None = None
