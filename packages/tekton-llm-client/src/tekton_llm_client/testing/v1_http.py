"""Rhetor v1 HTTP routes (ckoons/Tekton ``7a37122a``, spec §4), intended or as shipped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sse_starlette import ServerSentEvent

from . import _sse, simulated
from ._abort import StreamAbort
from ._context import ServerContext
from ._models import V1BudgetPolicyRequest, V1ChatRequest, V1ContextRequest
from ._script import pieces
from ._wire import MALFORMED, now_iso

VERSION = "0.1.0"
DESCRIPTION = "LLM orchestration and management service"
GENERATION_PATHS = frozenset({"/api/v1/chat", "/api/v1/chat/stream"})
_COMPONENT_ROUTES = ("chat", "models", "context", "budget", "templates", "prompts", "registry", "specialists")

_HEALTH_DETAILS = dict.fromkeys(
    (
        "llm_client",
        "model_router",
        "specialist_router",
        "ai_specialist_manager",
        "ai_messaging_integration",
        "context_manager",
        "prompt_engine",
        "template_manager",
        "prompt_registry",
        "budget_manager",
        "anthropic_max_config",
        "anthropic_max_enabled",
        "mcp_bridge",
        "mcp_integration",
    ),
    True,
) | {"anthropic_max_enabled": False}

_ENDPOINTS = (
    ("/api/v1/chat", "POST", "Send chat messages"),
    ("/api/v1/chat/stream", "POST", "Stream chat responses"),
    ("/api/v1/templates", "*", "Template management"),
    ("/api/v1/prompts", "*", "Prompt operations"),
    ("/api/v1/registry", "*", "Prompt registry"),
    ("/api/v1/context", "*", "Context management"),
    ("/api/v1/models", "GET", "List available models"),
    ("/api/v1/budget", "*", "Budget management"),
    ("/api/v1/specialists", "*", "AI specialist management"),
    ("/ws", "WEBSOCKET", "WebSocket for streaming"),
)

SHIPPED_CHAT_ERROR = "ModelRouter.route_request() got an unexpected keyword argument 'messages'"
SHIPPED_CONTEXT_ERROR = "'ContextManager' object has no attribute 'get_context'"
SHIPPED_STREAM_ERROR = "'ModelRouter' object has no attribute 'route_request_stream'"


def not_initialized_detail(path: str) -> str | None:
    """Every /api/v1 component route answers 503 when Rhetor is not initialized; discovery does not."""
    parts = path.split("/")
    if len(parts) > 3 and parts[1:3] == ["api", "v1"] and parts[3] in _COMPONENT_ROUTES:
        return "Rhetor not initialized"
    return None


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _text_500() -> PlainTextResponse:
    """What FastAPI answers for an unhandled exception: not JSON."""
    return PlainTextResponse("Internal Server Error", status_code=500)


def chunk(content: str, context_id: str | None, model: str) -> dict[str, Any]:
    """A v1 text chunk (WebSocket frame and, by project convention, SSE event): no ``type``, ``done`` false."""
    return {
        "content": content,
        "done": False,
        "error": None,
        "context_id": context_id,
        "model": model,
        "provider": simulated.PROVIDER,
        "timestamp": now_iso(),
    }


def register(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    _register_info(app, ctx)
    _register_chat(app, ctx, as_shipped=as_shipped)
    _register_resources(app, ctx, as_shipped=as_shipped)
    _register_shipped_only(app)


def _register_info(app: FastAPI, ctx: ServerContext) -> None:
    @app.get("/")
    async def root() -> dict[str, Any]:
        return {
            "name": "rhetor LLM Orchestration API",
            "version": VERSION,
            "status": "running",
            "description": DESCRIPTION,
            "documentation": "/api/v1/docs",
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "degraded" if ctx.faults.not_initialized else "healthy",
            "component": "rhetor",
            "version": VERSION,
            "timestamp": now_iso(),
            "uptime": None,
            "port": ctx.port,
            "registeredWithHermes": False,
            "dependencies": [],
            "metrics": {},
            "details": _HEALTH_DETAILS,
        }

    @app.get("/ready")
    async def ready() -> dict[str, Any]:
        return {
            "ready": not ctx.faults.not_initialized,
            "component": "rhetor",
            "version": VERSION,
            "initializationTime": 7.15e-06,
            "timestamp": now_iso(),
        }

    @app.get("/api/v1/discovery")
    async def discovery() -> dict[str, Any]:
        return {
            "component": "rhetor",
            "version": VERSION,
            "description": DESCRIPTION,
            "endpoints": [{"path": p, "method": m, "description": d} for p, m, d in _ENDPOINTS],
            "capabilities": ["llm_routing", "chat", "streaming", "context_management", "budget_management"],
            "dependencies": {"hermes": "http://localhost:8001"},
            "metadata": {"websocket_endpoint": "/ws", "documentation": "/api/v1/docs"},
        }


def _register_chat(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    def answer(body: V1ChatRequest, raw: dict[str, Any], model: str) -> str:
        messages = [m.model_dump() for m in body.messages]
        return ctx.reply(raw, lambda: simulated.chat_text(messages, model, simulated.system_prompt_of(messages)))

    @app.post("/api/v1/chat")
    async def chat(body: V1ChatRequest, request: Request) -> Response:
        if as_shipped:
            return _error(500, SHIPPED_CONTEXT_ERROR if body.context_id else SHIPPED_CHAT_ERROR)
        if body.context_id is not None and body.context_id not in ctx.contexts:
            return _error(404, f"Context not found: {body.context_id}")
        if ctx.faults.error_in_200:
            return _error(500, ctx.faults.error_message)
        model = body.model or simulated.DEFAULT_MODEL
        content = "" if ctx.faults.provider_unavailable else answer(body, await request.json(), model)
        if body.context_id is not None:
            stored = ctx.contexts[body.context_id]["messages"]
            stored.extend(m.model_dump() for m in body.messages)
            stored.append({"role": "assistant", "content": content})
        return JSONResponse(
            {"content": content, "model": model, "usage": None, "contextId": body.context_id, "metadata": None}
        )

    @app.post("/api/v1/chat/stream")
    async def chat_stream(body: V1ChatRequest, request: Request) -> Response:
        faults = ctx.faults
        if as_shipped:
            events = _single({"error": SHIPPED_STREAM_ERROR})
        elif faults.error_in_200:
            events = _single({"error": faults.error_message})
        else:
            model = body.model or simulated.DEFAULT_MODEL
            text = "" if faults.provider_unavailable else answer(body, await request.json(), model)
            events = _stream(ctx, text, model, body.context_id)
        return _sse.response(events, faults.ping_interval)


async def _single(data: dict[str, Any]) -> AsyncIterator[ServerSentEvent]:
    yield _sse.event(data)


async def _stream(ctx: ServerContext, text: str, model: str, context_id: str | None) -> AsyncIterator[ServerSentEvent]:
    """One ``data:`` line per chunk, no ``event:`` line, no terminator: the body just ends."""
    if not text:  # an unavailable provider still yields one empty chunk
        yield _sse.event(chunk("", context_id, model))
        return
    async for piece in pieces(text, model, ctx.faults):
        if piece.kind == "text":
            yield _sse.event(chunk(piece.text, context_id, model))
        elif piece.kind == "error":
            yield _sse.event({"error": piece.text})
        elif piece.kind == "malformed":
            yield _sse.event(MALFORMED)
        else:
            raise StreamAbort


def _register_resources(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.get("/api/v1/models")
    async def models() -> Response:
        if as_shipped:
            return _text_500()
        return JSONResponse({"models": {simulated.PROVIDER: list(simulated.MODELS)}})

    @app.post("/api/v1/context")
    async def create_context(body: V1ContextRequest) -> Response:
        if as_shipped:
            return _text_500()
        context_id = body.context_id or str(uuid.uuid4())
        ctx.contexts[context_id] = {
            "context_id": context_id,
            "messages": [m.model_dump() for m in body.messages or []],
            "metadata": body.metadata or {},
        }
        return JSONResponse({"context_id": context_id})

    @app.get("/api/v1/context/{context_id}")
    async def read_context(context_id: str) -> Response:
        if as_shipped:
            return _text_500()
        if context_id not in ctx.contexts:
            return _error(404, f"Context not found: {context_id}")
        return JSONResponse(ctx.contexts[context_id])

    @app.delete("/api/v1/context/{context_id}")
    async def delete_context(context_id: str) -> dict[str, str]:
        ctx.contexts.pop(context_id, None)
        return {"message": f"Context '{context_id}' deleted successfully"}

    _register_budget(app, as_shipped=as_shipped)


def _register_budget(app: FastAPI, *, as_shipped: bool) -> None:
    @app.get("/api/v1/budget/usage")
    async def budget_usage() -> dict[str, Any]:
        return {"period": "daily", "total_cost": 0.0, "total_tokens": 0, "groups": {}}

    @app.post("/api/v1/budget/policies")
    async def budget_policy(body: V1BudgetPolicyRequest) -> Response:
        if as_shipped:
            return _error(400, "'BudgetManager' object has no attribute 'create_policy'")
        return JSONResponse({"policy_id": str(uuid.uuid4()), "message": "Budget policy created successfully"})


def _register_shipped_only(app: FastAPI) -> None:
    """Routes the client never uses, served as shipped in both v1 profiles (spec §4.9 allows it)."""
    template_error = "TemplateManager.save_template() got an unexpected keyword argument 'name'"

    @app.get("/api/v1/templates")
    @app.get("/api/v1/templates/{name}")
    @app.get("/api/v1/registry")
    @app.get("/api/v1/registry/{name}")
    @app.get("/api/v1/specialists/{specialist_id}")
    async def broken_reads() -> Response:
        return _text_500()

    @app.post("/api/v1/templates")
    @app.put("/api/v1/templates/{name}")
    @app.delete("/api/v1/templates/{name}")
    async def broken_templates() -> Response:
        return _error(400, template_error)

    @app.post("/api/v1/prompts/render")
    async def broken_render() -> Response:
        return _error(400, "'PromptEngine' object has no attribute 'render_prompt'")

    @app.post("/api/v1/registry")
    async def broken_registry() -> Response:
        return _error(400, "'PromptRegistry' object has no attribute 'register_prompt'")

    @app.get("/api/v1/specialists")
    async def specialists() -> dict[str, Any]:
        return {
            "specialists": [
                {
                    "specialist_id": "rhetor-orchestrator",
                    "status": "inactive",
                    "process_id": None,
                    "specialist_type": "meta-orchestrator",
                    "component_id": "rhetor",
                    "capabilities": ["orchestration", "llm_routing"],
                }
            ]
        }
