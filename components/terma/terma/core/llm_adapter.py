"""Terma's LEGACY LLM adapter (pre-migration): talks to the retired LLM Adapter service.

It posts to ``{adapter_url}/message`` (default ``http://localhost:8300``) and falls back to the service's raw
WebSocket (default ``ws://localhost:8301``). That service no longer exists, so in practice every analysis
returns the "unable to connect" text below. ``tekton-migrate`` points the imports at
``tekton_llm_shims.terma`` and then deletes this module.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, List, Optional, Tuple

import httpx
from websockets.asyncio.client import connect

from ..utils.config import DEFAULT_SYSTEM_PROMPT, Config

logger = logging.getLogger("terma")

UNAVAILABLE = (
    "I'm currently unable to connect to the LLM adapter service. Please check the connection to the service "
    "at {adapter_url} and make sure it's running properly."
)
NO_RESPONSE = "No response from LLM adapter"
FRAME_TIMEOUT = 30.0


class LLMAdapter:
    """Per-session command/output explanations from the LLM Adapter service."""

    def __init__(self, config_path: Optional[str] = None) -> None:
        self.config = Config(config_path)
        self.adapter_url: str = self.config.get("llm.adapter_url", "http://localhost:8300")
        self.adapter_ws_url: str = self.config.get("llm.adapter_ws_url", "ws://localhost:8301")
        self.provider: str = self.config.get("llm.provider", "claude")
        self.model: str = self.config.get("llm.model", "claude-3-sonnet-20240229")
        self.system_prompt: str = self.config.get("llm.system_prompt", DEFAULT_SYSTEM_PROMPT)
        self._session_contexts: Dict[str, List[Dict[str, str]]] = {}

    # -- session bookkeeping (only the newest message is ever sent) --------------------------------------

    def _get_session_context(self, session_id: str) -> List[Dict[str, str]]:
        if session_id not in self._session_contexts:
            self._session_contexts[session_id] = [{"role": "system", "content": self.system_prompt}]
        return self._session_contexts[session_id]

    def add_message(self, session_id: str, message: str, role: str = "user") -> None:
        context = self._get_session_context(session_id)
        context.append({"role": role, "content": message})
        if len(context) > 11:
            self._session_contexts[session_id] = [context[0], *context[-10:]]

    def clear_context(self, session_id: str) -> None:
        if session_id in self._session_contexts:
            self._session_contexts[session_id] = self._session_contexts[session_id][:1]

    # -- provider selection (persisted in the config file) ---------------------------------------------

    def set_provider_and_model(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.config.set("llm.provider", provider)
        self.config.set("llm.model", model)

    def get_current_provider_and_model(self) -> Tuple[str, str]:
        return self.provider, self.model

    async def get_available_providers(self) -> Dict[str, Dict[str, Any]]:
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                response = await client.get(f"{self.adapter_url}/providers")
            if response.status_code == 200:
                providers: Dict[str, Dict[str, Any]] = response.json().get("providers", {})
                return providers
        except Exception as exc:
            logger.warning("LLM Adapter provider listing failed: %s", exc)
        return self.config.get_all_llm_providers()

    # -- analyses ---------------------------------------------------------------------------------------

    async def analyze_command(self, session_id: str, command: str) -> Optional[str]:
        try:
            return await self._ask(session_id, f"Please explain this command concisely: {command}")
        except Exception as exc:
            return f"Error analyzing command: {exc}"

    async def analyze_output(self, session_id: str, command: str, output: str) -> Optional[str]:
        try:
            if len(output) > 4000:
                output = output[:2000] + "...[output truncated]..." + output[-2000:]
            prompt = f"Please explain the output of this command: {command}\n\nOutput:\n{output}"
            return await self._ask(session_id, prompt)
        except Exception as exc:
            return f"Error analyzing output: {exc}"

    async def _ask(self, session_id: str, prompt: str) -> str:
        self.add_message(session_id, prompt)
        options = {"model": self.model, "provider": self.provider, "temperature": 0.7, "max_tokens": 500}
        result: Optional[str]
        try:
            result = await self._send_http(prompt, options)
        except Exception as exc:
            logger.warning("LLM Adapter HTTP request failed (%s); trying its WebSocket", exc)
            try:
                result = await self._send_ws(session_id, prompt, options)
            except Exception as ws_exc:
                logger.error("LLM Adapter WebSocket request failed: %s", ws_exc)
                result = UNAVAILABLE.format(adapter_url=self.adapter_url)
        if result:
            self.add_message(session_id, result, role="assistant")
        return result if result is not None else NO_RESPONSE

    async def _send_http(self, message: str, options: Dict[str, Any]) -> Optional[str]:
        body = {"message": message, "context_id": "terma", "streaming": False, "options": options}
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.adapter_url}/message", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"LLM Adapter answered HTTP {response.status_code}")
        text = response.json().get("message")
        return text if text is not None else NO_RESPONSE

    async def _send_ws(self, session_id: str, message: str, options: Dict[str, Any]) -> str:
        async with connect(self.adapter_ws_url) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "REGISTER",
                        "source": "TERMA",
                        "target": "SYSTEM",
                        "payload": {"client_id": f"terma_{session_id}", "capabilities": ["llm_requests"]},
                    }
                )
            )
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
                if frame.get("type") == "RESPONSE" and "registered" in str(frame["payload"].get("status")):
                    break
            await ws.send(
                json.dumps(
                    {
                        "type": "LLM_REQUEST",
                        "source": "TERMA",
                        "target": "SYSTEM",
                        "payload": {"message": message, "context": "terma", "streaming": False, "options": options},
                    }
                )
            )
            chunks: List[str] = []
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
                payload = frame.get("payload", {})
                if frame.get("type") == "ERROR":
                    raise RuntimeError(payload.get("error", "LLM Adapter error"))
                if frame.get("type") == "RESPONSE":
                    return str(payload.get("message", ""))
                if frame.get("type") == "UPDATE":
                    chunks.append(payload.get("chunk", ""))
                    if payload.get("done"):
                        return "".join(chunks)
