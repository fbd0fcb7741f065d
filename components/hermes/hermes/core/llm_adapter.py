"""Hermes's LEGACY LLM adapter (pre-migration): chat and message/service analysis over raw HTTP.

It speaks the retired LLM-service dialect at ``adapter_url`` (``$LLM_ADAPTER_URL``, else
``http://localhost:$RHETOR_PORT`` with port 8003): ``/message``, ``/chat``, ``/chat/stream`` (a path that never
existed) and ``/providers``. No such service answers any more, so every method returns its fallback value.
``tekton-migrate`` points the imports at ``tekton_llm_shims.hermes`` and then deletes this module.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional, Tuple

import httpx

logger = logging.getLogger("hermes.core.llm_adapter")

PROMPT_MESSAGE_ANALYSIS = """
            Analyze the following message that was sent through the Hermes message bus. 
            Extract key information such as:
            1. Message purpose - What is the goal of this message?
            2. Components involved - Which components are mentioned or interacting?
            3. Data contents - What key data is being transmitted?
            4. Priority - How urgent or important does this message appear to be?
            
            Provide a brief summary of what this message is trying to accomplish in the system.
            
            Message:
            """  # noqa: W291, W293 - the model saw these exact bytes

PROMPT_SERVICE_ANALYSIS = """
            Analyze the following service registration in the Tekton platform. 
            Extract key information such as:
            1. Service capabilities - What functionality does this service provide?
            2. Dependencies - What other services might this service depend on?
            3. Integration points - How would other services interact with this one?
            4. Potential use cases - What problems does this service solve?
            
            Provide a brief summary of this service's role in the system.
            
            Service Data:
            """  # noqa: W291, W293

HERMES_SYSTEM = {
    "role": "system",
    "content": """You are a helpful assistant for the Hermes component in the Tekton platform. 
                Hermes provides message bus and service discovery capabilities for the Tekton system.
                You can help users understand how Hermes works, how services register and communicate,
                and provide debugging assistance for message routing and service discovery issues.""",  # noqa: W291
}

SERVICE_TROUBLE = "I'm having trouble connecting to my language model service. Please try again later."
STREAM_TROUBLE = "I'm having trouble connecting to my language model service."


class LLMAdapter:
    """Hermes's view of the LLM: analysis of bus traffic and an assistant chat."""

    def __init__(self, adapter_url: Optional[str] = None) -> None:
        port = os.environ.get("RHETOR_PORT", "8003")
        self.adapter_url = adapter_url or os.environ.get("LLM_ADAPTER_URL", f"http://localhost:{port}")
        self.default_provider = os.environ.get("LLM_PROVIDER", "anthropic")
        self.default_model = os.environ.get("LLM_MODEL", "claude-3-haiku-20240307")

    # -- providers --------------------------------------------------------------------------------------

    async def get_available_providers(self) -> Dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(f"{self.adapter_url}/providers")
            if response.status_code == 200:
                body: Dict[str, Any] = response.json()
                return body
        except Exception as exc:
            logger.error("Error getting providers: %s", exc)
        return {
            self.default_provider: {
                "available": True,
                "models": [
                    {"id": self.default_model, "name": "Default Model"},
                    {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
                    {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
                ],
            }
        }

    def get_current_provider_and_model(self) -> Tuple[str, str]:
        return self.default_provider, self.default_model

    def set_provider_and_model(self, provider_id: str, model_id: str) -> None:
        self.default_provider = provider_id
        self.default_model = model_id

    # -- analyses ---------------------------------------------------------------------------------------

    async def analyze_message(self, message_content: str, message_type: str = "standard") -> Dict[str, Any]:
        try:
            text = await self._message(
                PROMPT_MESSAGE_ANALYSIS + "\n\n" + message_content, f"hermes:message_analysis:{message_type}"
            )
        except _ServiceFailure:
            return _failed_message_analysis("Could not analyze message", "Failed to connect to LLM service.")
        except Exception as exc:
            return _failed_message_analysis("Error in analysis", f"Error analyzing message: {exc}")
        return parse_message_analysis(text)

    async def analyze_service(self, service_data: Dict[str, Any]) -> Dict[str, Any]:
        failed: Dict[str, Any] = {"capabilities": [], "dependencies": [], "integration_points": [], "use_cases": []}
        try:
            prompt = PROMPT_SERVICE_ANALYSIS + "\n\n" + json.dumps(service_data, indent=2)
            text = await self._message(prompt, "hermes:service_analysis")
        except _ServiceFailure:
            return {**failed, "summary": "Failed to connect to LLM service."}
        except Exception as exc:
            return {**failed, "summary": f"Error analyzing service: {exc}"}
        return parse_service_analysis(text)

    async def _message(self, message: str, context_id: str) -> str:
        body = {
            "message": message,
            "context_id": context_id,
            "task_type": "analysis",
            "component": "hermes",
            "streaming": False,
        }
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(f"{self.adapter_url}/message", json=body)
        if response.status_code != 200:
            raise _ServiceFailure(response.text)
        return str(response.json().get("message", ""))

    # -- chat -------------------------------------------------------------------------------------------

    def _chat_body(
        self, message: str, chat_history: Optional[List[Dict[str, str]]], context_id: str, streaming: bool
    ) -> Dict[str, Any]:
        return {
            "messages": [HERMES_SYSTEM, *(chat_history or []), {"role": "user", "content": message}],
            "context_id": context_id,
            "task_type": "chat",
            "component": "hermes",
            "streaming": streaming,
            "options": {"model": self.default_model, "provider": self.default_provider},
        }

    async def chat(self, message: str, chat_history: Optional[List[Dict[str, str]]] = None) -> Dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=60.0) as client:
                response = await client.post(
                    f"{self.adapter_url}/chat", json=self._chat_body(message, chat_history, "hermes:chat", False)
                )
            if response.status_code != 200:
                return {"message": SERVICE_TROUBLE, "success": False}
            return {"message": response.json().get("message", ""), "success": True}
        except Exception as exc:
            return {"message": f"I encountered an error: {exc}. Please try again later.", "success": False}

    async def streaming_chat(
        self, message: str, callback: Any, chat_history: Optional[List[Dict[str, str]]] = None
    ) -> None:
        body = self._chat_body(message, chat_history, "hermes:chat:streaming", True)
        try:
            async with (
                httpx.AsyncClient(timeout=60.0) as client,
                client.stream("POST", f"{self.adapter_url}/chat/stream", json=body) as response,
            ):
                if response.status_code != 200:
                    error = (await response.aread()).decode(errors="replace")
                    await callback({"chunk": STREAM_TROUBLE, "error": error, "done": True})
                    return
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        await callback(json.loads(line[6:]))
        except Exception as exc:
            await callback(
                {"chunk": f"I encountered an error: {exc}. Please try again later.", "error": str(exc), "done": True}
            )
            return
        await callback({"done": True})


class _ServiceFailure(Exception):
    """The service answered, but not with success."""


def _failed_message_analysis(data_summary: str, summary: str) -> Dict[str, Any]:
    return {
        "purpose": "Unknown",
        "components": [],
        "data_summary": data_summary,
        "priority": "Unknown",
        "summary": summary,
    }


def _after_colon(line: str) -> str:
    return line.split(":", 1)[1].strip()


def _last_paragraph(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return paragraphs[-1].strip() if paragraphs else ""


def parse_message_analysis(text: str) -> Dict[str, Any]:
    """Pick the labelled parts out of the model's free-text message analysis."""
    result: Dict[str, Any] = {
        "purpose": "Unknown",
        "components": [],
        "data_summary": "Unknown",
        "priority": "Unknown",
        "summary": "",
    }
    in_components = in_summary = False
    for line in text.split("\n"):
        lower = line.lower()
        if in_components and line.strip():
            if ":" in line:
                in_components = False
            elif line.strip().startswith("-") and line.strip()[1:].strip():
                result["components"].append(line.strip()[1:].strip())
        if in_summary and line.strip():
            if ":" in line and any(k in lower for k in ("purpose", "components", "data", "priority")):
                in_summary = False
            elif not ("summary" in lower and ":" in line):
                result["summary"] += " " + line.strip()
        if ":" not in line:
            continue
        if result["purpose"] == "Unknown" and ("purpose" in lower or "goal" in lower):
            result["purpose"] = _after_colon(line)
        if "components" in lower:
            listed = _after_colon(line)
            if listed:
                result["components"] = [part.strip() for part in listed.split(",")]
            in_components = True
        if result["data_summary"] == "Unknown" and "data" in lower and "content" in lower:
            result["data_summary"] = _after_colon(line)
        if result["priority"] == "Unknown" and "priority" in lower:
            result["priority"] = _after_colon(line)
        if "summary" in lower:
            result["summary"] = _after_colon(line)
            in_summary = True
    if not result["summary"]:
        result["summary"] = _last_paragraph(text)
    result["full_analysis"] = text
    return result


def parse_service_analysis(text: str) -> Dict[str, Any]:
    """Sort the model's service analysis into capability/dependency/integration/use-case lists."""
    result: Dict[str, Any] = {
        "capabilities": [],
        "dependencies": [],
        "integration_points": [],
        "use_cases": [],
        "summary": "",
    }
    headers = (
        ("capabilities", "capabilities"),
        ("dependencies", "dependencies"),
        ("integration", "integration_points"),
        ("use case", "use_cases"),
        ("summary", "summary"),
    )
    section: Optional[str] = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        header = next((key for marker, key in headers if marker in line.lower() and ":" in line), None)
        if header:
            section = header
            if header == "summary":
                result["summary"] = _after_colon(line)
        elif section == "summary":
            result["summary"] += " " + line
        elif section and line.startswith("-"):
            result[section].append(line[1:].strip())
    if not result["summary"]:
        result["summary"] = _last_paragraph(text)
    result["full_analysis"] = text
    return result
