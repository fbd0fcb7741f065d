"""Ollama as the second link of the fallback chain: ``POST /api/chat`` with NDJSON streaming."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent

__all__ = ["OllamaAdapter"]

DEFAULT_OLLAMA_MODEL = "llama3"


class OllamaAdapter:
    """Talks to a local Ollama; connection failures are ``ConnectionError`` so the chain moves on."""

    name = "ollama"

    def __init__(self, url: str, model: str | None = None, timeout: float = 30.0, connect_timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.model = model or DEFAULT_OLLAMA_MODEL
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._client: Any = None

    def __repr__(self) -> str:
        return f"OllamaAdapter(url={self.url!r}, model={self.model!r})"

    def _http(self) -> Any:
        import httpx

        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout, connect=self._connect_timeout))
        return self._client

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

    def _event(self, data: dict[str, Any], request: LLMRequest) -> StreamEvent:
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

    async def _post(self, request: LLMRequest, stream: bool) -> Any:
        import httpx

        client = self._http()
        try:
            req = client.build_request("POST", f"{self.url}/api/chat", json=self._body(request, stream))
            response = await client.send(req, stream=True)
        except httpx.TimeoutException:
            raise exc.TimeoutError(f"ollama at {self.url} timed out", request_id=request.request_id) from None
        except httpx.HTTPError as error:
            raise exc.ConnectionError(
                f"cannot reach ollama at {self.url}: {type(error).__name__}", request_id=request.request_id
            ) from None
        if response.status_code >= 400:
            text = (await response.aread()).decode("utf-8", "replace")
            await response.aclose()
            raise exc.error_for_status(response.status_code, f"ollama: {text[:200]}", request_id=request.request_id)
        return response

    async def complete(self, request: LLMRequest) -> StreamEvent:
        import httpx

        response = await self._post(request, stream=False)
        try:
            data = json.loads(await response.aread())
        except httpx.HTTPError as error:
            raise exc.ConnectionError(
                f"ollama answer broke off: {type(error).__name__}", request_id=request.request_id
            ) from None
        except ValueError:
            raise exc.ProtocolError("ollama answered with malformed JSON", request_id=request.request_id) from None
        finally:
            await response.aclose()
        if not isinstance(data, dict):
            raise exc.ProtocolError(
                "ollama answered with something other than an object", request_id=request.request_id
            )
        event = self._event(data, request)
        event.done = True
        return event

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        import httpx

        response = await self._post(request, stream=True)
        saw_done = False
        try:
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except ValueError:
                    raise exc.ProtocolError(
                        "ollama sent a malformed NDJSON line", request_id=request.request_id
                    ) from None
                event = self._event(data, request)
                saw_done = event.done
                yield event
                if saw_done:
                    return
        except httpx.HTTPError as error:
            raise exc.ConnectionError(
                f"ollama stream broke: {type(error).__name__}", request_id=request.request_id
            ) from None
        finally:
            await response.aclose()
        if not saw_done:
            raise exc.IncompleteStreamError("ollama stream ended without done", request_id=request.request_id)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
