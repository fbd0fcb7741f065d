"""The legacy service's WebSocket over Starlette: the envelope protocol (``REGISTER``, ``STATUS``, ``LLM_REQUEST``,
silence for anything else) and its frame reader come from ``tekton_llm_client._adapter_protocol``, shared with the
Rhetor test server's ``adapter`` profile; this module only carries the frames, text or binary (the original
service, on ``websockets``, read both).
"""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect
from tekton_llm_client._adapter_protocol import EnvelopeSession, receive_frame

from .forwarder import Forwarder

__all__ = ["serve_envelope"]


async def serve_envelope(websocket: WebSocket, forwarder: Forwarder) -> None:
    """Accept one connection and answer its frames, one after another, until the peer goes away."""
    await websocket.accept()
    session = EnvelopeSession(forwarder, websocket.send_text, (WebSocketDisconnect,))
    try:
        while (text := await receive_frame(websocket)) is not None:
            await session.handle(text)
    except WebSocketDisconnect:
        return
