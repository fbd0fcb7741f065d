"""The logical request and stream event: what the client means, before a dialect puts it on the wire.

One ``LLMRequest`` is built per call from the caller's arguments and the resolved settings; each dialect maps it to
its own wire shape (rhetor-protocol.md §13) and maps what comes back to ``StreamEvent``s.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import InvalidRequestError
from .models import message_dict

__all__ = ["LLMRequest", "RequestDefaults", "StreamEvent", "build_request", "new_request_id", "options_dict"]

# Options that map onto fields of the logical request; any other option travels in ``extra``.
_REQUEST_FIELDS = frozenset({"temperature", "max_tokens", "top_p", "model", "provider", "task_type", "timeout"})
# Client settings that may sit among options (``LLMSettings`` carries them) but are never request parameters.
_NOT_REQUEST_OPTIONS = frozenset(
    {
        "stop",
        "stop_sequences",
        "rhetor_url",
        "auth_token",
        "max_retries",
        "retry_delay",
        "use_fallback",
        "templates_dir",
    }
)
_NO_OPTIONS: Mapping[str, Any] = {}
# The fields an options *model* (``CompletionOptions``/``ChatCompletionOptions``) contributes.
_OPTION_MODEL_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "stop_sequences",
    "model",
    "top_k",
    "presence_penalty",
    "frequency_penalty",
    "provider",
    "timeout",
)


def new_request_id() -> str:
    """A short client-side id for logs and errors (Rhetor echoes none, so the client makes its own): 64 random bits
    from the OS, as ``secrets.token_hex(8)`` makes them, without its two extra calls per request (benchmark P2)."""
    return os.urandom(8).hex()


@dataclass(slots=True)
class LLMRequest:
    """One logical generation request.

    ``messages`` holds the conversation (history and current turn) as ``{"role", "content"}`` dicts without the
    system prompt, which travels separately in ``system_prompt`` because every generation places it differently.
    """

    messages: list[dict[str, str]]
    system_prompt: str | None = None
    model: str | None = None
    provider: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    context_id: str | None = None
    task_type: str | None = None
    component: str | None = None
    stream: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    request_id: str = field(default_factory=new_request_id)
    timeout: float | None = None
    #: Record the exchange in the client's ContextManager once answered (client-side only, never sent).
    remember: bool = False

    @property
    def last_user_message(self) -> str:
        """Text of the newest user turn (single-message routes see only this)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content", "")
        return self.messages[-1].get("content", "") if self.messages else ""

    def all_messages(self) -> list[dict[str, str]]:
        """Messages with the system prompt as a leading system message (for routes that take only a list)."""
        if self.system_prompt:
            return [{"role": "system", "content": self.system_prompt}, *self.messages]
        return list(self.messages)


@dataclass(slots=True)
class StreamEvent:
    """One parsed piece of an answer, independent of the wire shape it came in."""

    text: str = ""
    done: bool = False
    error: str | None = None
    model: str | None = None
    provider: str | None = None
    context_id: str | None = None
    fallback: bool = False
    raw: dict[str, Any] | None = None


@dataclass(slots=True)
class RequestDefaults:
    """What a request falls back to when the call does not say: the caller's identity and configured model.

    Made once per call and only read; not frozen, because a frozen dataclass sets each field through
    ``object.__setattr__``, twice the cost of building it (benchmark P2)."""

    component: str
    model: str | None = None
    provider: str | None = None
    context_id: str | None = None


def options_dict(options: Any) -> dict[str, Any]:
    """Per-call options from a dict or an options model (``CompletionOptions``/``ChatCompletionOptions``).

    A dict passes through whole (unknown keys become extra request options); a model contributes its generation
    fields, without the legacy defaults the caller did not set (a default ``temperature``/``timeout`` must not
    override the client's configuration)."""
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return {k: v for k, v in options.items() if v is not None}
    dump = getattr(options, "model_dump", None)
    if not callable(dump):
        raise InvalidRequestError(f"options must be a dict or an options model, got {type(options).__name__}")
    data = dump(exclude_none=True)
    explicit: set[str] = getattr(options, "model_fields_set", set())
    for name in ("temperature", "timeout"):
        if name not in explicit:
            data.pop(name, None)
    return {k: v for k, v in data.items() if k in _OPTION_MODEL_FIELDS}


def _split_system(
    messages: Iterable[Any], system_prompt: str | None, join_system: bool
) -> tuple[list[dict[str, str]], str | None]:
    """Messages without leading system messages, and the system prompt: ``system_prompt`` joined with them, or
    (``join_system=False``, the WebSocket client's rule) replacing them."""
    msgs = [message_dict(m) for m in messages]
    if msgs and msgs[0]["role"] != "system":  # the common case: nothing to take out or join
        return msgs, system_prompt or None
    systems: list[str] = []
    while msgs and msgs[0]["role"] == "system":
        systems.append(msgs.pop(0)["content"])
    if not msgs:
        raise InvalidRequestError("at least one non-system message is required")
    if system_prompt is not None and not join_system:
        systems = []
    joined = "\n\n".join(s for s in [system_prompt or "", *systems] if s)
    return msgs, joined or None


def build_request(
    messages: Iterable[Any],
    defaults: RequestDefaults,
    *,
    system_prompt: str | None = None,
    options: Mapping[str, Any] | None = None,
    context_id: str | None = None,
    stream: bool = False,
    join_system: bool = True,
) -> LLMRequest:
    """The logical request of one call (the one place calls become requests). ``options`` are already merged
    (call options over settings); ``stop_sequences`` is an alias of ``stop``; a string stop is one sequence."""
    msgs, system = _split_system(messages, system_prompt, join_system)
    merged: Mapping[str, Any] = options or _NO_OPTIONS  # read only: no copy
    stop = merged.get("stop", merged.get("stop_sequences"))
    if isinstance(stop, str):
        stop = [stop]
    timeout = merged.get("timeout")
    # Positional, in field order: a dataclass called with keywords costs twice as much (benchmark P2).
    return LLMRequest(
        msgs,  # messages
        system,  # system_prompt
        merged.get("model") or defaults.model,  # model
        merged.get("provider") or defaults.provider,  # provider
        merged.get("temperature"),  # temperature
        merged.get("max_tokens"),  # max_tokens
        merged.get("top_p"),  # top_p
        list(stop) if stop else None,  # stop
        context_id or defaults.context_id or defaults.component,  # context_id
        merged.get("task_type"),  # task_type
        defaults.component,  # component
        stream,  # stream
        {k: v for k, v in merged.items() if k not in _REQUEST_FIELDS and k not in _NOT_REQUEST_OPTIONS}
        if merged
        else {},  # extra
        new_request_id(),  # request_id
        float(timeout) if timeout else None,  # timeout
    )
