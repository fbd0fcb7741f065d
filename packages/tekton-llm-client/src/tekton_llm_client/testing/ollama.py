"""``OllamaTestServer``: a fake local Ollama for the client's fallback chain (``/api/tags``, ``/api/chat``).

Answers are deterministic (``Ollama received: "<last user message>"``) and stream as NDJSON lines, ending with
a ``done: true`` line that carries Ollama's counters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp

from ._abort import StreamAbort
from ._app import create_app
from ._context import ServerContext
from ._lifecycle import ThreadedServer
from ._script import pieces
from ._wire import MALFORMED
from .faults import Faults
from .recording import Recorder

VERSION = "0.6.5"
DEFAULT_MODELS = ("llama3:latest",)
_CHUNK_SIZE = 10


def _created_at() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _line(value: Any) -> bytes:
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


def _words(text: str) -> int:
    return len(text.split())


class OllamaTestServer(ThreadedServer):
    """A fake Ollama on ``host:port``; ``faults`` supports ``fail_status`` (body ``{"error": ...}``),
    ``reply``, chunking and the stream faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        chunk_delay: float = 0.0,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        defaults = Faults(chunk_delay=chunk_delay)
        faults = Faults()
        faults.restore(defaults)
        ctx = ServerContext(
            profile="ollama",
            faults=faults,
            recorder=Recorder(),
            defaults=defaults,
            generation_paths=frozenset({"/api/chat"}),
            error_key="error",
        )
        super().__init__(ctx, host, port)
        self.models = models

    @property
    def ws_url(self) -> None:
        """Ollama has no WebSocket."""
        return None

    def _build_app(self) -> ASGIApp:
        app = create_app(self._ctx)
        _register(app, self._ctx, self.models)
        return app


def _register(app: FastAPI, ctx: ServerContext, models: tuple[str, ...]) -> None:
    @app.get("/api/version")
    async def version() -> dict[str, str]:
        return {"version": VERSION}

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": name,
                    "model": name,
                    "modified_at": "2025-06-01T10:00:00.000000Z",
                    "size": 4661224676,
                    "digest": hashlib.sha256(name.encode()).hexdigest(),
                    "details": {
                        "format": "gguf",
                        "family": name.split(":")[0],
                        "parameter_size": "8.0B",
                        "quantization_level": "Q4_0",
                    },
                }
                for name in models
            ]
        }

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid JSON body"}, status_code=400)
        if not isinstance(body, dict) or not body.get("model"):
            return JSONResponse({"error": "model is required"}, status_code=400)
        model = str(body["model"])
        messages = body.get("messages") or []
        last = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        text = ctx.reply(body, lambda: f'Ollama received: "{last}"')
        prompt_words = sum(_words(str(m.get("content", ""))) for m in messages)
        final = {
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": prompt_words,
            "prompt_eval_duration": 200_000,
            "eval_count": _words(text),
            "eval_duration": 700_000,
        }
        if body.get("stream", True) is False:
            message = {"role": "assistant", "content": text}
            return JSONResponse({"model": model, "created_at": _created_at(), "message": message, **final})
        return StreamingResponse(_lines(ctx, text, model, final), media_type="application/x-ndjson")


async def _lines(ctx: ServerContext, text: str, model: str, final: dict[str, Any]) -> AsyncIterator[bytes]:
    def line(content: str, extra: dict[str, Any]) -> bytes:
        message = {"role": "assistant", "content": content}
        return _line({"model": model, "created_at": _created_at(), "message": message, **extra})

    async for piece in pieces(text, model, ctx.faults, size=_CHUNK_SIZE, delay=0.0):
        if piece.kind == "text":
            yield line(piece.text, {"done": False})
        elif piece.kind == "error":
            yield _line({"error": piece.text})
            return
        elif piece.kind == "malformed":
            yield (MALFORMED + "\n").encode()
        else:
            raise StreamAbort
    yield line("", final)
