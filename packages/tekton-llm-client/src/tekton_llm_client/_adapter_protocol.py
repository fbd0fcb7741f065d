"""The retired LLM Adapter service's protocol (rhetor-protocol.md §8), written once, over a backend that answers.

Two servers speak it: the Rhetor test server's ``adapter`` profile (simulated answers, switchable faults) and the
shims' compatibility service (answers from Rhetor). From here both take the request bodies, the HTTP routes
(``GET /``, ``/health``, ``/providers``, ``POST /provider``, ``/message``, ``/stream``) and the WebSocket envelope
(``REGISTER``, ``STATUS``, ``LLM_REQUEST``; silence for anything else); each brings its backend and its WebSocket
transport, and reads each frame with :func:`frame_text` (text and binary frames alike). It lives in the client,
outside ``testing`` (a production service imports it), because that is the one place both distributions reach;
it needs FastAPI (the ``testing`` extra here, the ``service`` extra of the shims).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fastapi import FastAPI, WebSocket
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

__all__ = [
    "DEFAULT_CONTEXT",
    "VERSION",
    "AdapterBackend",
    "DropConnection",
    "EnvelopeSession",
    "LegacyRequest",
    "MessageBody",
    "ProviderBody",
    "RawFrame",
    "frame_text",
    "now_iso",
    "receive_frame",
    "register_http",
]

VERSION = "0.1.0"
DEFAULT_CONTEXT = "ergon"
REGISTERED = "Client registered successfully with LLM Adapter"


def now_iso() -> str:
    """The service's timestamps: naive local ISO-8601."""
    return datetime.now().isoformat()


def frame_text(data: str | bytes | None) -> str:
    """A received WebSocket frame as text: the original service (``websockets``) handed binary frames over like text
    ones, so both are read; bytes that are not UTF-8 become U+FFFD and the frame then goes unanswered like any
    other frame that is not an envelope."""
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


async def receive_frame(websocket: WebSocket) -> str | None:
    """The next frame of a Starlette WebSocket as text (text and binary frames alike), ``None`` once the peer has
    gone. Starlette's ``receive_text()`` fails on a binary frame; this is the one reader the servers use."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    return text if text is not None else frame_text(message.get("bytes"))


@dataclass(frozen=True, slots=True)
class LegacyRequest:
    """The fields of a ``/message``, ``/stream`` or ``LLM_REQUEST``; ``options`` is the flat legacy form."""

    message: str
    context_id: str = DEFAULT_CONTEXT
    options: Mapping[str, Any] | None = None


class MessageBody(BaseModel):
    """``/message`` and ``/stream`` body; unknown keys are ignored and camelCase was never accepted."""

    message: str
    context_id: str = DEFAULT_CONTEXT
    streaming: bool = False
    options: dict[str, Any] | None = None

    def request(self) -> LegacyRequest:
        return LegacyRequest(self.message, self.context_id, self.options)


class ProviderBody(BaseModel):
    provider_id: str
    model_id: str


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A stream item sent as it is, not as an envelope (the test double's malformed frame)."""

    text: str


class DropConnection(Exception):
    """Raised by a backend's stream to cut the connection without a close frame (a fault of the test double)."""


StreamItem = Mapping[str, Any] | RawFrame
"""``{"chunk": ...}`` per text piece, a final ``{"done": True, ...}``, or ``{"error": ...}`` ending the stream."""


class AdapterBackend(Protocol):
    """Where the answers come from."""

    async def claude_available(self) -> bool:
        """Reported by ``GET /`` and the ``STATUS`` frame."""

    async def health(self) -> dict[str, Any]:
        """The ``GET /health`` body."""

    async def providers(self) -> dict[str, Any]:
        """The ``GET /providers`` body."""

    async def select(self, provider_id: str, model_id: str) -> None:
        """``POST /provider`` (the original accepted and ignored it)."""

    async def pause(self) -> None:
        """Awaited before an envelope answer starts (the test double's ``first_byte_delay``)."""

    async def message(self, request: LegacyRequest) -> dict[str, Any]:
        """The whole answer, or ``{"error", "context", "timestamp"}``; never raises for a failed generation."""

    def chunks(self, request: LegacyRequest) -> AsyncIterator[StreamItem]:
        """The streamed answer (see ``StreamItem``); may raise ``DropConnection``."""


def register_http(app: FastAPI, backend: AdapterBackend, *, working_stream: bool = True) -> None:
    """The service's HTTP routes on ``app``. ``working_stream=False`` keeps the original's broken ``POST /stream``
    (200, and no events at all)."""

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
        await backend.select(body.provider_id, body.model_id)
        return {"success": True, "provider": body.provider_id, "model": body.model_id}

    @app.post("/message")
    async def message(body: MessageBody) -> JSONResponse:
        return JSONResponse(await backend.message(body.request()))

    @app.post("/stream")
    async def stream(body: MessageBody) -> StreamingResponse:
        events = _sse(backend.chunks(body.request())) if working_stream else _nothing()
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )


async def _sse(items: AsyncIterator[StreamItem]) -> AsyncIterator[str]:
    async for item in items:
        data = item.text if isinstance(item, RawFrame) else json.dumps(dict(item))
        yield f"event: message\r\ndata: {data}\r\n\r\n"


async def _nothing() -> AsyncIterator[str]:
    return
    yield  # an async generator that ends at once


Send = Callable[[str], Awaitable[None]]


class EnvelopeSession:
    """One WebSocket's envelope protocol: feed it each received text frame; requests are answered in order.

    ``send`` writes one text frame; ``disconnects`` are the transport's "peer has gone" exceptions, which pass
    through (any other failure of a request is answered with an ``ERROR`` envelope, as the original did).
    """

    def __init__(
        self, backend: AdapterBackend, send: Send, disconnects: tuple[type[BaseException], ...] = ()
    ) -> None:
        self.backend = backend
        self._send = send
        self._disconnects = disconnects

    async def send(self, kind: str, source: str, target: str, payload: Mapping[str, Any]) -> None:
        envelope = {"type": kind, "source": source, "target": target, "timestamp": now_iso(), "payload": payload}
        await self._send(json.dumps(envelope))

    async def handle(self, text: str) -> bool:
        """Answer one frame (silence for anything not understood); ``False`` means: cut the connection now."""
        try:
            frame = json.loads(text)
        except ValueError:
            return True
        if not isinstance(frame, dict):
            return True
        kind, target = frame.get("type"), str(frame.get("source") or "UI")
        raw_payload = frame.get("payload")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        if kind == "REGISTER":
            await self.send("RESPONSE", "SYSTEM", target, {"status": "registered", "message": REGISTERED})
        elif kind == "STATUS":
            await self.send("RESPONSE", "SYSTEM", target, await self._status())
        elif kind == "LLM_REQUEST" and isinstance(payload.get("message"), str) and payload["message"]:
            return await self._request(payload, target)
        return True

    async def _status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "service": "llm_adapter",
            "version": VERSION,
            "claude_available": await self.backend.claude_available(),
            "message": "LLM Adapter is running",
        }

    async def _request(self, payload: dict[str, Any], target: str) -> bool:
        try:
            return await self._generate(payload, target)
        except DropConnection:
            return False
        except self._disconnects:
            raise
        except Exception as error:
            await self.send("ERROR", "SYSTEM", target, {"error": f"Error processing request: {error}"})
        return True

    async def _generate(self, payload: dict[str, Any], target: str) -> bool:
        context = str(payload.get("context") or DEFAULT_CONTEXT)
        raw_options = payload.get("options")
        options = raw_options if isinstance(raw_options, dict) else None
        request = LegacyRequest(payload["message"], context, options)
        await self.backend.pause()
        await self.send("UPDATE", "SYSTEM", target, {"status": "typing", "isTyping": True})
        if payload.get("streaming", True):
            await self._stream(request, target)
        else:
            answer = await self.backend.message(request)
            if "error" in answer:
                await self.send("ERROR", context, target, {"error": answer["error"]})
            else:
                await self.send("RESPONSE", context, target, answer)
        await self.send("UPDATE", "SYSTEM", target, {"status": "typing", "isTyping": False})
        return True

    async def _stream(self, request: LegacyRequest, target: str) -> None:
        context = request.context_id
        async for item in self.backend.chunks(request):
            if isinstance(item, RawFrame):
                await self._send(item.text)
            elif "error" in item:
                await self.send("ERROR", context, target, {"error": item["error"]})
                return
            elif item.get("done"):
                await self.send("UPDATE", context, target, {"done": True})
            else:
                await self.send("UPDATE", context, target, {"chunk": item["chunk"]})
