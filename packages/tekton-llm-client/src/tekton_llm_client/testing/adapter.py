"""The legacy LLM Adapter service (tekton-core ``95f6dc8``, spec §8): HTTP plus a raw WebSocket on its own port.

The WebSocket side uses the ``websockets`` library directly, as the service did, and stays silent on anything
it does not understand. ``POST /stream`` is broken as shipped: 200 and no events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import ServerSentEvent
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from . import _sse, simulated
from ._context import ServerContext
from ._models import AdapterMessageRequest, ProviderRequest
from ._script import pieces
from ._wire import MALFORMED, dumps, now_iso

VERSION = "0.1.0"
MODEL = "simulated"
GENERATION_PATHS = frozenset({"/message", "/stream"})
_CHUNK_SIZE = 5
_CHUNK_DELAY = 0.05

_CLAUDE_MODELS = (
    ("claude-3-sonnet-20240229", "Claude 3 Sonnet"),
    ("claude-3-opus-20240229", "Claude 3 Opus"),
    ("claude-3-haiku-20240307", "Claude 3 Haiku"),
)


def _failure(ctx: ServerContext) -> bool:
    return ctx.faults.error_in_200 or ctx.faults.provider_unavailable


def _answer(text: str, context: str) -> dict[str, Any]:
    return {
        "message": text,
        "context": context,
        "model": MODEL,
        "finished": True,
        "simulated": True,
        "timestamp": now_iso(),
    }


def register_http(app: FastAPI, ctx: ServerContext) -> None:
    @app.get("/")
    async def root() -> dict[str, Any]:
        return {
            "name": "Tekton LLM Adapter",
            "version": VERSION,
            "status": "running",
            "endpoints": ["/message", "/stream", "/health"],
            "claude_available": False,
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "healthy",
            "version": VERSION,
            "claude_available": False,
            "providers": ["anthropic", "simulated"],
        }

    @app.get("/providers")
    async def providers() -> dict[str, Any]:
        return {
            "providers": {
                "anthropic": {
                    "name": "Anthropic Claude",
                    "available": False,
                    "models": [{"id": i, "name": n} for i, n in _CLAUDE_MODELS],
                },
                "simulated": {"name": "Simulated LLM", "available": True, "models": list(simulated.MODELS[:2])},
            },
            "current_provider": "simulated",
            "current_model": "simulated-standard",
        }

    @app.post("/provider")
    async def set_provider(body: ProviderRequest) -> dict[str, Any]:
        return {"success": True, "provider": body.provider_id, "model": body.model_id}

    @app.post("/message")
    async def message(body: AdapterMessageRequest, request: Request) -> Response:
        if _failure(ctx):
            return JSONResponse({"error": ctx.faults.error_message, "context": body.context_id, "timestamp": now_iso()})
        text = ctx.reply(await request.json(), lambda: simulated.adapter_text(body.message))
        return JSONResponse(_answer(text, body.context_id))

    @app.post("/stream")
    async def stream(body: AdapterMessageRequest) -> Response:
        return _sse.response(_nothing(), ctx.faults.ping_interval)


async def _nothing() -> AsyncIterator[ServerSentEvent]:
    return
    yield  # an async generator that ends at once


async def serve_ws(stack: contextlib.AsyncExitStack, sock: socket.socket, ctx: ServerContext) -> None:
    """Serve the raw WebSocket protocol on ``sock`` until ``stack`` closes; closing cuts every connection."""
    handlers: set[asyncio.Task[Any]] = set()

    async def handler(connection: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await _session(connection, ctx)
        except ConnectionClosed:
            pass
        finally:
            handlers.discard(task)

    server: Server = await serve(handler, sock=sock)

    async def close() -> None:
        server.close(close_connections=False)
        for connection in list(server.connections):
            connection.transport.abort()
        for task in list(handlers):
            task.cancel()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5.0)

    stack.push_async_callback(close)


async def _session(connection: ServerConnection, ctx: ServerContext) -> None:
    request = connection.request
    path = request.path if request is not None else "/"
    headers = {k.lower(): v for k, v in request.headers.raw_items()} if request is not None else {}
    ctx.recorder.request("WEBSOCKET", urlsplit(path).path, dict(parse_qsl(urlsplit(path).query)), headers, b"")
    number = ctx.recorder.connection()
    async for message in connection:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        ctx.recorder.frame(number, urlsplit(path).path, text)
        if not await _handle(connection, ctx, text):
            connection.transport.abort()
            return


async def _handle(connection: ServerConnection, ctx: ServerContext, text: str) -> bool:
    """Answer one frame; silence for anything unsupported. ``False`` means drop the connection."""
    try:
        frame = json.loads(text)
    except ValueError:
        return True
    if not isinstance(frame, dict):
        return True
    kind, source = frame.get("type"), frame.get("source") or "UI"
    payload = frame.get("payload")
    if not isinstance(payload, dict):
        payload = {}

    async def send(kind: str, sender: str, body: dict[str, Any]) -> None:
        envelope = {"type": kind, "source": sender, "target": source, "timestamp": now_iso(), "payload": body}
        await connection.send(dumps(envelope))

    if kind == "REGISTER":
        await send(
            "RESPONSE", "SYSTEM", {"status": "registered", "message": "Client registered successfully with LLM Adapter"}
        )
    elif kind == "STATUS":
        await send(
            "RESPONSE",
            "SYSTEM",
            {
                "status": "ok",
                "service": "llm_adapter",
                "version": VERSION,
                "claude_available": False,
                "message": "LLM Adapter is running",
            },
        )
    elif kind == "LLM_REQUEST" and payload.get("message"):
        try:
            return await _generate(connection, ctx, payload, send)
        except ConnectionClosed:
            raise
        except Exception as exc:
            await send("ERROR", "SYSTEM", {"error": f"Error processing request: {exc}"})
    return True


async def _generate(connection: ServerConnection, ctx: ServerContext, payload: dict[str, Any], send: Any) -> bool:
    context = str(payload.get("context") or "ergon")
    faults = ctx.faults
    if faults.first_byte_delay > 0:
        await asyncio.sleep(faults.first_byte_delay)
    await send("UPDATE", "SYSTEM", {"status": "typing", "isTyping": True})
    text = ctx.reply(payload, lambda: simulated.adapter_text(str(payload["message"])))
    if _failure(ctx):
        await send("ERROR", context, {"error": faults.error_message})
    elif not payload.get("streaming", True):
        await send("RESPONSE", context, _answer(text, context))
    else:
        async for piece in pieces(text, MODEL, faults, size=_CHUNK_SIZE, delay=_CHUNK_DELAY):
            if piece.kind == "text":
                await send("UPDATE", context, {"chunk": piece.text})
            elif piece.kind == "error":
                await send("ERROR", context, {"error": piece.text})
                break
            elif piece.kind == "malformed":
                await connection.send(MALFORMED)
            else:
                return False
        else:
            await send("UPDATE", context, {"done": True})
    await send("UPDATE", "SYSTEM", {"status": "typing", "isTyping": False})
    return True
