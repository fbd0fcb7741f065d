"""The ASGI app: the retired LLM Adapter service's HTTP routes and WebSocket, answered by Rhetor.

Routes (rhetor-protocol.md §8): ``GET /``, ``GET /health``, ``GET /providers``, ``POST /provider``,
``POST /message``, ``POST /stream`` (server-sent events; broken in the original, working here) and the WebSocket
envelope at any path. The protocol itself is ``tekton_llm_client._adapter_protocol`` (one implementation,
shared with the Rhetor test server's ``adapter`` profile); every answer comes from Rhetor through the app's
``Forwarder``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket
from tekton_llm_client._adapter_protocol import VERSION, register_http

from .envelope import serve_envelope
from .forwarder import Forwarder

__all__ = ["create_app"]


def create_app(rhetor_url: str | None = None, *, forwarder: Forwarder | None = None) -> FastAPI:
    """Build the app; its client goes to ``rhetor_url`` (else ``RHETOR_URL``/``RHETOR_PORT``/localhost:8003)."""
    backend = forwarder if forwarder is not None else Forwarder(rhetor_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await backend.aclose()

    app = FastAPI(title="Tekton LLM Adapter (compatibility service)", version=VERSION, lifespan=lifespan)
    app.state.forwarder = backend
    register_http(app, backend)

    @app.websocket("/")
    @app.websocket("/{path:path}")  # the original was a raw WebSocket server that ignored the request path
    async def envelope(websocket: WebSocket) -> None:
        await serve_envelope(websocket, backend)

    return app
