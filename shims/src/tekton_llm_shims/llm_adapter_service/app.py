"""The ASGI app: the retired LLM Adapter service's HTTP routes and WebSocket, answered by Rhetor.

Routes (rhetor-protocol.md §8): ``GET /``, ``GET /health``, ``GET /providers``, ``POST /provider``,
``POST /message``, ``POST /stream`` (server-sent events; broken in the original, working here) and the WebSocket
envelope at ``/``. Every answer comes from Rhetor through the app's ``Forwarder``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from .envelope import serve_envelope
from .forwarder import DEFAULT_CONTEXT, VERSION, Forwarder, LegacyRequest

__all__ = ["create_app"]


class MessageBody(BaseModel):
    """``/message`` and ``/stream`` body; unknown keys are ignored, as by the original."""

    message: str
    context_id: str = DEFAULT_CONTEXT
    streaming: bool = False
    options: dict[str, Any] | None = None


class ProviderBody(BaseModel):
    provider_id: str
    model_id: str


def _sse(event: dict[str, Any]) -> str:
    return f"event: message\r\ndata: {json.dumps(event)}\r\n\r\n"


def create_app(rhetor_url: str | None = None, *, forwarder: Forwarder | None = None) -> FastAPI:
    """Build the app; its client goes to ``rhetor_url`` (else ``RHETOR_URL``/``RHETOR_PORT``/localhost:8003)."""
    backend = forwarder if forwarder is not None else Forwarder(rhetor_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await backend.aclose()

    app = FastAPI(title="Tekton LLM Adapter (compatibility service)", version=VERSION, lifespan=lifespan)
    app.state.forwarder = backend

    @app.get("/")
    async def root() -> dict[str, Any]:
        return {
            "name": "Tekton LLM Adapter",
            "version": VERSION,
            "status": "running",
            "endpoints": ["/message", "/stream", "/health"],
            "claude_available": await backend.claude_available(),
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return await backend.health()

    @app.get("/providers")
    async def providers() -> dict[str, Any]:
        return await backend.providers()

    @app.post("/provider")
    async def set_provider(body: ProviderBody) -> dict[str, Any]:
        # The original accepted and ignored this; here it selects the provider/model of later requests.
        backend.current_provider, backend.current_model = body.provider_id, body.model_id
        return {"success": True, "provider": body.provider_id, "model": body.model_id}

    @app.post("/message")
    async def message(body: MessageBody) -> dict[str, Any]:
        return await backend.message(LegacyRequest(body.message, body.context_id, body.options))

    @app.post("/stream")
    async def stream(body: MessageBody) -> StreamingResponse:
        request = LegacyRequest(body.message, body.context_id, body.options)

        async def events() -> AsyncIterator[str]:
            async for event in backend.chunks(request):
                yield _sse(event)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    @app.websocket("/")
    async def envelope(websocket: WebSocket) -> None:
        await serve_envelope(websocket, backend)

    @app.websocket("/{path:path}")
    async def envelope_any_path(websocket: WebSocket, path: str) -> None:
        # The original was a raw WebSocket server that ignored the request path.
        await serve_envelope(websocket, backend)

    return app
