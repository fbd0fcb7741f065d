"""Engram's LLM endpoints under ``/v1/llm``: chat (plain or streamed), memory analysis, model listing.

A fresh adapter is injected per request through ``Depends`` so each request sees the current environment.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from engram.core.llm_adapter import LLMAdapter

router = APIRouter(prefix="/v1/llm", tags=["llm"])


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    messages: List[ChatMessage]
    model: Optional[str] = None
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    system_prompt: Optional[str] = None


class AnalyzeRequest(BaseModel):
    content: str
    context: Optional[str] = None
    model: Optional[str] = None


def get_llm_adapter() -> LLMAdapter:
    return LLMAdapter()


@router.post("/chat")
async def chat(request: ChatRequest, llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> Dict[str, Any]:
    model = request.model or llm_adapter.default_model
    content = await llm_adapter.chat(
        messages=[m.model_dump() for m in request.messages],
        model=model,
        temperature=request.temperature,
        max_tokens=request.max_tokens,
        system_prompt=request.system_prompt,
    )
    return {"content": content, "model": model}


@router.post("/chat/stream")
async def chat_stream(request: ChatRequest, llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> StreamingResponse:
    model = request.model or llm_adapter.default_model

    async def events() -> AsyncIterator[str]:
        async for chunk in llm_adapter._stream_chat(
            messages=[m.model_dump() for m in request.messages],
            model=model,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            system_prompt=request.system_prompt,
        ):
            yield f"data: {json.dumps({'chunk': chunk, 'done': False})}\n\n"
        yield f"data: {json.dumps({'chunk': '', 'done': True, 'model': model})}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.post("/analyze")
async def analyze(request: AnalyzeRequest, llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> Dict[str, Any]:
    model = request.model or llm_adapter.default_model
    result = await llm_adapter.analyze_memory(content=request.content, context=request.context, model=model)
    return {**result, "model": model}


@router.get("/models")
async def models(llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> Dict[str, Any]:
    return {"models": llm_adapter.get_available_models(), "default_model": llm_adapter.default_model}
