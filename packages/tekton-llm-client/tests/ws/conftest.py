"""Fixtures for the WebSocket client suite (``make_server`` and the clean environment come from ../conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tekton_llm_client.ws_client import TektonLLMWebSocketClient

FAST_CHAT_SUFFIX = (
    "\n\nAs the fast simulation model, I would typically provide quicker responses with less context retention."
)
FAST_MESSAGE_SUFFIX = (
    "\n\nAs the fast simulation model, I would typically provide quicker but potentially less detailed responses."
)


def _chat_answer(last_user: str, count: int, system_prompt: str | None = None, suffix: str = FAST_CHAT_SUFFIX) -> str:
    """The simulated chat text of rhetor-protocol.md §14.2."""
    text = (
        f'I received your message: "{last_user}". I see a conversation with {count} messages. '
        "This is a simulated chat response as no real LLM is available. "
    )
    if system_prompt:
        text += f'\n\nThe system prompt was: "{system_prompt}"'
    return text + suffix


def _message_answer(message: str) -> str:
    """The simulated single-message text of rhetor-protocol.md §14.2 (fast model)."""
    return (
        f'I received your message: "{message}". This is a simulated response as no real LLM is available. '
        "Please configure Rhetor with valid API keys for Anthropic, OpenAI, or ensure Ollama is running for "
        "local LLM access." + FAST_MESSAGE_SUFFIX
    )


@pytest.fixture
def chat_answer() -> Callable[..., str]:
    """``chat_answer(last_user, count, system_prompt=None)``: the expected simulated chat text."""
    return _chat_answer


@pytest.fixture
def message_answer() -> Callable[[str], str]:
    """``message_answer(message)``: the expected simulated single-message text."""
    return _message_answer


@pytest.fixture
async def make_ws() -> AsyncIterator[Callable[..., TektonLLMWebSocketClient]]:
    """WebSocket clients with no reconnect delay and short frame timeouts; closed at teardown."""
    clients: list[TektonLLMWebSocketClient] = []

    def factory(url: str, **kwargs: Any) -> TektonLLMWebSocketClient:
        kwargs.setdefault("reconnect_interval", 0)
        kwargs.setdefault("frame_timeout", 5.0)
        kwargs.setdefault("timeout", 5.0)
        client = TektonLLMWebSocketClient(kwargs.pop("component_id", "demo"), url, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()
