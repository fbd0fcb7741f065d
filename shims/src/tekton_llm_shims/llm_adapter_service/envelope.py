"""The legacy service's WebSocket protocol: the typed envelope with ``REGISTER``, ``STATUS`` and ``LLM_REQUEST``.

Callers of the retired service (Terma's old adapter, ``ws://HOST:8301``) register, then send ``LLM_REQUEST``s and
read ``UPDATE``/``RESPONSE``/``ERROR`` envelopes. Anything the service did not understand got no reply at all, and
that silence is kept. Requests on one socket are answered one after another.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .forwarder import DEFAULT_CONTEXT, VERSION, Forwarder, LegacyRequest, now_iso

__all__ = ["serve_envelope"]

REGISTERED = "Client registered successfully with LLM Adapter"


class _Session:
    def __init__(self, websocket: WebSocket, forwarder: Forwarder) -> None:
        self.websocket = websocket
        self.forwarder = forwarder

    async def send(self, kind: str, source: str, target: str, payload: dict[str, Any]) -> None:
        envelope = {"type": kind, "source": source, "target": target, "timestamp": now_iso(), "payload": payload}
        await self.websocket.send_text(json.dumps(envelope))

    async def handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        kind = frame.get("type")
        target = str(frame.get("source") or "UI")
        raw_payload = frame.get("payload")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        if kind == "REGISTER":
            await self.send("RESPONSE", "SYSTEM", target, {"status": "registered", "message": REGISTERED})
        elif kind == "STATUS":
            status = {
                "status": "ok",
                "service": "llm_adapter",
                "version": VERSION,
                "claude_available": await self.forwarder.claude_available(),
                "message": "LLM Adapter is running",
            }
            await self.send("RESPONSE", "SYSTEM", target, status)
        elif kind == "LLM_REQUEST" and isinstance(payload.get("message"), str) and payload["message"]:
            try:
                await self.generate(payload, target)
            except WebSocketDisconnect:
                raise
            except Exception as error:
                await self.send("ERROR", "SYSTEM", target, {"error": f"Error processing request: {error}"})

    async def generate(self, payload: dict[str, Any], target: str) -> None:
        context = str(payload.get("context") or DEFAULT_CONTEXT)
        raw_options = payload.get("options")
        options = raw_options if isinstance(raw_options, dict) else None
        request = LegacyRequest(message=payload["message"], context_id=context, options=options)
        await self.send("UPDATE", "SYSTEM", target, {"status": "typing", "isTyping": True})
        if payload.get("streaming", True):
            async for event in self.forwarder.chunks(request):
                if "error" in event:
                    await self.send("ERROR", context, target, {"error": event["error"]})
                elif event["done"]:
                    await self.send("UPDATE", context, target, {"done": True})
                else:
                    await self.send("UPDATE", context, target, {"chunk": event["chunk"]})
        else:
            answer = await self.forwarder.message(request)
            if "error" in answer:
                await self.send("ERROR", context, target, {"error": answer["error"]})
            else:
                await self.send("RESPONSE", context, target, answer)
        await self.send("UPDATE", "SYSTEM", target, {"status": "typing", "isTyping": False})


async def serve_envelope(websocket: WebSocket, forwarder: Forwarder) -> None:
    """Accept one connection and answer its frames until the peer goes away."""
    await websocket.accept()
    session = _Session(websocket, forwarder)
    try:
        while True:
            await session.handle(await websocket.receive_text())
    except WebSocketDisconnect:
        return
