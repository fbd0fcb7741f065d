"""Engram's LEGACY LLM adapter (pre-migration): chat plus memory analysis, categorisation and summaries.

Like Telos's adapter of the same era it posts OpenAI-style requests to ``{adapter_url}/v1/chat/completions``
and streams from ``{ws_url}/v1/chat/completions/stream`` (port 8301), paths the retired LLM service never had;
so ``chat`` returns the fallback text below. ``tekton-migrate`` points the imports at
``tekton_llm_shims.engram`` and then deletes this module.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any, Dict, List, Optional, Union

import httpx
from websockets.asyncio.client import connect

logger = logging.getLogger("engram.llm_adapter")

FALLBACK_TEXT = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues "
    "or the service being offline. Basic memory operations will continue to work, but advanced analysis and "
    "generation capabilities may be limited. Please try again later or contact your administrator if the "
    "problem persists."
)

SYS_ENGRAM_ANALYZE = """
        You are an AI assistant helping to analyze and structure memory content.
        Extract key information, entities, and relationships from the provided text.
        Focus on identifying important concepts, facts, and potential connections to existing knowledge.
        """

SYS_ENGRAM_CATEGORIZE = """
        You are an AI assistant that categorizes content into predefined categories.
        The available categories are: {categories}
        Analyze the provided content and assign it to the most appropriate category.
        Return ONLY the category name without explanation or additional text.
        """

SYS_ENGRAM_SUMMARIZE = """
        You are an AI assistant tasked with summarizing multiple related memories.
        Create a concise summary that captures the key information across all provided memories.
        Focus on identifying patterns, core facts, and essential information.
        """


class LLMAdapter:
    """Engram's access to an LLM for enriching, sorting and condensing memories."""

    def __init__(self, adapter_url: Optional[str] = None) -> None:
        port = os.environ.get("RHETOR_PORT", "8003")
        self.adapter_url = adapter_url or os.environ.get("LLM_ADAPTER_URL", f"http://localhost:{port}")
        self.default_provider = os.environ.get("LLM_PROVIDER", "anthropic")
        self.default_model = os.environ.get("LLM_MODEL", "claude-3-haiku-20240307")
        self.ws_port = os.environ.get("LLM_ADAPTER_WS_PORT", "8301")
        base = self.adapter_url.replace("https://", "wss://").replace("http://", "ws://")
        scheme, sep, rest = base.partition("://")
        host = rest.split("/", 1)[0].split(":", 1)[0] if sep else ""
        self.ws_url = f"{scheme}://{host}:{self.ws_port}" if sep else f"{base}:{self.ws_port}"

    async def chat(
        self,
        messages: List[Dict[str, str]],
        model: Optional[str] = None,
        temperature: float = 0.7,
        max_tokens: Optional[int] = None,
        stream: bool = False,
        system_prompt: Optional[str] = None,
    ) -> Union[str, AsyncIterator[str]]:
        if stream:
            return self._stream_chat(messages, model, temperature, max_tokens, system_prompt)
        body = self._body(messages, model, temperature, max_tokens, system_prompt)
        try:
            async with httpx.AsyncClient(timeout=120.0) as client:
                response = await client.post(f"{self.adapter_url}/v1/chat/completions", json=body)
            if response.status_code != 200:
                return f"Error: Failed to get LLM response (Status: {response.status_code})"
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except httpx.TransportError as exc:
            logger.error("LLM service unreachable: %s", exc)
            return FALLBACK_TEXT
        except Exception as exc:
            return f"Error: {exc}"

    async def _stream_chat(
        self,
        messages: List[Dict[str, str]],
        model: Optional[str] = None,
        temperature: float = 0.7,
        max_tokens: Optional[int] = None,
        system_prompt: Optional[str] = None,
    ) -> AsyncIterator[str]:
        body = self._body(messages, model, temperature, max_tokens, system_prompt)
        try:
            async with connect(f"{self.ws_url}/v1/chat/completions/stream") as ws:
                await ws.send(json.dumps({**body, "stream": True}))
                async for frame in ws:
                    data = json.loads(frame)
                    if data.get("error"):
                        yield f"Error: {data['error']}"
                        return
                    if data.get("done"):
                        return
                    yield str(data.get("content", ""))
        except OSError as exc:
            logger.error("LLM service unreachable: %s", exc)
            yield FALLBACK_TEXT
        except Exception as exc:
            yield f"Error: {exc}"

    def _body(
        self,
        messages: List[Dict[str, str]],
        model: Optional[str],
        temperature: Optional[float],
        max_tokens: Optional[int],
        system_prompt: Optional[str],
    ) -> Dict[str, Any]:
        if system_prompt:
            messages = [{"role": "system", "content": system_prompt}, *messages]
        body: Dict[str, Any] = {
            "model": model or self.default_model,
            "provider": self.default_provider,
            "messages": messages,
            "temperature": 0.7 if temperature is None else temperature,
        }
        if max_tokens:
            body["max_tokens"] = max_tokens
        return body

    async def analyze_memory(
        self, content: str, context: Optional[str] = None, model: Optional[str] = None
    ) -> Dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_ANALYZE},
                {"role": "user", "content": "Please analyze the following content:\n\n" + content},
            ]
            if context:
                messages.append({"role": "user", "content": "Consider this additional context:\n\n" + context})
            return {"analysis": str(await self.chat(messages, model=model)), "success": True}
        except Exception as exc:
            return {"analysis": "", "success": False, "error": str(exc)}

    async def categorize_memory(
        self, content: str, categories: List[str], model: Optional[str] = None
    ) -> Dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_CATEGORIZE.format(categories=", ".join(categories))},
                {"role": "user", "content": "Categorize this content:\n\n" + content},
            ]
            answer = str(await self.chat(messages, model=model, temperature=0.3)).strip()
            if answer in categories:
                return {"category": answer, "success": True}
            found = next((c for c in categories if c.lower() in answer.lower()), categories[0])
            return {"category": found, "success": True}
        except Exception as exc:
            return {"category": categories[0], "success": False, "error": str(exc)}

    async def summarize_memories(self, memories: List[str], model: Optional[str] = None) -> str:
        if not memories:
            return ""
        try:
            messages = [
                {"role": "system", "content": SYS_ENGRAM_SUMMARIZE},
                {"role": "user", "content": "Summarize these related memories:\n\n" + "\n\n".join(memories)},
            ]
            return str(await self.chat(messages, model=model))
        except Exception as exc:
            return f"Error summarizing memories: {exc}"

    def get_available_models(self) -> Dict[str, List[Dict[str, str]]]:
        try:
            response = httpx.get(f"{self.adapter_url}/v1/models", timeout=5.0)
            if response.status_code == 200:
                models: Dict[str, List[Dict[str, str]]] = response.json()
                return models
        except Exception as exc:
            logger.error("Error listing models: %s", exc)
        return {
            "anthropic": [
                {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
                {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            ]
        }
