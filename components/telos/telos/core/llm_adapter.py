"""Telos's LEGACY LLM adapter (pre-migration, API "v2"): requirement analysis and refinement through chat.

It posts OpenAI-style requests to ``{adapter_url}/v1/chat/completions`` and streams from
``{ws_url}/v1/chat/completions/stream`` (port 8301): paths the retired LLM service never had, so ``chat``
returns the fallback text below and the analyses parse that text. ``tekton-migrate`` points the imports at
``tekton_llm_shims.telos`` and then deletes this module.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any, Dict, List, Optional, Union

import httpx
from websockets.asyncio.client import connect

logger = logging.getLogger("telos.llm_adapter")

FALLBACK_TEXT = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues "
    "or the service being offline. Please try again later or contact your administrator if the problem persists."
)

SYS_V2_ANALYZE = """
        You are an AI assistant specialized in requirements engineering. 
        Analyze the requirement and evaluate it based on the following quality criteria:
        
        1. Clarity: Is the requirement clear and unambiguous?
        2. Completeness: Does the requirement include all necessary information?
        3. Testability: Can the requirement be verified or tested objectively?
        4. Feasibility: Is the requirement technically and practically achievable?
        5. Consistency: Is the requirement free from contradictions?
        
        Provide a score from 1-5 for each criterion, where 1 is poor and 5 is excellent.
        Also provide specific suggestions for improvement and potential issues to address.
        """  # noqa: W291, W293 - the model saw these exact bytes

SYS_V2_REFINE = """
        You are an AI assistant specialized in requirements engineering.
        Your task is to refine a requirement based on feedback provided by the user.
        
        Ensure the refined requirement is:
        1. Clear and unambiguous
        2. Complete with all necessary information
        3. Testable and verifiable
        4. Feasible and realistic
        5. Consistent and non-contradictory
        
        Return the refined requirement in the same format it was provided, with improved content.
        Do not invent technical details that aren't at least implied by the original requirement or feedback.
        """  # noqa: W293

CRITERIA = ("clarity", "completeness", "testability", "feasibility", "consistency")


class LLMAdapter:
    """Chat with the LLM service and turn its answers into requirement analyses."""

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
            return self._get_fallback_response()
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
            yield self._get_fallback_response()
        except Exception as exc:
            yield f"Error: {exc}"

    def _body(
        self,
        messages: List[Dict[str, str]],
        model: Optional[str],
        temperature: float,
        max_tokens: Optional[int],
        system_prompt: Optional[str],
    ) -> Dict[str, Any]:
        if system_prompt:
            messages = [{"role": "system", "content": system_prompt}, *messages]
        body: Dict[str, Any] = {
            "model": model or self.default_model,
            "provider": self.default_provider,
            "messages": messages,
            "temperature": temperature,
        }
        if max_tokens:
            body["max_tokens"] = max_tokens
        return body

    async def analyze_requirement(
        self, requirement: Dict[str, Any], context: Optional[str] = None, model: Optional[str] = None
    ) -> Dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_V2_ANALYZE},
                {"role": "user", "content": "Please analyze this requirement:\n\n" + _requirement_text(requirement)},
            ]
            if context:
                messages.append({"role": "user", "content": "Consider this additional project context:\n\n" + context})
            response = str(await self.chat(messages, model=model, temperature=0.3))
            return {"success": True, "analysis": self._parse_requirement_analysis(response), "raw_response": response}
        except Exception as exc:
            return {"success": False, "error": str(exc), "raw_response": ""}

    async def refine_requirement(
        self, requirement: Dict[str, Any], feedback: str, model: Optional[str] = None
    ) -> Dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_V2_REFINE},
                {"role": "user", "content": "Here is the requirement to refine:\n\n" + _requirement_text(requirement)},
                {"role": "user", "content": "Here is the feedback to incorporate:\n\n" + feedback},
            ]
            response = str(await self.chat(messages, model=model))
            refined = self._parse_refined_requirement(response, requirement)
            return {"success": True, "refined_requirement": refined, "raw_response": response}
        except Exception as exc:
            return {"success": False, "error": str(exc), "raw_response": ""}

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

    def _parse_requirement_analysis(self, response: str) -> Dict[str, Any]:
        try:
            scores = {}
            for name in CRITERIA:
                match = re.search(rf"{name}:?\s*(\d+)[/\s]*5", response, re.IGNORECASE)
                scores[name] = int(match.group(1)) if match else 0
            return {
                "scores": scores,
                "suggestions": _bullets(_section(response, r"suggestions?:(.*?)(?:issues:|$)")),
                "issues": _bullets(_section(response, r"issues?:(.*?)(?:suggestions?:|$)")),
                "overall_score": sum(scores.values()) / len(scores),
            }
        except Exception as exc:
            return {"scores": {}, "suggestions": [], "issues": [], "parsing_error": str(exc)}

    def _parse_refined_requirement(self, response: str, original: Dict[str, Any]) -> Dict[str, Any]:
        try:
            refined = dict(original)
            for key in ("title", "type", "priority"):
                match = re.search(rf"{key}:?\s*(.+?)(?:\n|$)", response, re.IGNORECASE)
                if match:
                    refined[key] = match.group(1).strip()
            description = re.search(
                r"description:?\s*(.*?)(?:type:|priority:|acceptance criteria:|$)", response, re.IGNORECASE | re.DOTALL
            )
            if description:
                refined["description"] = description.group(1).strip()
            criteria = _bullets(_section(response, r"acceptance criteria:?(.*?)(?:$)"))
            if criteria:
                refined["acceptance_criteria"] = criteria
            return refined
        except Exception:
            return original

    def _get_fallback_response(self) -> str:
        return FALLBACK_TEXT


def _requirement_text(requirement: Dict[str, Any]) -> str:
    lines = [
        f"Requirement ID: {requirement.get('id', 'N/A')}",
        f"Title: {requirement.get('title', 'N/A')}",
        f"Description: {requirement.get('description', 'N/A')}",
        f"Type: {requirement.get('type', 'N/A')}",
        f"Priority: {requirement.get('priority', 'N/A')}",
    ]
    if requirement.get("acceptance_criteria"):
        lines.append("Acceptance Criteria:")
        lines.extend(f"- {criterion}" for criterion in requirement["acceptance_criteria"])
    return "".join(line + "\n" for line in lines)


def _section(text: str, pattern: str) -> str:
    match = re.search(pattern, text, re.IGNORECASE | re.DOTALL)
    return match.group(1).strip() if match else ""


def _bullets(text: str) -> List[str]:
    return [item.strip() for item in re.findall(r"[-*]\s*(.*?)(?:\n|$)", text) if item.strip()]
