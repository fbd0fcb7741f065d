"""Rhetor v1 WebSocket ``/ws`` (spec §5): bare JSON frames, ``stream_complete`` terminator.

Frames are handled strictly one after another: the next frame is read only once the previous answer is out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from . import simulated
from ._context import ServerContext
from ._script import pieces
from ._wire import MALFORMED, now_iso
from ._ws import FrameReader
from .recording import parse_json
from .v1_http import chunk

COMPLETE = {"type": "stream_complete"}


def _error(text: str) -> dict[str, str]:
    return {"error": text, "type": "error"}


def _provider_error(text: str, context_id: str) -> dict[str, Any]:
    return {"error": text, "context": context_id, "timestamp": now_iso(), "done": True}


def register(app: FastAPI, ctx: ServerContext) -> None:
    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        reader = FrameReader(websocket, ctx)
        try:
            while (text := await reader.next()) is not None:
                is_json, frame = parse_json(text)
                if not is_json:  # the shipped server's read loop dies silently: no reply, no close
                    await reader.play_dead()
                    return
                if not await _answer(reader, ctx, frame):
                    return  # dropped on purpose: returning without a close frame cuts the connection
        except WebSocketDisconnect:
            return


def _problem(frame: Any, ctx: ServerContext) -> str | None:
    """The error frame's text for a request Rhetor refuses, else ``None``."""
    if not isinstance(frame, dict):
        return f"'{type(frame).__name__}' object has no attribute 'get'"
    if ctx.faults.not_initialized:
        return "Rhetor not initialized"
    messages = frame.get("messages")
    if not messages:
        return "No messages provided. At least one message is required."
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "messages must be a list of {role, content} objects"
    return None


async def _answer(reader: FrameReader, ctx: ServerContext, frame: Any) -> bool:
    """Send the full answer to one request frame; ``False`` means the socket must be dropped."""
    problem = _problem(frame, ctx)
    if problem is not None:
        await reader.send(_error(problem))
        return True
    faults = ctx.faults
    if faults.first_byte_delay > 0:
        await asyncio.sleep(faults.first_byte_delay)
    context_id = str(frame.get("context_id") or "websocket-default")
    model = str(frame.get("model") or simulated.DEFAULT_MODEL)
    if faults.error_in_200:
        await reader.send(_provider_error(faults.error_message, context_id))
    elif faults.provider_unavailable:
        await reader.send(chunk("", context_id, model))
    elif not await _stream(reader, ctx, frame, context_id, model):
        return False
    await reader.send(COMPLETE)
    return True


async def _stream(reader: FrameReader, ctx: ServerContext, frame: dict[str, Any], context_id: str, model: str) -> bool:
    """The answer's chunk frames; ``False`` when the script drops the connection."""
    messages = frame["messages"]
    system_prompt = simulated.system_prompt_of(messages, frame.get("system_prompt"))
    text = ctx.reply(frame, lambda: simulated.chat_text(messages, model, system_prompt))
    async for piece in pieces(text, model, ctx.faults):
        if piece.kind == "text":
            await reader.send(chunk(piece.text, context_id, model))
        elif piece.kind == "error":
            await reader.send(_provider_error(piece.text, context_id))
        elif piece.kind == "malformed":
            await reader.send(MALFORMED)
        else:
            return False
    return True
