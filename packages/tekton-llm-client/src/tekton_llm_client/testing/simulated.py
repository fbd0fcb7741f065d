"""Rhetor's simulated provider: deterministic answer texts, chunk sizes and delays (protocol spec §14.2-§14.3).

Tests assert on these exact strings, so they live in one place and every profile uses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROVIDER = "simulated"
DEFAULT_MODEL = "simulated-fast"

MODELS = (
    {"id": "simulated-fast", "name": "Fast Simulation"},
    {"id": "simulated-standard", "name": "Standard Simulation"},
    {"id": "simulated-advanced", "name": "Advanced Simulation"},
)

_CHUNK_SIZE = {"simulated-fast": 10, "simulated-standard": 5, "simulated-advanced": 3}
_CHUNK_DELAY = {"simulated-fast": 0.02, "simulated-standard": 0.05, "simulated-advanced": 0.08}

_CHAT_SUFFIX = {
    "simulated-fast": "\n\nAs the fast simulation model, I would typically provide quicker responses with less "
    "context retention.",
    "simulated-advanced": "\n\nAs the advanced simulation model, I would typically maintain better context across "
    "a conversation thread.",
}
_MESSAGE_SUFFIX = {
    "simulated-fast": "\n\nAs the fast simulation model, I would typically provide quicker but potentially less "
    "detailed responses.",
    "simulated-advanced": "\n\nAs the advanced simulation model, I would typically provide more detailed and "
    "nuanced responses with better reasoning capabilities.",
}


def _system_suffix(system_prompt: str | None) -> str:
    if not system_prompt:
        return ""
    shown = system_prompt[:50] + ("..." if len(system_prompt) > 50 else "")
    return f'\n\nThe system prompt was: "{shown}"'


def system_prompt_of(messages: Sequence[Mapping[str, Any]], explicit: str | None = None) -> str | None:
    """The prompt the simulated provider reports: an explicit one, else the first ``system`` message."""
    if explicit:
        return explicit
    for message in messages:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            return str(message["content"])
    return None


def chat_text(messages: Sequence[Mapping[str, Any]], model: str, system_prompt: str | None = None) -> str:
    """Answer to a message list: quotes the last user message and counts every element."""
    last = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "No message found")
    text = (
        f'I received your message: "{last}". I see a conversation with {len(messages)} messages. '
        "This is a simulated chat response as no real LLM is available. "
    )
    return text + _system_suffix(system_prompt) + _CHAT_SUFFIX.get(model, "")


def message_text(message: str, model: str, system_prompt: str | None = None) -> str:
    """Answer to a single message (classic ``/message``, ``/stream``, ``LLM_REQUEST``)."""
    text = (
        f'I received your message: "{message}". This is a simulated response as no real LLM is available. '
        "Please configure Rhetor with valid API keys for Anthropic, OpenAI, or ensure Ollama is running for "
        "local LLM access."
    )
    return text + _system_suffix(system_prompt) + _MESSAGE_SUFFIX.get(model, "")


def adapter_text(message: str) -> str:
    """Answer of the legacy LLM Adapter service in simulated mode."""
    return (
        f'I received your message: "{message}". This is a simulated response as I\'m not connected to an LLM. '
        "To use a real LLM, you should configure the adapter with a valid ANTHROPIC_API_KEY."
    )


def chunk_size(model: str) -> int:
    return _CHUNK_SIZE.get(model, _CHUNK_SIZE[DEFAULT_MODEL])


def chunk_delay(model: str) -> float:
    return _CHUNK_DELAY.get(model, _CHUNK_DELAY[DEFAULT_MODEL])


def split(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of ``size`` characters (the last one may be shorter)."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]
