"""Classic Rhetor's stored contexts (spec §6.8): write-only memory the model never reads.

Quirks kept on purpose: reading an unknown context creates it, deleting always succeeds.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI

from ._context import ServerContext
from ._wire import now_iso


def _context(ctx: ServerContext, context_id: str) -> dict[str, Any]:
    stored = ctx.contexts.get(context_id)
    if stored is None:
        now = now_iso()
        stored = {
            "id": context_id,
            "created_at": now,
            "updated_at": now,
            "messages": [],
            "metadata": {"component": context_id.split(":", 1)[0]},
        }
        ctx.contexts[context_id] = stored
    return stored


def _message(role: str, content: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "role": role, "content": content, "timestamp": now_iso(), "metadata": metadata}


def append_exchange(
    ctx: ServerContext, context_id: str, user: str, answer: str, model: str, provider: str, task_type: str
) -> None:
    """Record one user message and its answer under ``context_id``."""
    stored = _context(ctx, context_id)
    stored["messages"].append(_message("user", user, {"task_type": task_type}))
    stored["messages"].append(
        _message("assistant", answer, {"model": model, "provider": provider, "task_type": task_type})
    )
    stored["updated_at"] = now_iso()


def _summary(stored: dict[str, Any]) -> dict[str, Any]:
    count = len(stored["messages"])
    return {
        "id": stored["id"],
        "created_at": stored["created_at"],
        "updated_at": stored["updated_at"],
        "active_message_count": count,
        "archived_message_count": 0,
        "total_messages": count,
        "summary_count": 0,
        "latest_summary": None,
        "token_count": sum(len(m["content"]) // 4 for m in stored["messages"]),
        "metadata": stored["metadata"],
    }


def _public(message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
    if include_metadata:
        return dict(message)
    return {k: v for k, v in message.items() if k != "metadata"}


def register(app: FastAPI, ctx: ServerContext) -> None:
    @app.get("/contexts")
    async def list_contexts() -> dict[str, Any]:
        return {"count": len(ctx.contexts), "contexts": [_summary(c) for c in ctx.contexts.values()]}

    @app.get("/contexts/{context_id}")
    async def read(context_id: str, limit: int = 20, include_metadata: bool = False) -> dict[str, Any]:
        messages = _context(ctx, context_id)["messages"][-limit:] if limit > 0 else []
        return {
            "context_id": context_id,
            "count": len(messages),
            "messages": [_public(m, include_metadata) for m in messages],
        }

    @app.delete("/contexts/{context_id}")
    async def delete(context_id: str) -> dict[str, Any]:
        ctx.contexts.pop(context_id, None)
        return {"success": True, "context_id": context_id}

    @app.post("/contexts/{context_id}/search")
    async def search(context_id: str, query: str, limit: int = 5) -> dict[str, Any]:
        needle = query.lower()
        found = [m for m in _context(ctx, context_id)["messages"] if needle in m["content"].lower()][:limit]
        return {
            "context_id": context_id,
            "query": query,
            "count": len(found),
            "results": [_public(m, False) for m in found],
        }

    @app.post("/contexts/{context_id}/summarize")
    async def summarize(context_id: str, max_tokens: int = 150) -> dict[str, Any]:
        count = len(_context(ctx, context_id)["messages"])
        return {"context_id": context_id, "summary": f"Conversation with {count} messages."}
