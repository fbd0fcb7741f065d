"""Receiving WebSocket frames through Starlette with capture, and the "dead socket" state."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from .._adapter_protocol import receive_frame
from ._context import ServerContext
from ._wire import dumps


class FrameReader:
    """Reads one socket's frames (text or binary) in order and records each one, and counts what it sends."""

    def __init__(self, websocket: WebSocket, ctx: ServerContext) -> None:
        self.websocket = websocket
        self.ctx = ctx
        self.connection = ctx.recorder.connection()

    async def next(self) -> str | None:
        """The next frame's text, or ``None`` once the client has gone."""
        text = await receive_frame(self.websocket)
        if text is None:
            return None
        self.ctx.recorder.frame(self.connection, self.websocket.url.path, text)
        return text

    async def play_dead(self) -> None:
        """Keep the socket open but never answer again (frames are still recorded) until the client leaves."""
        while await self.next() is not None:
            pass

    async def send(self, frame: Any) -> None:
        await self.websocket.send_text(frame if isinstance(frame, str) else dumps(frame))
        self.ctx.recorder.sent(self.connection)
