"""Engram's LLM endpoints under ``/v1/llm``: chat (plain or streamed), memory analysis, model listing.

A fresh adapter is injected per request through ``Depends`` so each request sees the current environment.
The ``/generate`` routes and ``/models/live`` are the post-migration call sites of the real Engram: they take
the adapter's client (``await llm_adapter._get_client()``) and call ``generate_text`` with ``LLMSettings``, and
they ``await`` ``get_available_models()``, which the pre-migration adapter offers only as a plain method.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from tekton_llm_client import LLMSettings

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


class GenerateRequest(BaseModel):
    prompt: str
    system_prompt: Optional[str] = None
    model: Optional[str] = None
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None


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


def _settings(request: GenerateRequest) -> LLMSettings:
    return LLMSettings(temperature=request.temperature, max_tokens=request.max_tokens, model=request.model)


@router.post("/generate")
async def generate(request: GenerateRequest, llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> Dict[str, Any]:
    try:
        client = await llm_adapter._get_client()
        response = await client.generate_text(
            prompt=request.prompt, system_prompt=request.system_prompt, settings=_settings(request)
        )
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"Error generating text: {exc}") from exc
    return {
        "content": response.content,
        "model": response.model or llm_adapter.default_model,
        "provider": response.provider or llm_adapter.default_provider,
    }


@router.post("/generate/stream")
async def generate_stream(
    request: GenerateRequest, llm_adapter: LLMAdapter = Depends(get_llm_adapter)
) -> StreamingResponse:
    try:
        client = await llm_adapter._get_client()
        stream = await client.generate_text(
            prompt=request.prompt, system_prompt=request.system_prompt, settings=_settings(request), streaming=True
        )
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"Error generating text: {exc}") from exc

    async def events() -> AsyncIterator[str]:
        async for chunk in stream:
            text = chunk if isinstance(chunk, str) else chunk.chunk
            if text:
                yield f"data: {json.dumps({'chunk': text, 'done': False})}\n\n"
        info = getattr(stream, "_model_info", {}) or {}
        model = info.get("model") or llm_adapter.default_model
        provider = info.get("provider") or llm_adapter.default_provider
        yield f"data: {json.dumps({'chunk': '', 'done': True, 'model': model, 'provider': provider})}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/models/live")
async def live_models(llm_adapter: LLMAdapter = Depends(get_llm_adapter)) -> Dict[str, Any]:
    try:
        # Awaited, as the post-migration Engram does; the pre-migration method is a plain one (spec §6 #10).
        models = await llm_adapter.get_available_models()
    except Exception as exc:
        raise HTTPException(status_code=500, detail=f"Error listing models: {exc}") from exc
    return {"models": models, "default_model": llm_adapter.default_model}
