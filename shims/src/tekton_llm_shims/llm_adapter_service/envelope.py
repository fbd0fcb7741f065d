"""The legacy service's WebSocket over Starlette: the envelope protocol (``REGISTER``, ``STATUS``, ``LLM_REQUEST``,
silence for anything else) comes from ``tekton_llm_client.testing.adapter_protocol``, shared with the Rhetor test
server's ``adapter`` profile; this module only carries its frames.
"""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect
from tekton_llm_client.testing.adapter_protocol import EnvelopeSession

from .forwarder import Forwarder

__all__ = ["serve_envelope"]


async def serve_envelope(websocket: WebSocket, forwarder: Forwarder) -> None:
    """Accept one connection and answer its frames, one after another, until the peer goes away."""
    await websocket.accept()
    session = EnvelopeSession(forwarder, websocket.send_text, (WebSocketDisconnect,))
    try:
        while True:
            await session.handle(await websocket.receive_text())
    except WebSocketDisconnect:
        return
