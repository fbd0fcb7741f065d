"""Hermes's LLM endpoints under ``/api/llm``: assistant chat, bus-message analysis, model selection.

One adapter serves the whole process, so a provider/model chosen through ``/provider`` (or a chat request)
applies to every later request, as in the real Hermes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from hermes.core.llm_adapter import LLMAdapter

logger = logging.getLogger("hermes.api.llm_endpoints")

router = APIRouter(prefix="/api/llm", tags=["llm"])
llm_adapter = LLMAdapter()


class ChatRequest(BaseModel):
    message: str
    chat_history: Optional[List[Dict[str, str]]] = None
    provider: Optional[str] = None
    model: Optional[str] = None


class MessageAnalysisRequest(BaseModel):
    content: str
    message_type: str = "standard"


class ServiceAnalysisRequest(BaseModel):
    service_data: Dict[str, Any]


def _current() -> Dict[str, str]:
    provider, model = llm_adapter.get_current_provider_and_model()
    return {"provider": provider, "model": model}


@router.post("/chat")
async def chat(request: ChatRequest) -> Dict[str, Any]:
    if request.provider and request.model:
        llm_adapter.set_provider_and_model(request.provider, request.model)
    result = await llm_adapter.chat(request.message, request.chat_history)
    return {**result, **_current()}


@router.post("/chat/stream")
async def chat_stream(request: ChatRequest) -> StreamingResponse:
    """Server-sent chat, with the real Hermes's defect kept: it never streams (legacy-adapters.md §2.8, §6 #17).

    ``send`` is an async generator function, so each callback call only builds a generator that nobody iterates:
    no chunk ever reaches ``events()``. The stream ends with its end marker alone. ``WS /ws/chat`` streams.
    """
    if request.provider and request.model:
        llm_adapter.set_provider_and_model(request.provider, request.model)

    async def send(update: Dict[str, Any]) -> AsyncIterator[str]:
        if update.get("error"):
            yield f"data: {json.dumps({'error': update['error'], 'done': True})}\n\n"
        elif update.get("chunk"):
            yield f"data: {json.dumps({'chunk': update['chunk'], 'done': False})}\n\n"

    async def events() -> AsyncIterator[str]:
        await llm_adapter.streaming_chat(request.message, send, request.chat_history)
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.post("/analyze/message")
async def analyze_message(request: MessageAnalysisRequest) -> Dict[str, Any]:
    return await llm_adapter.analyze_message(request.content, request.message_type)


@router.post("/analyze/service")
async def analyze_service(request: ServiceAnalysisRequest) -> Dict[str, Any]:
    return await llm_adapter.analyze_service(request.service_data)


@router.get("/providers")
async def get_providers() -> Dict[str, Any]:
    providers = await llm_adapter.get_available_providers()
    current = _current()
    return {"providers": providers, "current_provider": current["provider"], "current_model": current["model"]}


@router.post("/provider")
async def set_provider(provider: str, model: str) -> Dict[str, Any]:
    llm_adapter.set_provider_and_model(provider, model)
    return {"success": True, **_current()}


@router.websocket("/ws/chat")
async def websocket_chat(websocket: WebSocket) -> None:
    """Each JSON request ``{"message", "chat_history"?, "provider"?, "model"?}`` is answered as a stream."""
    await websocket.accept()

    async def forward(update: Dict[str, Any]) -> None:
        if update.get("error"):
            await websocket.send_json({"error": update["error"], "success": False, "done": True})
        elif update.get("done"):
            await websocket.send_json({"done": True, "success": True, **_current()})
        else:
            await websocket.send_json({"chunk": update.get("chunk", ""), "done": False, "success": True})

    try:
        while True:
            request = await websocket.receive_json()
            if request.get("provider") and request.get("model"):
                llm_adapter.set_provider_and_model(request["provider"], request["model"])
            await llm_adapter.streaming_chat(request.get("message", ""), forward, request.get("chat_history"))
    except WebSocketDisconnect:
        logger.info("LLM chat socket closed")
