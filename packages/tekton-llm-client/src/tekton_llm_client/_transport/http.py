"""HTTP transport: one pooled ``httpx.AsyncClient`` per client and event loop, JSON calls and SSE streams.

It knows nothing of Rhetor's generations: it sends what a dialect built and maps every transport failure and HTTP
error status to the client's exception tree (status, safe message, request id), reading FastAPI ``detail`` strings,
422 ``detail`` lists and text/plain bodies alike.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource

from .. import exceptions as exc
from ..config import ClientConfig, safe_url
from .deadline import deadline

__all__ = ["HttpTransport", "JsonResponse", "SSEMessage", "parse_retry_after"]

logger = logging.getLogger("tekton_llm_client")

_USER_AGENT = "tekton-llm-client/0.3"


@dataclass(slots=True)
class JsonResponse:
    """A successful response: status and parsed JSON body (``None`` when empty)."""

    status: int
    body: Any


@dataclass(slots=True)
class SSEMessage:
    """One server-sent event (comments are never surfaced)."""

    event: str
    data: str


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """``Retry-After`` as seconds (number or HTTP date), bounded to ``[0, cap]``; ``None`` when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, min(seconds, cap))


def _error_message(response: httpx.Response, body_text: str) -> tuple[str, Any]:
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            body = json.loads(body_text)
        except ValueError:
            return body_text[:200] or response.reason_phrase, None
        if isinstance(body, dict):
            detail = body.get("detail", body.get("error", body.get("message")))
            if isinstance(detail, str):
                return detail, detail
            if isinstance(detail, list):
                parts = []
                for item in detail:
                    if isinstance(item, dict):
                        loc = ".".join(str(p) for p in item.get("loc", []))
                        parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
                    else:
                        parts.append(str(item))
                return "; ".join(parts) or "validation failed", detail
            if detail is not None:
                return json.dumps(detail)[:200], detail
        return json.dumps(body)[:200], body
    return (body_text.strip()[:200] or response.reason_phrase or f"HTTP {response.status_code}"), None


class HttpTransport:
    """Pooled HTTP access to one base URL (path prefix kept: paths are appended, never resolved)."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._safe_base = safe_url(self._base)  # for messages, reprs and logs: never credentials
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retry_after_cap = config.retry_after_cap

    def __repr__(self) -> str:
        return f"HttpTransport(base_url={self._safe_base!r})"

    @property
    def display_url(self) -> str:
        """The base URL as it may appear in messages (credentials removed)."""
        return self._safe_base

    def url(self, path: str) -> str:
        """Absolute URL for a route path, keeping any prefix of the base URL."""
        return self._base + path

    def _default_headers(self) -> dict[str, str]:
        """Headers of every request, set once on the pool (per-request merging is measurable, see P2)."""
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if self._config.auth_token:
            headers["Authorization"] = f"Bearer {self._config.auth_token}"
        return headers

    def _get_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            # One pool per event loop: a pool bound to a finished loop cannot be reused.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._config.timeout, connect=self._config.connect_timeout),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
                headers=self._default_headers(),
                follow_redirects=False,
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the pool (idempotent)."""
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            try:
                await client.aclose()
            except RuntimeError:  # pragma: no cover - loop of the pool already closed
                pass

    def _map_transport_error(self, error: httpx.HTTPError, request_id: str | None, path: str) -> exc.TektonLLMError:
        where = f"{self._safe_base}{path}"
        if isinstance(error, httpx.ConnectTimeout):
            return exc.TimeoutError(f"connect timeout to {where}", kind="connect", request_id=request_id)
        if isinstance(error, httpx.ReadTimeout):
            return exc.TimeoutError(f"read timeout from {where}", kind="read", request_id=request_id)
        if isinstance(error, httpx.WriteTimeout):
            return exc.TimeoutError(f"write timeout to {where}", kind="write", request_id=request_id)
        if isinstance(error, httpx.PoolTimeout):
            return exc.TimeoutError("connection pool exhausted", kind="pool", request_id=request_id)
        if isinstance(error, httpx.RemoteProtocolError):
            return exc.ConnectionError(f"connection to {where} broke: {error}", request_id=request_id)
        if isinstance(error, (httpx.ConnectError, httpx.NetworkError)):
            return exc.ConnectionError(f"cannot connect to {where}: {type(error).__name__}", request_id=request_id)
        if isinstance(error, httpx.UnsupportedProtocol):
            return exc.ConfigurationError(f"unsupported URL {where}")
        return exc.ConnectionError(f"HTTP failure talking to {where}: {type(error).__name__}", request_id=request_id)

    def _status_error(
        self, response: httpx.Response, body_text: str, request_id: str | None, dialect: str | None
    ) -> exc.HTTPStatusError:
        message, details = _error_message(response, body_text)
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._retry_after_cap)
        return exc.error_for_status(
            response.status_code,
            message,
            request_id=request_id,
            dialect=dialect,
            retry_after=retry_after,
            details=details,
        )

    def _log(self, method: str, path: str, status: int | str, started: float, request_id: str | None) -> None:
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s -> %s in %.1f ms (request_id=%s)",
                method,
                path,
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
        dialect: str | None = None,
        allow_status: tuple[int, ...] = (),
    ) -> JsonResponse:
        """Send one request; 2xx (or an allowed status) → parsed body, else the mapped error."""
        client = self._get_client()
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"headers": {"X-Request-ID": request_id} if request_id else None}
        if json_body is not None:
            kwargs["json"] = json_body
        if params:
            kwargs["params"] = params
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=min(timeout, self._config.connect_timeout))
        if logger.isEnabledFor(logging.DEBUG) and json_body is not None:
            logger.debug("request body %s %s: %s", method, path, json.dumps(json_body)[:2000])
        try:
            response = await client.request(method, self.url(path), **kwargs)
        except httpx.HTTPError as error:
            self._log(method, path, type(error).__name__, started, request_id)
            raise self._map_transport_error(error, request_id, path) from None
        self._log(method, path, response.status_code, started, request_id)
        if response.status_code >= 400 and response.status_code not in allow_status:
            raise self._status_error(response, response.text, request_id, dialect)
        content = response.content
        if not content.strip():
            return JsonResponse(response.status_code, None)
        try:
            body = json.loads(content)  # bytes: JSON is UTF-8, no charset sniffing needed
        except ValueError:
            raise exc.ProtocolError(
                f"{method} {path} answered {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
                request_id=request_id,
                dialect=dialect,
            ) from None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("response body %s %s: %s", method, path, content[:2000].decode("utf-8", "replace"))
        return JsonResponse(response.status_code, body)

    async def stream_sse(
        self,
        path: str,
        json_body: Any,
        *,
        request_id: str | None,
        first_event_timeout: float,
        idle_timeout: float,
        dialect: str | None = None,
    ) -> AsyncIterator[SSEMessage]:
        """POST and yield SSE events until the server closes the body.

        The first event must arrive within ``first_event_timeout`` and each later one within ``idle_timeout``;
        ``: ping`` comments keep the connection alive but do not reset either deadline.
        """
        client = self._get_client()
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if request_id:
            headers["X-Request-ID"] = request_id
        started = time.perf_counter()
        kind = "first_event"
        streaming = False
        try:
            async with deadline(first_event_timeout) as dl:
                async with client.stream("POST", self.url(path), json=json_body, headers=headers) as response:
                    self._log("POST", path, response.status_code, started, request_id)
                    if response.status_code >= 400:
                        body = (await response.aread()).decode("utf-8", "replace")
                        raise self._status_error(response, body, request_id, dialect)
                    content_type = response.headers.get("content-type", "")
                    if "text/event-stream" not in content_type:
                        body = (await response.aread()).decode("utf-8", "replace")
                        raise exc.ProtocolError(
                            f"expected an event stream from {path}, got {content_type or 'no content type'}",
                            status_code=response.status_code,
                            request_id=request_id,
                            dialect=dialect,
                            details=body[:200],
                        )
                    streaming = True
                    async for sse in EventSource(response).aiter_sse():
                        kind = "idle"
                        # Paused while the consumer holds the event: its time does not count against the
                        # server, and a deadline must never fire inside the consumer's code.
                        dl.pause()
                        yield SSEMessage(sse.event, sse.data)
                        dl.move(idle_timeout)
        except TimeoutError as error:
            if isinstance(error, exc.TektonLLMError):
                raise
            what = "first event" if kind == "first_event" else "next event"
            raise exc.TimeoutError(
                f"no {what} from {path} within {first_event_timeout if kind == 'first_event' else idle_timeout:g}s",
                kind=kind,
                request_id=request_id,
            ) from None
        except httpx.HTTPError as error:
            if streaming and not isinstance(error, httpx.TimeoutException):
                raise exc.StreamBrokenError(
                    f"stream from {self._safe_base}{path} broke: {error}", request_id=request_id, dialect=dialect
                ) from None
            raise self._map_transport_error(error, request_id, path) from None
