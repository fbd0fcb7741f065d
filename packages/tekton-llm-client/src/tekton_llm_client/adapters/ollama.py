"""Ollama as the second link of the fallback chain: ``POST /api/chat``, NDJSON when streaming.

Its HTTP goes through the client's transport layer (``HttpTransport``), so connection handling and error mapping
are the same as for Rhetor.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from .._transport.http import HttpTransport
from .._urls import safe_url, split_credentials

__all__ = ["OllamaAdapter"]

DEFAULT_OLLAMA_MODEL = "llama3"
_PATH = "/api/chat"


class OllamaAdapter:
    """Talks to a local Ollama; connection failures are ``ConnectionError`` so the chain moves on."""

    name = "ollama"

    def __init__(
        self,
        url: str,
        model: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 2.0,
        *,
        authorization: str | None = None,
    ) -> None:
        # Credentials embedded in the URL become an explicit Basic auth: no URL kept, logged (httpx logs every
        # request's URL at INFO) or put in an error holds them. An explicit ``authorization`` wins.
        url, credentials = split_credentials(url.rstrip("/"))
        if authorization is None and credentials is not None:
            from ..config import basic_authorization

            authorization = basic_authorization(credentials)
        self.url = url
        self.model = model or DEFAULT_OLLAMA_MODEL
        self._http = HttpTransport(
            self.url, timeout=timeout, connect_timeout=min(connect_timeout, timeout), authorization=authorization
        )

    def __repr__(self) -> str:
        return f"OllamaAdapter(url={safe_url(self.url)!r}, model={self.model!r})"

    def _body(self, request: LLMRequest, stream: bool) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if request.top_p is not None:
            options["top_p"] = request.top_p
        if request.stop:
            options["stop"] = request.stop
        body: dict[str, Any] = {"model": self.model, "messages": request.all_messages(), "stream": stream}
        if options:
            body["options"] = options
        return body

    def _event(self, data: Any, request: LLMRequest) -> StreamEvent:
        if not isinstance(data, dict):
            raise exc.ProtocolError(
                "ollama answered with something other than an object", request_id=request.request_id
            )
        if data.get("error"):
            raise exc.ProviderError(f"ollama: {data['error']}", request_id=request.request_id)
        message = data.get("message") or {}
        return StreamEvent(
            text=str(message.get("content") or ""),
            done=bool(data.get("done", False)),
            model=data.get("model") or self.model,
            provider=self.name,
            context_id=request.context_id,
            fallback=True,
        )

    async def complete(self, request: LLMRequest) -> StreamEvent:
        """One whole answer as a done event."""
        response = await self._http.request(
            "POST", _PATH, json_body=self._body(request, False), request_id=request.request_id
        )
        event = self._event(response.body, request)
        event.done = True
        return event

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """The answer as events; a stream that ends without Ollama's ``done`` is ``IncompleteStreamError``."""
        body = self._body(request, True)
        async with aclosing(self._http.stream_lines(_PATH, body, request_id=request.request_id)) as lines:
            async for line in lines:
                try:
                    data = json.loads(line)
                except ValueError:
                    raise exc.ProtocolError(
                        "ollama sent a malformed NDJSON line", request_id=request.request_id
                    ) from None
                event = self._event(data, request)
                yield event
                if event.done:
                    return
        raise exc.IncompleteStreamError("ollama stream ended without done", request_id=request.request_id)

    async def events(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """What the client's pipeline reads: the stream for streaming requests, else one done event."""
        if not request.stream:
            yield await self.complete(request)
            return
        async for event in self.stream(request):
            yield event

    async def aclose(self) -> None:
        """Release the connection pool."""
        await self._http.aclose()
