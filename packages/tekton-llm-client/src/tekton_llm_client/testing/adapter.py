"""The legacy LLM Adapter service (tekton-core ``95f6dc8``, spec §8): HTTP plus a raw WebSocket on its own port.

The WebSocket side uses the ``websockets`` library directly, as the service did, and stays silent on anything
it does not understand. ``POST /stream`` is broken as shipped: 200 and no events.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .. import _adapter_protocol as adapter_protocol
from .._adapter_protocol import (
    VERSION,
    DropConnection,
    EnvelopeSession,
    LegacyRequest,
    RawFrame,
    StreamItem,
    frame_text,
    now_iso,
)
from . import simulated
from ._context import ServerContext
from ._script import pieces
from ._wire import MALFORMED

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


class SimulatedAdapter:
    """The original service's answers in simulated mode (no Claude key), with the server's faults applied."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    async def claude_available(self) -> bool:
        return False

    async def health(self) -> dict[str, Any]:
        return {
            "status": "healthy",
            "version": VERSION,
            "claude_available": False,
            "providers": ["anthropic", "simulated"],
        }

    async def providers(self) -> dict[str, Any]:
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

    async def select(self, provider_id: str, model_id: str) -> None:
        """The original accepted the choice and ignored it."""

    async def pause(self) -> None:
        if self.ctx.faults.first_byte_delay > 0:
            await asyncio.sleep(self.ctx.faults.first_byte_delay)

    def _text(self, request: LegacyRequest) -> str:
        raw = {"message": request.message, "context_id": request.context_id, "options": dict(request.options or {})}
        return self.ctx.reply(raw, lambda: simulated.adapter_text(request.message))

    async def message(self, request: LegacyRequest) -> dict[str, Any]:
        if _failure(self.ctx):
            return {"error": self.ctx.faults.error_message, "context": request.context_id, "timestamp": now_iso()}
        return {
            "message": self._text(request),
            "context": request.context_id,
            "model": MODEL,
            "finished": True,
            "simulated": True,
            "timestamp": now_iso(),
        }

    async def chunks(self, request: LegacyRequest) -> AsyncIterator[StreamItem]:
        faults = self.ctx.faults
        if _failure(self.ctx):
            yield {"error": faults.error_message}
            return
        async for piece in pieces(self._text(request), MODEL, faults, size=_CHUNK_SIZE, delay=_CHUNK_DELAY):
            if piece.kind == "text":
                yield {"chunk": piece.text}
            elif piece.kind == "error":
                yield {"error": piece.text}
                return
            elif piece.kind == "malformed":
                yield RawFrame(MALFORMED)
            else:
                raise DropConnection
        yield {"done": True}


def register_http(app: FastAPI, ctx: ServerContext) -> None:
    """The service's routes, ``POST /stream`` broken as shipped."""
    adapter_protocol.register_http(app, SimulatedAdapter(ctx), working_stream=False)


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
    path = urlsplit(request.path if request is not None else "/")
    headers = {k.lower(): v for k, v in request.headers.raw_items()} if request is not None else {}
    ctx.recorder.request("WEBSOCKET", path.path, dict(parse_qsl(path.query)), headers, b"")
    number = ctx.recorder.connection()
    session = EnvelopeSession(SimulatedAdapter(ctx), connection.send, (ConnectionClosed,))
    async for message in connection:
        text = frame_text(message)
        ctx.recorder.frame(number, path.path, text)
        if not await session.handle(text):
            connection.transport.abort()
            return
