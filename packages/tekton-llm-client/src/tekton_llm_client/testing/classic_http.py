"""Classic Rhetor HTTP routes (ckoons/Rhetor ``ba8a65a``, spec §6), intended or as shipped.

Classic answers are plain dicts (snake_case), provider failures are HTTP 200 with an ``error`` key, and every
SSE event is named ``message`` and the stream ends with an in-band ``done: true`` chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sse_starlette import ServerSentEvent

from . import _sse, classic_store, simulated
from ._abort import StreamAbort
from ._context import ServerContext
from ._models import (
    BudgetLimitRequest,
    BudgetPolicyRequest,
    ClassicChatRequest,
    ClassicMessageRequest,
    ClassicStreamRequest,
    ProviderRequest,
)
from ._script import pieces
from ._wire import MALFORMED, now_iso

VERSION = "0.1.0"
GENERATION_PATHS = frozenset({"/message", "/chat", "/stream"})
SHIPPED_ERROR = "'PromptEngine' object has no attribute 'get_system_prompt'"
ASYNC_FOR_ERROR = "'async for' requires an object with __aiter__ method, got coroutine"

_PROVIDERS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "anthropic": (
        "Anthropic Claude",
        (
            ("claude-3-opus-20240229", "Claude 3 Opus"),
            ("claude-3-sonnet-20240229", "Claude 3 Sonnet"),
            ("claude-3-haiku-20240307", "Claude 3 Haiku"),
        ),
    ),
    "openai": ("OpenAI", (("gpt-4o", "GPT-4o"), ("gpt-4-turbo", "GPT-4 Turbo"), ("gpt-3.5-turbo", "GPT-3.5 Turbo"))),
    "ollama": ("Ollama", (("llama3", "Llama 3"), ("mistral", "Mistral"))),
    simulated.PROVIDER: ("Simulated LLM", tuple((m["id"], m["name"]) for m in simulated.MODELS)),
}
_PERIODS = ("daily", "weekly", "monthly")
_POLICIES = ("ignore", "warn", "enforce")


def not_initialized_detail(path: str) -> str | None:
    if path in ("/providers", "/provider"):
        return "LLM client not initialized"
    if path in GENERATION_PATHS or path == "/contexts" or path.startswith("/contexts/"):
        return "Rhetor components not initialized"
    return None


def provider_availability() -> dict[str, bool]:
    return {name: name == simulated.PROVIDER for name in _PROVIDERS}


def route(options: dict[str, Any] | None) -> tuple[str, str]:
    """Provider and model after the ``options`` override (``options.provider``, ``options.model``)."""
    options = options or {}
    return str(options.get("provider") or simulated.PROVIDER), str(options.get("model") or simulated.DEFAULT_MODEL)


def answer_body(text: str, model: str, provider: str, context: str) -> dict[str, Any]:
    return {
        "message": text,
        "model": model,
        "provider": provider,
        "finished": True,
        "simulated": True,
        "timestamp": now_iso(),
        "context": context,
    }


def error_body(text: str, context: str, *, done: bool = False) -> dict[str, Any]:
    """A provider failure: the 200 body (``done`` absent) or the error chunk (``done: true``)."""
    body: dict[str, Any] = {"error": text, "context": context, "timestamp": now_iso()}
    if done:
        body["done"] = True
    return body


def chunk(text: str, context: str, model: str, provider: str, *, done: bool = False) -> dict[str, Any]:
    return {
        "chunk": text,
        "context": context,
        "model": model,
        "provider": provider,
        "timestamp": now_iso(),
        "done": done,
    }


def provider_fails(ctx: ServerContext) -> bool:
    return ctx.faults.error_in_200 or ctx.faults.provider_unavailable


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def register(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    _register_info(app, ctx, as_shipped=as_shipped)
    _register_generation(app, ctx, as_shipped=as_shipped)
    classic_store.register(app, ctx)
    _register_budget(app)


def _register_info(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "healthy", "version": VERSION, "providers": provider_availability()}

    @app.get("/")
    async def root() -> Response:
        if as_shipped:
            return PlainTextResponse("Internal Server Error", status_code=500)
        return JSONResponse(
            {
                "name": "Rhetor",
                "version": VERSION,
                "status": "running",
                "endpoints": ["/message", "/stream", "/chat", "/providers", "/provider", "/contexts", "/budget", "/ws"],
            }
        )

    @app.get("/providers")
    async def providers() -> dict[str, Any]:
        listed = {
            name: {
                "name": title,
                "available": name == simulated.PROVIDER,
                "models": [{"id": model_id, "name": model_name} for model_id, model_name in models],
            }
            for name, (title, models) in _PROVIDERS.items()
        }
        return {"providers": listed, "default_provider": ctx.default_provider, "default_model": ctx.default_model}

    @app.post("/provider")
    async def set_provider(body: ProviderRequest) -> Response:
        if body.provider_id not in _PROVIDERS:
            return _error(400, f"Provider {body.provider_id} not found")
        if body.model_id not in {m for m, _ in _PROVIDERS[body.provider_id][1]}:
            return _error(400, f"Model {body.model_id} not available from provider {body.provider_id}")
        ctx.default_provider, ctx.default_model = body.provider_id, body.model_id
        return JSONResponse({"success": True, "provider": body.provider_id, "model": body.model_id})


def _register_generation(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    _register_message(app, ctx, as_shipped=as_shipped)
    _register_chat(app, ctx, as_shipped=as_shipped)
    _register_stream(app, ctx, as_shipped=as_shipped)

    @app.get("/templates")
    async def templates() -> Response:
        return _error(500, "TemplateManager.list_templates() got an unexpected keyword argument 'tag'")

    @app.get("/prompts")
    async def prompts() -> Response:
        return _error(500, "PromptRegistry.list_prompts() got an unexpected keyword argument 'tag'")


def _register_message(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.post("/message")
    async def message(body: ClassicMessageRequest, request: Request) -> Response:
        if as_shipped:
            return _error(500, SHIPPED_ERROR)
        if body.streaming:
            return _error(500, ASYNC_FOR_ERROR)
        provider, model = route(body.options)
        if provider_fails(ctx):
            return JSONResponse(error_body(ctx.faults.error_message, body.context_id))
        text = ctx.reply(await request.json(), lambda: simulated.message_text(body.message, model))
        classic_store.append_exchange(ctx, body.context_id, body.message, text, model, provider, body.task_type)
        return JSONResponse(answer_body(text, model, provider, body.context_id))


def _register_chat(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.post("/chat")
    async def chat(body: ClassicChatRequest, request: Request) -> Response:
        if as_shipped:
            return _error(500, SHIPPED_ERROR)
        provider, model = route(body.options)
        messages = [m.model_dump() for m in body.messages]
        text = ""
        if not provider_fails(ctx):
            default = simulated.chat_text(messages, model, simulated.system_prompt_of(messages))
            text = ctx.reply(await request.json(), lambda: default)
            last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
            classic_store.append_exchange(ctx, body.context_id, last, text, model, provider, body.task_type)
        if body.streaming:
            return _sse.response(stream_events(ctx, text, model, provider, body.context_id), ctx.faults.ping_interval)
        if provider_fails(ctx):
            return JSONResponse(error_body(ctx.faults.error_message, body.context_id))
        return JSONResponse(answer_body(text, model, provider, body.context_id))


def _register_stream(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.post("/stream")
    async def stream(body: ClassicStreamRequest, request: Request) -> Response:
        if as_shipped:
            return _error(500, SHIPPED_ERROR)
        provider, model = route(body.options)
        text = ""
        if not provider_fails(ctx):
            text = ctx.reply(await request.json(), lambda: simulated.message_text(body.message, model))
            classic_store.append_exchange(ctx, body.context_id, body.message, text, model, provider, body.task_type)
        return _sse.response(stream_events(ctx, text, model, provider, body.context_id), ctx.faults.ping_interval)


async def stream_events(
    ctx: ServerContext, text: str, model: str, provider: str, context: str
) -> AsyncIterator[ServerSentEvent]:
    """``event: message`` events: text chunks, then a ``done: true`` chunk (or an error chunk instead)."""
    if provider_fails(ctx):
        yield _sse.event(error_body(ctx.faults.error_message, context, done=True), name="message")
        return
    async for piece in pieces(text, model, ctx.faults):
        if piece.kind == "text":
            yield _sse.event(chunk(piece.text, context, model, provider), name="message")
        elif piece.kind == "error":
            yield _sse.event(error_body(piece.text, context, done=True), name="message")
            return
        elif piece.kind == "malformed":
            yield _sse.event(MALFORMED, name="message")
        else:
            raise StreamAbort
    yield _sse.event(chunk("", context, model, provider, done=True), name="message")


def _bad_period(period: str) -> JSONResponse | None:
    if period in _PERIODS:
        return None
    return _error(400, f"Invalid period: {period}. Must be one of: {', '.join(_PERIODS)}")


def _bad_policy(policy: str | None) -> JSONResponse | None:
    if policy is None or policy in _POLICIES:
        return None
    return _error(400, f"Invalid enforcement policy: {policy}. Must be one of: {', '.join(_POLICIES)}")


def _register_budget(app: FastAPI) -> None:
    """Classic's budget routes: settings are accepted and forgotten, usage is always zero."""
    _register_budget_settings(app)
    _register_budget_reports(app)


def _register_budget_settings(app: FastAPI) -> None:
    @app.get("/budget")
    async def budget() -> dict[str, Any]:
        status = {"usage": 0.0, "limit": 0.0, "remaining": None, "policy": "warn", "percentage": None}
        return {period: dict(status) for period in _PERIODS}

    @app.get("/budget/settings")
    async def settings() -> dict[str, Any]:
        return {period: [] for period in _PERIODS}

    @app.post("/budget/limit")
    async def limit(body: BudgetLimitRequest) -> Response:
        problem = _bad_period(body.period) or _bad_policy(body.enforcement)
        if problem is not None:
            return problem
        return JSONResponse(
            {
                "success": True,
                "period": body.period,
                "limit_amount": body.limit_amount,
                "provider": body.provider,
                "enforcement": body.enforcement or "warn",
            }
        )

    @app.post("/budget/policy")
    async def policy(body: BudgetPolicyRequest) -> Response:
        problem = _bad_period(body.period) or _bad_policy(body.policy)
        if problem is not None:
            return problem
        return JSONResponse({"success": True, "period": body.period, "policy": body.policy, "provider": body.provider})


def _register_budget_reports(app: FastAPI) -> None:
    @app.get("/budget/usage")
    async def usage(period: str = "daily", provider: str | None = None) -> Response:
        problem = _bad_period(period)
        if problem is not None:
            return problem
        return JSONResponse({"period": period, "provider": provider or None, "count": 0, "usage": []})

    @app.get("/budget/summary")
    async def summary(period: str = "daily", group_by: str = "provider") -> Response:
        problem = _bad_period(period)
        if problem is not None:
            return problem
        return JSONResponse({"period": period, "total_cost": 0.0, "total_tokens": 0, "groups": {}})

    @app.get("/budget/model-tiers")
    async def model_tiers() -> dict[str, Any]:
        return _MODEL_TIERS


def _tier(provider: str, model: str, cost: float) -> dict[str, Any]:
    return {"provider": provider, "model": model, "cost_per_1k_tokens": cost}


_MODEL_TIERS = {
    "free": [_tier("ollama", "llama3", 0.0), _tier("simulated", "simulated-fast", 0.0)],
    "low": [_tier("anthropic", "claude-3-haiku-20240307", 0.00025), _tier("openai", "gpt-3.5-turbo", 0.0005)],
    "medium": [_tier("anthropic", "claude-3-sonnet-20240229", 0.003), _tier("openai", "gpt-4o", 0.005)],
    "high": [_tier("anthropic", "claude-3-opus-20240229", 0.015), _tier("openai", "gpt-4-turbo", 0.01)],
}
