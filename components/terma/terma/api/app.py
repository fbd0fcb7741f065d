"""Terma's HTTP and WebSocket API: terminal sessions plus LLM provider/model selection.

The LLM adapter is imported inside each handler, as the real Terma does, so the API module imports even when
the LLM stack is unavailable and every request sees the current config file.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

import httpx
from fastapi import FastAPI, HTTPException, WebSocket
from pydantic import BaseModel

from ..utils.config import LLM_PROVIDERS
from .websocket import TerminalWebSocketHandler

logger = logging.getLogger("terma")

app = FastAPI(title="Terma", description="Terminal sessions with LLM assistance")


class ProviderModelRequest(BaseModel):
    provider: str
    model: str


@app.get("/health")
async def health() -> Dict[str, str]:
    return {"status": "healthy", "service": "terma"}


@app.get("/api/llm/providers")
async def get_llm_providers() -> Dict[str, Any]:
    from ..core.llm_adapter import LLMAdapter

    llm_adapter = LLMAdapter()
    try:
        # Only informative: the listing below has a fallback of the same shape.
        async with httpx.AsyncClient(timeout=2.0) as client:
            health_response = await client.get(f"{llm_adapter.adapter_url}/health")
        logger.info("LLM service health: HTTP %s", health_response.status_code)
    except httpx.HTTPError as exc:
        logger.info("LLM service health check failed: %s", exc)
    current_provider, current_model = llm_adapter.get_current_provider_and_model()
    return {
        "providers": await llm_adapter.get_available_providers(),
        "current_provider": current_provider,
        "current_model": current_model,
    }


@app.get("/api/llm/models/{provider_id}")
async def get_llm_models(provider_id: str) -> Dict[str, Any]:
    from ..core.llm_adapter import LLMAdapter

    if provider_id not in LLM_PROVIDERS:
        raise HTTPException(status_code=404, detail=f"Provider {provider_id} not found")
    llm_adapter = LLMAdapter()
    current_provider, current_model = llm_adapter.get_current_provider_and_model()
    return {
        "models": LLM_PROVIDERS[provider_id]["models"],
        "current_model": current_model if current_provider == provider_id else "",
    }


@app.post("/api/llm/set")
async def set_llm_provider_model(request: ProviderModelRequest) -> Dict[str, str]:
    from ..core.llm_adapter import LLMAdapter

    provider = LLM_PROVIDERS.get(request.provider)
    if provider is None:
        raise HTTPException(status_code=404, detail=f"Provider {request.provider} not found")
    if request.model not in {model["id"] for model in provider["models"]}:
        raise HTTPException(status_code=404, detail=f"Model {request.model} not found for {request.provider}")
    llm_adapter = LLMAdapter()
    llm_adapter.set_provider_and_model(request.provider, request.model)
    return {"status": "success"}


@app.websocket("/ws/{session_id}")
async def terminal_websocket(websocket: WebSocket, session_id: str) -> None:
    await TerminalWebSocketHandler(websocket, session_id).run()
