"""ASGI middlewares in front of every profile: request capture, then the faults decided before routing."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._context import ServerContext

CONTROL_PREFIX = "/_testing/"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class RecordGate:
    """Records each HTTP request (body read up front and replayed) and each WebSocket handshake."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            self.ctx.recorder.request("WEBSOCKET", scope["path"], _query(scope), _headers(scope), b"")
            await self._serve(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.ctx.recorder.request(scope["method"], scope["path"], _query(scope), _headers(scope), bytes(body))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self._serve(scope, replay, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        recorder, path = self.ctx.recorder, scope["path"]
        recorder.enter(path)
        try:
            await self.app(scope, receive, send)
        finally:
            recorder.leave(path)


class FaultGate:
    """Answers from the faults before the route runs: text 500s, "not initialized", injected failures."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app = app
        self.ctx = ctx

    def _early(self, path: str) -> Response | None:
        faults = self.ctx.faults
        if path in faults.text_500_paths:
            return PlainTextResponse("Internal Server Error", status_code=500)
        if faults.not_initialized:
            detail = self.ctx.not_initialized_detail(path)
            if detail is not None:
                return JSONResponse({"detail": detail}, status_code=503)
        status = faults.take_failure(path, self.ctx.generation_paths)
        if status is not None:
            headers = {"retry-after": faults.retry_after} if faults.retry_after is not None else None
            detail = faults.fail_detail or _phrase(status)
            return JSONResponse({self.ctx.error_key: detail}, status_code=status, headers=headers)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        response = self._early(path)
        if response is not None:
            await response(scope, receive, send)
            return
        delay = self.ctx.faults.first_byte_delay
        if delay > 0 and path in self.ctx.generation_paths:
            await asyncio.sleep(delay)
        await self.app(scope, receive, send)
