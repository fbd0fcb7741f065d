"""The logical request and stream event: what the client means, before a dialect puts it on the wire.

One ``LLMRequest`` is built per call from the caller's arguments and the resolved settings; each dialect maps it to
its own wire shape (rhetor-protocol.md §13) and maps what comes back to ``StreamEvent``s.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LLMRequest", "StreamEvent", "new_request_id"]


def new_request_id() -> str:
    """A short client-side id for logs and errors (Rhetor echoes none, so the client makes its own)."""
    return secrets.token_hex(8)


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
