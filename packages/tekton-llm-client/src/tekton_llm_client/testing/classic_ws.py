"""Classic Rhetor WebSocket ``/ws`` (spec §7): typed envelopes, typing indicators, and sockets that die.

Any exception while handling a frame (a non-JSON frame included) is reported in one ``ERROR`` frame, after which
the socket is never answered again; only "Unsupported request type" keeps the loop alive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from . import classic_store, simulated
from ._context import ServerContext
from ._script import pieces
from ._wire import MALFORMED, now_iso
from ._ws import FrameReader
from .classic_http import (
    SHIPPED_ERROR,
    VERSION,
    answer_body,
    chunk,
    error_body,
    provider_availability,
    provider_fails,
    route,
)

Outcome = Literal["next", "dead", "close", "drop"]
_GENERATION = ("LLM_REQUEST", "CHAT_REQUEST")


def envelope(kind: str, source: str, target: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "source": source, "target": target, "timestamp": now_iso(), "payload": payload}


def error_frame(text: str) -> dict[str, Any]:
    """Server ERROR frames carry only ``type`` and ``payload``."""
    return {"type": "ERROR", "payload": {"error": text}}


def register(app: FastAPI, ctx: ServerContext, *, as_shipped: bool) -> None:
    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        reader = FrameReader(websocket, ctx)
        try:
            while (text := await reader.next()) is not None:
                outcome = await _handle(reader, ctx, text, as_shipped=as_shipped)
                if outcome == "dead":
                    await reader.play_dead()
                    return
                if outcome == "close":
                    await websocket.close()
                    return
                if outcome == "drop":
                    return  # no close frame: the connection is cut
        except WebSocketDisconnect:
            return


async def _handle(reader: FrameReader, ctx: ServerContext, text: str, *, as_shipped: bool) -> Outcome:
    try:
        frame = json.loads(text)
        if ctx.faults.not_initialized:
            await reader.send(error_frame("Rhetor components not initialized"))
            return "close"
        kind = frame.get("type")
        source = frame.get("source")
        if kind == "REGISTER":
            await reader.send(envelope("RESPONSE", "SYSTEM", source or "UNKNOWN", _registered()))
            return "next"
        if kind == "STATUS":
            await reader.send(envelope("RESPONSE", "SYSTEM", source or "UI", _status(ctx)))
            return "next"
        if kind not in _GENERATION:
            await reader.send(error_frame(f"Unsupported request type: {kind}"))
            return "next"
        if as_shipped:
            raise AttributeError(SHIPPED_ERROR)
        return await _generate(reader, ctx, kind, frame.get("payload") or {}, source or "UI")
    except WebSocketDisconnect:
        raise
    except Exception as exc:
        await reader.send(error_frame(str(exc)))
        return "dead"


def _registered() -> dict[str, Any]:
    return {"status": "registered", "message": "Client registered successfully with Rhetor LLM Manager"}


def _status(ctx: ServerContext) -> dict[str, Any]:
    return {
        "status": "ok",
        "service": "rhetor",
        "version": VERSION,
        "providers": provider_availability(),
        "default_provider": ctx.default_provider,
        "default_model": ctx.default_model,
        "budget": {
            "daily_usage": 0.0,
            "weekly_usage": 0.0,
            "monthly_usage": 0.0,
            "daily_limit": 0.0,
            "weekly_limit": 0.0,
            "monthly_limit": 0.0,
            "budget_enabled": True,
        },
        "message": "Rhetor LLM Manager is running",
    }


async def _generate(
    reader: FrameReader, ctx: ServerContext, kind: str, payload: dict[str, Any], target: str
) -> Outcome:
    """Typing on, the answer (chunks then ``done``, or one RESPONSE), typing off."""
    context = str(payload.get("context") or "default")
    task_type = str(payload.get("task_type") or "default")
    provider, model = route(payload.get("options"))
    if kind == "LLM_REQUEST":
        user = str(payload["message"])
        default = simulated.message_text(user, model)
    else:
        messages = list(payload["messages"])
        user = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        default = simulated.chat_text(messages, model, simulated.system_prompt_of(messages))
    faults = ctx.faults
    failed = provider_fails(ctx)
    streaming = payload.get("streaming", True)
    text = "" if failed else ctx.reply(payload, lambda: default)

    def update(body: dict[str, Any]) -> dict[str, Any]:
        return envelope("UPDATE", "LLM", target, body)

    if faults.first_byte_delay > 0:
        await asyncio.sleep(faults.first_byte_delay)
    await reader.send(update({"status": "typing", "isTyping": True, "context": context}))
    if failed and streaming:
        await reader.send(update(error_body(faults.error_message, context, done=True)))
    elif failed:
        await reader.send(envelope("RESPONSE", "LLM", target, error_body(faults.error_message, context)))
    elif streaming:
        if await _stream(reader, ctx, text, model, provider, context, update) == "drop":
            return "drop"
    else:
        await reader.send(envelope("RESPONSE", "LLM", target, answer_body(text, model, provider, context)))
    if not failed:
        classic_store.append_exchange(ctx, context, user, text, model, provider, task_type)
    await reader.send(update({"status": "typing", "isTyping": False, "context": context}))
    return "next"


async def _stream(
    reader: FrameReader,
    ctx: ServerContext,
    text: str,
    model: str,
    provider: str,
    context: str,
    update: Callable[[dict[str, Any]], dict[str, Any]],
) -> Outcome:
    async for piece in pieces(text, model, ctx.faults):
        if piece.kind == "text":
            await reader.send(update(chunk(piece.text, context, model, provider)))
        elif piece.kind == "error":
            await reader.send(update(error_body(piece.text, context, done=True)))
            return "next"
        elif piece.kind == "malformed":
            await reader.send(MALFORMED)
        else:
            return "drop"
    await reader.send(update(chunk("", context, model, provider, done=True)))
    return "next"
