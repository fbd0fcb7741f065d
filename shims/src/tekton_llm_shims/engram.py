"""Engram's legacy ``LLMAdapter`` (``engram.core.llm_adapter``) on the shared client.

Engram's endpoints call ``chat``, iterate ``_stream_chat`` directly, read ``default_model``/``default_provider``,
call ``get_available_models`` with and without ``await``, and (post-migration) ``await _get_client()`` to use the
client's ``generate_text``. The memory helpers below never raise on LLM failures, except ``categorize_memory``
with an empty category list (``IndexError``, as the original).
Contract: legacy-adapters.md §4. Migration guide: MIGRATION.md#engram.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from ._common import error_text
from ._legacy_chat import ChatAdapter
from ._shim_calls import records_legacy_calls

__all__ = ["FALLBACK_TEXT", "LLMAdapter", "logger"]

logger = logging.getLogger("engram.llm_adapter")

FALLBACK_TEXT = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues or "
    "the service being offline. Basic memory operations will continue to work, but advanced analysis and "
    "generation capabilities may be limited. Please try again later or contact your administrator if the problem "
    "persists."
)

SYS_ENGRAM_ANALYZE = (
    "\n        You are an AI assistant helping to analyze and structure memory content."
    "\n        Extract key information, entities, and relationships from the provided text."
    "\n        Focus on identifying important concepts, facts, and potential connections to existing knowledge."
    "\n        "
)
SYS_ENGRAM_CATEGORIZE = (
    "\n        You are an AI assistant that categorizes content into predefined categories."
    "\n        The available categories are: {categories}"
    "\n        Analyze the provided content and assign it to the most appropriate category."
    "\n        Return ONLY the category name without explanation or additional text."
    "\n        "
)
SYS_ENGRAM_SUMMARIZE = (
    "\n        You are an AI assistant tasked with summarizing multiple related memories."
    "\n        Create a concise summary that captures the key information across all provided memories."
    "\n        Focus on identifying patterns, core facts, and essential information."
    "\n        "
)

_REPLACEMENT = "tekton_llm_client.TektonLLMClient('engram').generate_chat_response(messages, system_prompt=...)"


def match_category(response: str, categories: list[str]) -> str:
    """Exact match of the stripped answer, else the first category contained in it, else the first category."""
    answer = response.strip()
    if answer in categories:
        return answer
    lowered = answer.lower()
    return next((category for category in categories if category.lower() in lowered), categories[0])


@records_legacy_calls
class LLMAdapter(ChatAdapter):
    """Engram's memory assistant: analysis, categorisation and summaries of memories."""

    _component_id = "engram"
    _shim = "engram"
    _replacement = _REPLACEMENT
    _fallback_text = FALLBACK_TEXT
    _logger_name = "engram.llm_adapter"
    _legacy_private = (*ChatAdapter._legacy_private, "_get_client")

    async def analyze_memory(
        self, content: str, context: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        """``{"analysis": <answer>, "success": True}`` (an outage answers the fallback text: kept quirk)."""
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_ANALYZE},
                {"role": "user", "content": "Please analyze the following content:\n\n" + content},
            ]
            if context:
                messages.append({"role": "user", "content": "Consider this additional context:\n\n" + context})
            analysis = cast(str, await self.chat(messages, model=model))
            return {"analysis": analysis, "success": True}
        except Exception as error:
            return {"analysis": "", "success": False, "error": error_text(error)}

    async def categorize_memory(
        self, content: str, categories: list[str], model: str | None = None
    ) -> dict[str, Any]:
        """The category the model picks (matched leniently); ``categories == []`` raises ``IndexError``."""
        if not categories:
            raise IndexError("categorize_memory() needs at least one category")
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_CATEGORIZE.format(categories=", ".join(categories))},
                {"role": "user", "content": "Categorize this content:\n\n" + content},
            ]
            answer = cast(str, await self.chat(messages, temperature=0.3))
            return {"category": match_category(answer, categories), "success": True}
        except Exception as error:
            return {"category": categories[0], "success": False, "error": error_text(error)}

    async def summarize_memories(self, memories: list[str], model: str | None = None) -> str:
        """One summary of related memories; ``""`` for none (no request)."""
        if not memories:
            return ""
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_SUMMARIZE},
                {"role": "user", "content": "Summarize these related memories:\n\n" + "\n\n".join(memories)},
            ]
            return cast(str, await self.chat(messages, model=model))
        except Exception as error:
            return f"Error summarizing memories: {error_text(error)}"
