"""HTTP transport: one pooled ``httpx.AsyncClient`` per client and event loop, JSON calls and SSE streams.

It knows nothing of Rhetor's generations: it sends what a dialect built and maps every transport failure and HTTP
error status to the client's exception tree (status, safe message, request id), reading FastAPI ``detail`` strings,
422 ``detail`` lists and text/plain bodies alike.
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import json
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx

from .. import _telemetry
from .. import exceptions as exc
from .._urls import safe_url
from ..config import ClientConfig
from .deadline import deadline
from .sse import SSEMessage, SSEParser

__all__ = ["HttpTransport", "JsonResponse", "SSEMessage", "parse_retry_after"]

logger = logging.getLogger("tekton_llm_client")

_USER_AGENT = "tekton-llm-client/0.3"
# Routes whose parsed URL a transport keeps (context routes carry ids, so the cache is bounded).
_PARSED_URLS = 64

_TRANSPORT_ERRORS: tuple[tuple[type[httpx.HTTPError], str, str | None], ...] = (
    # (httpx error, message template, timeout kind or None for a connection error), most specific first
    (httpx.ConnectTimeout, "connect timeout to {where}", "connect"),
    (httpx.ReadTimeout, "read timeout from {where}", "read"),
    (httpx.WriteTimeout, "write timeout to {where}", "write"),
    (httpx.PoolTimeout, "connection pool exhausted", "pool"),
    (httpx.RemoteProtocolError, "connection to {where} broke: {error}", None),
    (httpx.ConnectError, "cannot connect to {where}: {name}", None),
    (httpx.NetworkError, "cannot connect to {where}: {name}", None),
)


@dataclass(slots=True)
class JsonResponse:
    """A successful response: status and parsed JSON body (``None`` when empty)."""

    status: int
    body: Any


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
    """Pooled HTTP access to one base URL (path prefix kept: paths are appended, never resolved).

    ``authorization`` is the ``Authorization`` header of every request; ``base_url`` never holds credentials."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        authorization: str | None = None,
        retry_after_cap: float = 30.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._safe_base = safe_url(self._base)  # for messages, reprs and logs: never credentials or a query
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._authorization = authorization
        self._retry_after_cap = retry_after_cap
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._urls: dict[str, httpx.URL] = {}

    @classmethod
    def for_config(cls, config: ClientConfig) -> HttpTransport:
        """The transport to Rhetor's HTTP API."""
        return cls(
            config.base_url,
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
            authorization=config.authorization(),
            retry_after_cap=config.retry_after_cap,
        )

    def __repr__(self) -> str:
        return f"HttpTransport(base_url={self._safe_base!r})"

    @property
    def display_url(self) -> str:
        """The base URL as it may appear in messages (credentials removed)."""
        return self._safe_base

    def url(self, path: str) -> str:
        """Absolute URL for a route path, keeping any prefix of the base URL."""
        return self._base + path

    def _parsed_url(self, path: str) -> httpx.URL:
        """``url(path)`` parsed once: httpx parses a string URL on every request, a third of the cost of building
        one (~100k instructions, benchmark P2). At most ``_PARSED_URLS`` routes are kept."""
        parsed = self._urls.get(path)
        if parsed is None:
            parsed = httpx.URL(self._base + path)
            if len(self._urls) < _PARSED_URLS:
                self._urls[path] = parsed
        return parsed

    def _default_headers(self) -> dict[str, str]:
        """Headers of every request, set once on the pool (per-request merging is measurable, see P2)."""
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    def _get_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            # One pool per event loop: a pool bound to a finished loop cannot be reused.
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout, connect=self._connect_timeout),
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
        if isinstance(error, httpx.UnsupportedProtocol):
            return exc.ConfigurationError(f"unsupported URL {where}")
        for kind_of, template, timeout_kind in _TRANSPORT_ERRORS:
            if isinstance(error, kind_of):
                message = template.format(where=where, error=error, name=type(error).__name__)
                if timeout_kind is not None:
                    return exc.TimeoutError(message, kind=timeout_kind, request_id=request_id)
                return exc.ConnectionError(message, request_id=request_id)
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

    def _outgoing(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        json_body: Any,
        params: dict[str, Any] | None,
        request_id: str | None,
        timeout: float | None,
    ) -> httpx.Request:
        """The request as httpx builds it, with the pool's default headers and this request's id."""
        if json_body is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug("request body %s %s: %s", method, path, json.dumps(json_body)[:2000])
        outgoing = client.build_request(
            method,
            self._parsed_url(path),
            json=json_body,
            params=params or None,
            timeout=(
                httpx.USE_CLIENT_DEFAULT
                if timeout is None
                else httpx.Timeout(timeout, connect=min(timeout, self._connect_timeout))
            ),
        )
        if request_id:
            # Set on the built request: a per-request ``headers=`` argument makes httpx merge two header sets, a
            # measurable share of a request's client-side cost (benchmark P2).
            outgoing.headers["X-Request-ID"] = request_id
        if _telemetry.state.active is not None:  # W3C traceparent/tracestate, so a traced Rhetor joins the trace
            _telemetry.inject(outgoing.headers)
        return outgoing

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
        try:
            response = await client.send(self._outgoing(client, method, path, json_body, params, request_id, timeout))
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
    ) -> AsyncGenerator[list[SSEMessage], None]:
        """POST and yield the SSE events until the server closes the body, as the batches each network read
        completed (never empty; one generator step per read, not per event — benchmark P3).

        The first event must arrive within ``first_event_timeout`` and each later one within ``idle_timeout``
        (the consumer's own time between batches does not count); ``: ping`` comments reset neither deadline. A
        body cut mid-event raises ``StreamBrokenError`` after the events before the cut.
        """
        kind = "first_event"
        streaming = False
        try:
            async with deadline(first_event_timeout) as dl:
                response = await self._open_stream(path, json_body, request_id, dialect)
                try:
                    streaming = True
                    parser = SSEParser()
                    decoder = codecs.getincrementaldecoder("utf-8")("replace")
                    async for data in response.aiter_bytes():
                        messages = parser.feed(decoder.decode(data))
                        if messages:
                            kind = "idle"
                            dl.pause()  # the consumer's time does not count, and no deadline fires in its code
                            yield messages
                            dl.move(idle_timeout)
                    messages = self._body_end(parser, decoder, path, request_id, dialect)
                    if messages:
                        yield messages
                finally:
                    await response.aclose()
        except TimeoutError as error:
            if isinstance(error, exc.TektonLLMError):
                raise
            limit = first_event_timeout if kind == "first_event" else idle_timeout
            what = "first event" if kind == "first_event" else "next event"
            raise exc.TimeoutError(
                f"no {what} from {path} within {limit:g}s", kind=kind, request_id=request_id
            ) from None
        except httpx.HTTPError as error:
            if streaming and not isinstance(error, httpx.TimeoutException):
                raise exc.StreamBrokenError(
                    f"stream from {self._safe_base}{path} broke: {error}", request_id=request_id, dialect=dialect
                ) from None
            raise self._map_transport_error(error, request_id, path) from None

    def _body_end(
        self,
        parser: SSEParser,
        decoder: codecs.IncrementalDecoder,
        path: str,
        request_id: str | None,
        dialect: str | None,
    ) -> list[SSEMessage]:
        """The events the end of the body completes; a body cut mid-event (or mid-character) is a broken stream,
        never a clean end (the caller, which knows whether text was delivered, makes it ``IncompleteStreamError``)."""
        messages = parser.feed(decoder.decode(b"", final=True))
        unfinished = parser.close()
        if unfinished is not None:
            raise exc.StreamBrokenError(
                f"stream from {self._safe_base}{path} ended mid-event ({unfinished})",
                request_id=request_id,
                dialect=dialect,
            )
        return messages

    async def _open_stream(
        self, path: str, json_body: Any, request_id: str | None, dialect: str | None
    ) -> httpx.Response:
        """POST with a streamed response; an error status or a body that is not an event stream raises."""
        client = self._get_client()
        outgoing = self._outgoing(client, "POST", path, json_body, None, request_id, None)
        outgoing.headers["Accept"] = "text/event-stream"
        outgoing.headers["Cache-Control"] = "no-store"
        started = time.perf_counter()
        try:
            response = await client.send(outgoing, stream=True)
        except httpx.HTTPError:
            self._log("POST", path, "failed", started, request_id)
            raise
        self._log("POST", path, response.status_code, started, request_id)
        content_type = response.headers.get("content-type", "")
        if response.status_code < 400 and "text/event-stream" in content_type:
            return response
        try:
            body = (await response.aread()).decode("utf-8", "replace")
        finally:
            await response.aclose()
        if response.status_code >= 400:
            raise self._status_error(response, body, request_id, dialect)
        raise exc.ProtocolError(
            f"expected an event stream from {path}, got {content_type or 'no content type'}",
            status_code=response.status_code,
            request_id=request_id,
            dialect=dialect,
            details=body[:200],
        )

    async def stream_lines(self, path: str, json_body: Any, *, request_id: str | None) -> AsyncGenerator[str, None]:
        """POST and yield the non-blank lines of the streamed body (NDJSON); each read within the read timeout."""
        client = self._get_client()
        started = time.perf_counter()
        try:
            outgoing = client.build_request("POST", self._parsed_url(path), json=json_body)
            response = await client.send(outgoing, stream=True)
        except httpx.HTTPError as error:
            self._log("POST", path, type(error).__name__, started, request_id)
            raise self._map_transport_error(error, request_id, path) from None
        self._log("POST", path, response.status_code, started, request_id)
        try:
            if response.status_code >= 400:
                body = (await response.aread()).decode("utf-8", "replace")
                raise self._status_error(response, body, request_id, None)
            async for line in response.aiter_lines():
                if line.strip():
                    yield line
        except httpx.HTTPError as error:
            raise self._map_transport_error(error, request_id, path) from None
        finally:
            await response.aclose()
