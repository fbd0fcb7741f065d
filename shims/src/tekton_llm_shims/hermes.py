"""Hermes' legacy ``LLMAdapter`` (``hermes.core.llm_adapter``) on the shared client.

Hermes keeps one adapter per process, analyses bus messages and service registrations into fixed-key dicts, and
chats with an awaited dict callback for streaming. No method raises on LLM failures; each has a legacy fallback.
Contract: legacy-adapters.md §2. Migration guide: MIGRATION.md#hermes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from tekton_llm_client.models import StreamingChunk

from ._common import Failure, LegacyAdapter, classify, error_text, invoke_callback, relay_stream, server_message
from ._hermes_analysis import (
    HERMES_SYSTEM_PROMPT,
    PROMPT_MESSAGE_ANALYSIS,
    PROMPT_SERVICE_ANALYSIS,
    parse_message_analysis,
    parse_service_analysis,
)
from ._providers import ProviderMethods
from ._shim_calls import records_legacy_calls

__all__ = ["LLMAdapter", "logger"]

logger = logging.getLogger("hermes.core.llm_adapter")

TROUBLE_TEXT = "I'm having trouble connecting to my language model service. Please try again later."
STREAM_TROUBLE_TEXT = "I'm having trouble connecting to my language model service."
FAILED_TEXT = "Failed to connect to LLM service."

_REPLACEMENT = "tekton_llm_client.TektonLLMClient('hermes').generate_chat_response(messages, context_id=...)"


def _error_turn(error: BaseException) -> str:
    return f"I encountered an error: {error_text(error)}. Please try again later."


@records_legacy_calls
class LLMAdapter(ProviderMethods, LegacyAdapter):
    """Hermes' message-bus assistant: message/service analysis and chat."""

    _component_id = "hermes"
    _shim = "hermes"
    _replacement = _REPLACEMENT

    async def analyze_message(self, message_content: str, message_type: str = "standard") -> dict[str, Any]:
        """Purpose, components, data, priority and summary of a bus message (5-key dict on failure)."""
        try:
            response = await self._complete(
                [{"role": "user", "content": PROMPT_MESSAGE_ANALYSIS + "\n\n" + message_content}],
                context_id=f"hermes:message_analysis:{message_type}",
                task_type="analysis",
                timeout=30.0,
            )
            return parse_message_analysis(response.content)
        except Exception as error:
            logger.warning("message analysis failed: %s", error_text(error))
            if classify(error) is Failure.SERVICE:
                data_summary, summary = "Could not analyze message", FAILED_TEXT
            else:
                data_summary, summary = "Error in analysis", f"Error analyzing message: {error_text(error)}"
            return {
                "purpose": "Unknown",
                "components": [],
                "data_summary": data_summary,
                "priority": "Unknown",
                "summary": summary,
            }

    async def analyze_service(self, service_data: dict[str, Any]) -> dict[str, Any]:
        """Capabilities, dependencies, integration points and use cases of a service registration."""
        try:
            response = await self._complete(
                [{"role": "user", "content": PROMPT_SERVICE_ANALYSIS + "\n\n" + json.dumps(service_data, indent=2)}],
                context_id="hermes:service_analysis",
                task_type="analysis",
                timeout=30.0,
            )
            return parse_service_analysis(response.content)
        except Exception as error:
            logger.warning("service analysis failed: %s", error_text(error))
            service_failure = classify(error) is Failure.SERVICE
            return {
                "capabilities": [],
                "dependencies": [],
                "integration_points": [],
                "use_cases": [],
                "summary": FAILED_TEXT if service_failure else f"Error analyzing service: {error_text(error)}",
            }

    async def chat(self, message: str, chat_history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """``{"message": <answer>, "success": True}``, or a trouble/error text with ``success: False``."""
        try:
            response = await self._complete(self._chat_messages(message, chat_history), **self._chat_settings())
        except Exception as error:
            logger.warning("chat failed: %s", error_text(error))
            text = TROUBLE_TEXT if classify(error) is Failure.SERVICE else _error_turn(error)
            return {"message": text, "success": False}
        return {"message": response.content, "success": True}

    async def streaming_chat(
        self, message: str, callback: Any, chat_history: list[dict[str, str]] | None = None
    ) -> None:
        """Chunk dicts to ``callback`` (awaited), then exactly one dict carrying ``done: True``."""

        async def deliver(chunk: StreamingChunk) -> None:
            await invoke_callback(
                callback, {"chunk": chunk.chunk, "done": False, "model": chunk.model, "provider": chunk.provider}
            )

        async def fail(error: BaseException, delivered: bool) -> None:
            logger.warning("streaming chat failed: %s", error_text(error))
            await invoke_callback(callback, self._stream_failure(error, delivered))

        messages = self._chat_messages(message, chat_history)
        if await relay_stream(self._stream(messages, **self._chat_settings(streaming=True)), deliver, fail):
            await invoke_callback(callback, {"done": True})

    # -- internals ----------------------------------------------------------------------------------------------

    @staticmethod
    def _chat_messages(message: str, chat_history: list[dict[str, str]] | None) -> list[dict[str, str]]:
        system = {"role": "system", "content": HERMES_SYSTEM_PROMPT}
        return [system, *(chat_history or []), {"role": "user", "content": message}]

    def _chat_settings(self, *, streaming: bool = False) -> dict[str, Any]:
        return {
            "context_id": "hermes:chat:streaming" if streaming else "hermes:chat",
            "task_type": "chat",
            "model": self.default_model,
            "provider": self.default_provider,
            "timeout": 60.0,
        }

    @staticmethod
    def _stream_failure(error: BaseException, delivered: bool) -> dict[str, Any]:
        if delivered:
            return {"chunk": "", "error": server_message(error), "done": True}
        if classify(error) is Failure.SERVICE:
            return {"chunk": STREAM_TROUBLE_TEXT, "error": server_message(error), "done": True}
        return {"chunk": _error_turn(error), "error": error_text(error), "done": True}
