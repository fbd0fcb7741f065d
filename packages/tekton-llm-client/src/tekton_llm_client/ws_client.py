"""``TektonLLMWebSocketClient``: generation over Rhetor's WebSocket, in both generations.

The June 2025 Rhetor generates text only over ``/ws`` (its HTTP chat route fails as shipped), so the socket is a
first-class path, used directly by components and by ``TektonLLMClient`` when it switches transports.

Rules it keeps (rhetor-protocol.md §5, §7, §10 rows 12–18, §12.4):

* One request at a time per socket: requests queue on a lock (FIFO), because no generation echoes request ids.
* Every frame read has a deadline (``frame_timeout``); there is no application-level heartbeat to wait for.
* A socket is discarded after a frame timeout, a malformed frame, a classic ``ERROR`` (except "Unsupported
  request type"), or a caller abandoning a stream mid-answer; the next request reconnects. Reconnection is on
  demand: the first attempt is immediate, and while attempts fail they are spaced ``reconnect_interval`` ms,
  doubling up to 30 s.
* Only JSON objects are ever sent.
* The bearer token is sent in the handshake and appears in no log, repr or exception.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextlib import aclosing
from typing import Any, Literal, overload
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from . import exceptions as exc
from ._dialects.ws_frames import WS_DIALECTS, Decoded, WSFrameCodec, codec_for
from ._request import LLMRequest, StreamEvent, new_request_id
from ._transport.ws import UnsentFrameError, WebSocketConnection
from .config import resolve_config, safe_url
from .models import StreamingChunk, message_dict

__all__ = ["TektonLLMWebSocketClient", "http_base_for_ws_url"]

logger = logging.getLogger("tekton_llm_client")

Callback = Callable[..., Any]
Options = Mapping[str, Any] | BaseModel | None

_MAX_RECONNECT_DELAY = 30.0
_CLOSE_TIMEOUT = 2.0
_REQUEST_KEYS = {
    "temperature", "max_tokens", "top_p", "stop_sequences", "stop", "model", "provider", "task_type", "timeout",
}


def http_base_for_ws_url(ws_url: str) -> str:
    """``ws(s)://host[/prefix]/ws`` → ``http(s)://host[/prefix]`` (where the same server answers HTTP)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if path.endswith("/ws"):
        path = path[: -len("/ws")]
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _ws_url_from(url: str) -> str:
    """Accept an HTTP base URL where a WebSocket URL is expected (``http://h:8003`` → ``ws://h:8003/ws``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def _options_dict(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return {k: v for k, v in options.items() if v is not None}
    dump = getattr(options, "model_dump", None)
    if callable(dump):
        dumped = dump(exclude_unset=True, exclude_none=True)
        return dict(dumped) if isinstance(dumped, Mapping) else {}
    raise exc.ConfigurationError(f"options must be a mapping, got {type(options).__name__}")


class TektonLLMWebSocketClient:
    """WebSocket client for Rhetor (v1 bare JSON, classic envelope, or the retired LLM Adapter service).

    ``rhetor_url`` is the WebSocket URL (default ``RHETOR_WS_URL``, else derived from ``RHETOR_URL``, else
    ``ws://localhost:8003/ws``); an ``http(s)://`` base URL is accepted and converted. ``dialect="auto"`` uses
    ``RHETOR_API`` when set, else asks ``GET <http base>/health`` once (§11), else assumes v1; a URL without the
    ``/ws`` path is the LLM Adapter service's. ``TektonLLMClient`` passes the dialect it detected over HTTP.

    Callbacks, each sync or async, never able to break a request (their exceptions are logged):
    ``on_message(chunk: StreamingChunk)`` for every chunk received (the final one has ``done=True``),
    ``on_error(error: TektonLLMError)`` when a request fails, ``on_close(code: int | None)`` when a socket closes.

    ``timeout`` (default ``RHETOR_TIMEOUT`` or 30 s) bounds connecting; ``frame_timeout`` (default ``timeout``)
    bounds the wait for each frame of an answer.
    """

    def __init__(
        self,
        component_id: str,
        rhetor_url: str | None = None,
        on_message: Callback | None = None,
        on_error: Callback | None = None,
        on_close: Callback | None = None,
        reconnect_interval: int = 5000,
        auth_token: str | None = None,
        *,
        dialect: str = "auto",
        frame_timeout: float | None = None,
        timeout: float | None = None,
    ) -> None:
        if dialect not in ("auto", *WS_DIALECTS):
            raise exc.ConfigurationError(f"dialect must be auto, v1, classic or adapter, got {dialect!r}")
        if reconnect_interval < 0:
            raise exc.ConfigurationError("reconnect_interval must be >= 0 (milliseconds)")
        if frame_timeout is not None and frame_timeout <= 0:
            raise exc.ConfigurationError("frame_timeout must be positive")
        config = resolve_config(
            component_id,
            ws_url=_ws_url_from(rhetor_url) if rhetor_url else None,
            auth_token=auth_token,
            timeout=timeout,
        )
        self.component_id = component_id
        self.url = config.ws_url
        self.on_message = on_message
        self.on_error = on_error
        self.on_close = on_close
        self.reconnect_interval = reconnect_interval
        self.timeout = config.timeout
        self.frame_timeout = frame_timeout if frame_timeout is not None else config.timeout
        self._connect_timeout = config.connect_timeout
        self._token = config.auth_token
        self._dialect_choice: str = dialect if dialect != "auto" else config.api
        self._dialect: str | None = None if self._dialect_choice == "auto" else self._dialect_choice
        self._codec: WSFrameCodec | None = None
        self._conn: WebSocketConnection | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failures = 0
        self._next_attempt_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"TektonLLMWebSocketClient(component_id={self.component_id!r}, url={safe_url(self.url)!r}, "
            f"dialect={self._dialect or self._dialect_choice!r}, connected={self.connected})"
        )

    # -- state ---------------------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._conn is not None and self._conn.is_open

    @property
    def dialect(self) -> str | None:
        """The generation spoken (``None`` until ``auto`` has been resolved by the first connection)."""
        return self._dialect

    def _bind_loop(self) -> asyncio.Lock:
        """The request lock of the running loop; a socket of another (finished) loop is forgotten."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock = asyncio.Lock()
            self._loop = loop
            self._conn = None
            self._tasks = set()
        return self._lock

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self, callback: Callback | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("WebSocket client callback %s failed", getattr(callback, "__name__", "callback"))

    # -- connection ----------------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket now (classic: and register). Raises ``ConnectionError``/``TimeoutError`` on failure."""
        async with self._bind_loop():
            await self._ensure_connection(None)

    async def _resolve_dialect(self, request_id: str | None) -> tuple[str, bool]:
        """The dialect to speak, and whether it is settled (a failed detection is retried on the next connect)."""
        if self._dialect is not None:
            return self._dialect, True
        if urlsplit(self.url).path in ("", "/"):
            return "adapter", True  # Rhetor serves /ws; the LLM Adapter service's socket has no path
        detected = await self._detect_over_http(request_id)
        if detected is None:
            return "v1", False
        return detected, True

    async def _detect_over_http(self, request_id: str | None) -> str | None:
        from ._dialects.detect import detect_dialect
        from ._transport.http import HttpTransport

        config = resolve_config(
            self.component_id,
            base_url=http_base_for_ws_url(safe_url(self.url)),  # no userinfo/query: they end up in messages
            auth_token=self._token,
            timeout=self._connect_timeout,
        )
        transport = HttpTransport(config)
        try:
            return await detect_dialect(transport, request_id)
        except exc.ConfigurationError:
            return "adapter"  # the health body said: LLM Adapter service
        except exc.TektonLLMError as error:
            logger.info("cannot detect the Rhetor generation at %s (%s); assuming v1", config.base_url, error.message)
            return None
        finally:
            await transport.aclose()

    async def _ensure_connection(self, request_id: str | None) -> WebSocketConnection:
        conn = self._conn
        if conn is not None and conn.is_open:
            return conn
        if conn is not None:
            self._drop(conn)
        wait = self._next_attempt_at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        dialect, settled = await self._resolve_dialect(request_id)
        codec = codec_for(dialect, self.component_id)
        try:
            conn = await WebSocketConnection.open(
                self.url,
                auth_token=self._token,
                open_timeout=self._connect_timeout,
                close_timeout=min(_CLOSE_TIMEOUT, self.timeout),
                request_id=request_id,
            )
        except exc.TektonLLMError:
            self._connect_failed()
            raise
        try:
            if codec.registers:
                await self._handshake(conn, codec, codec.register_frame(), request_id)
        except exc.TektonLLMError:
            self._connect_failed()
            self._drop(conn)
            raise
        if settled:
            self._dialect = dialect
        self._codec = codec
        self._conn = conn
        self._failures = 0
        self._next_attempt_at = 0.0
        self._spawn(self._watch(conn))
        logger.info("WebSocket connected to %s (%s)", conn.url, dialect)
        return conn

    def _connect_failed(self) -> None:
        self._failures += 1
        base = self.reconnect_interval / 1000.0
        delay = min(base * 2 ** (self._failures - 1), max(base, _MAX_RECONNECT_DELAY))
        self._next_attempt_at = time.monotonic() + delay

    async def _watch(self, conn: WebSocketConnection) -> None:
        """Forget a socket as soon as it closes, whoever closed it, and tell ``on_close``."""
        try:
            await conn.wait_closed()
        finally:
            if self._conn is conn:
                self._conn = None
        code = conn.close_code
        logger.info("WebSocket to %s closed (code %s)", conn.url, code)
        await self._notify(self.on_close, code)

    def _drop(self, conn: WebSocketConnection) -> None:
        """Stop using a socket; it is closed in the background so the caller's error is not delayed."""
        if self._conn is conn:
            self._conn = None
        self._spawn(conn.close())

    async def _handshake(
        self, conn: WebSocketConnection, codec: WSFrameCodec, frame: dict[str, Any] | None, request_id: str | None
    ) -> dict[str, Any]:
        """Send a REGISTER/STATUS frame and return the payload of its reply."""
        if frame is None:
            raise exc.UnsupportedOperation(f"the {codec.dialect} WebSocket has no such request", dialect=codec.dialect)
        await conn.send_json(frame, request_id=request_id)
        while True:
            decoded = codec.handshake_reply(await conn.receive_json(self.frame_timeout, request_id=request_id))
            if decoded.error is not None:
                if decoded.discard:
                    self._drop(conn)
                raise self._service_error(decoded.error, request_id, codec.dialect)
            if decoded.end:
                return dict(decoded.event.raw or {}) if decoded.event else {}

    async def close(self) -> None:
        """Close the socket and wait for background closing to finish. The client may be used again."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            self._conn, self._tasks = None, set()
            return
        conn = self._conn
        if conn is not None:
            self._drop(conn)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def __aenter__(self) -> TektonLLMWebSocketClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- requests ------------------------------------------------------------------------------------------------

    def _service_error(
        self, message: str, request_id: str | None, dialect: str, partial_text: str = ""
    ) -> exc.TektonLLMError:
        details = {"partial_text": partial_text} if partial_text else None
        if "not initialized" in message.lower():
            # Rhetor is up but not ready: retryable, and a reason to fall back (rhetor-protocol.md §10 row 24).
            return exc.ServiceUnavailableError(message, request_id=request_id, dialect=dialect, details=details)
        return exc.ProviderError(message, request_id=request_id, dialect=dialect, details=details)

    @staticmethod
    def _broken(error: exc.TektonLLMError, parts: list[str], request_id: str, dialect: str) -> exc.TektonLLMError:
        """The error for an answer that stopped without its terminator."""
        if parts:
            return exc.IncompleteStreamError(
                f"WebSocket answer broke off: {error.message}",
                partial_text="".join(parts),
                request_id=request_id,
                dialect=dialect,
            )
        if isinstance(error, exc.TimeoutError):
            return exc.TimeoutError(
                f"{error.message} (answer not started)", kind="read", request_id=request_id, dialect=dialect
            )
        if isinstance(error, exc.ConnectionError):
            return exc.ConnectionError(
                f"{error.message} before the answer was complete", request_id=request_id, dialect=dialect
            )
        return error

    async def stream_request(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """Run one logical request; yields its text events, then exactly one ``done=True`` event (no text).

        An answer without any text (v1's sign of an unavailable provider) is not an error here: it is just the done
        event, flagged ``raw={"empty_answer": True}``, and the caller decides (``TektonLLMClient`` treats it as
        unavailable, like over HTTP). The standalone methods (``generate``/``stream``/``chat``) raise
        ``ProviderError`` with ``details={"reason": "empty_answer"}`` instead.

        Failures: ``ProviderError`` for error frames and error chunks; ``ServiceUnavailableError``
        for "not initialized"; ``TimeoutError(kind="read")`` when a frame is late before any text;
        ``ConnectionError`` when connecting fails or the socket closes before any text;
        ``IncompleteStreamError(partial_text=...)`` when the socket closes or stalls after text was delivered;
        ``ProtocolError`` for a frame that is not a JSON object. Nothing is retried here: the caller's retry loop
        decides (before the first event only). ``request.timeout``, when set, replaces ``frame_timeout`` for this
        request.
        """
        async with aclosing(self._guarded(request, single_message=False, allow_empty=True)) as events:
            async for event in events:
                yield event

    async def _guarded(
        self, request: LLMRequest, *, single_message: bool, allow_empty: bool = False
    ) -> AsyncGenerator[StreamEvent, None]:
        lock = self._bind_loop()
        try:
            async with lock:
                # aclosing: an abandoned stream must drop its socket before the lock goes to the next request.
                async with aclosing(self._exchange(request, single_message, allow_empty)) as events:
                    async for event in events:
                        yield event
        except exc.TektonLLMError as error:
            await self._notify(self.on_error, error)
            raise

    async def _exchange(
        self, request: LLMRequest, single_message: bool, allow_empty: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        request_id = request.request_id
        conn = await self._ensure_connection(request_id)
        codec = self._codec
        assert codec is not None
        frame = codec.request_frame(request, single_message=single_message)
        try:
            await conn.send_json(frame, request_id=request_id)
        except UnsentFrameError:
            # The socket closed while idle and the server never saw the frame: reconnect once and send it.
            self._drop(conn)
            conn = await self._ensure_connection(request_id)
            codec = self._codec
            assert codec is not None
            await conn.send_json(codec.request_frame(request, single_message=single_message), request_id=request_id)
        frame_timeout = request.timeout or self.frame_timeout
        parts: list[str] = []
        last = StreamEvent(context_id=request.context_id)
        pending_error: str | None = None
        in_sync = False
        try:
            while True:
                try:
                    received = await conn.receive_json(frame_timeout, request_id=request_id)
                    decoded: Decoded = codec.decode(received, request)
                except exc.ProtocolError as error:
                    error.details = {"partial_text": "".join(parts)} if parts else error.details
                    raise
                except (exc.TimeoutError, exc.ConnectionError) as error:
                    raise self._broken(error, parts, request_id, codec.dialect) from None
                if decoded.discard:
                    self._drop(conn)
                if decoded.event is not None:
                    event = decoded.event
                    last = StreamEvent(
                        model=event.model or last.model,
                        provider=event.provider or last.provider,
                        context_id=event.context_id or last.context_id,
                        fallback=event.fallback or last.fallback,
                    )
                    if event.text:
                        parts.append(event.text)
                        await self._notify(self.on_message, self._chunk(event, request))
                        yield event
                if decoded.error is not None and pending_error is None:
                    pending_error = decoded.error
                if decoded.end:
                    in_sync = True
                    break
        finally:
            if not in_sync and self._conn is conn:
                # Left mid-answer (error or abandoned stream): the rest of the answer would confuse the next one.
                self._drop(conn)
        if pending_error is not None:
            raise self._service_error(pending_error, request_id, codec.dialect, "".join(parts))
        if not parts and not allow_empty:
            raise exc.ProviderError(
                "empty answer: Rhetor sent no text (its provider is probably unavailable)",
                request_id=request_id,
                dialect=codec.dialect,
                details={"reason": "empty_answer"},
            )
        done = StreamEvent(
            done=True,
            model=last.model,
            provider=last.provider,
            context_id=last.context_id,
            fallback=last.fallback,
            raw=None if parts else {"empty_answer": True},
        )
        await self._notify(self.on_message, self._chunk(done, request))
        yield done

    @staticmethod
    def _chunk(event: StreamEvent, request: LLMRequest) -> StreamingChunk:
        return StreamingChunk(
            chunk=event.text,
            context_id=event.context_id or request.context_id or "",
            model=event.model or "",
            provider=event.provider or "",
            done=event.done,
            fallback=event.fallback,
            request_id=request.request_id,
        )

    def _request(
        self,
        messages: Iterable[Any],
        context_id: str | None,
        system_prompt: str | None,
        options: Options,
        stream: bool,
    ) -> LLMRequest:
        listed = [message_dict(m) for m in messages]
        if listed and listed[0]["role"] == "system":
            leading = listed.pop(0)["content"]
            system_prompt = system_prompt if system_prompt is not None else leading
        if not listed:
            raise exc.ConfigurationError("at least one non-system message is required")
        opts = _options_dict(options)
        stop = opts.get("stop_sequences", opts.get("stop"))
        if isinstance(stop, str):
            stop = [stop]
        timeout = opts.get("timeout")
        return LLMRequest(
            messages=listed,
            system_prompt=system_prompt or None,
            model=opts.get("model"),
            provider=opts.get("provider"),
            temperature=opts.get("temperature"),
            max_tokens=opts.get("max_tokens"),
            top_p=opts.get("top_p"),
            stop=list(stop) if stop else None,
            context_id=context_id,
            task_type=opts.get("task_type"),
            component=self.component_id,
            stream=stream,
            extra={k: v for k, v in opts.items() if k not in _REQUEST_KEYS},
            request_id=new_request_id(),
            timeout=float(timeout) if timeout else None,
        )

    async def _collect(self, request: LLMRequest, single_message: bool) -> str:
        async with aclosing(self._guarded(request, single_message=single_message)) as events:
            return "".join([event.text async for event in events])

    async def generate(
        self,
        prompt: str,
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
    ) -> str:
        """The complete answer to one prompt (classic: an ``LLM_REQUEST`` unless a system prompt is given)."""
        request = self._request([{"role": "user", "content": prompt}], context_id, system_prompt, options, False)
        return await self._collect(request, single_message=True)

    async def stream(
        self,
        prompt: str,
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
    ) -> AsyncIterator[StreamingChunk]:
        """The answer to one prompt as chunks; the last chunk has ``done=True`` and no text.

        Iterate it to the end (or close it): the socket is held by this request until then.
        """
        request = self._request([{"role": "user", "content": prompt}], context_id, system_prompt, options, True)
        async with aclosing(self._guarded(request, single_message=True)) as events:
            async for event in events:
                yield self._chunk(event, request)

    async def stream_chat(
        self,
        messages: Iterable[Any],
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
    ) -> AsyncIterator[StreamingChunk]:
        """Like :meth:`stream`, for a message list (history included)."""
        request = self._request(messages, context_id, system_prompt, options, True)
        async with aclosing(self._guarded(request, single_message=False)) as events:
            async for event in events:
                yield self._chunk(event, request)

    @overload
    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = ...,
        system_prompt: str | None = ...,
        options: Options = ...,
        stream: Literal[False] = ...,
    ) -> str: ...

    @overload
    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = ...,
        system_prompt: str | None = ...,
        options: Options = ...,
        *,
        stream: Literal[True],
    ) -> AsyncIterator[StreamingChunk]: ...

    async def chat(
        self,
        messages: Iterable[Any],
        context_id: str = "default",
        system_prompt: str | None = None,
        options: Options = None,
        stream: bool = False,
    ) -> str | AsyncIterator[StreamingChunk]:
        """Answer a conversation: ``await chat(msgs)`` is the text; ``await chat(msgs, stream=True)`` is an async
        iterator of chunks (as :meth:`stream_chat`, one ``await`` then ``async for``).

        ``messages`` are ``{"role", "content"}`` dicts or ``Message`` models; a leading system message is the
        system prompt unless ``system_prompt`` is given, which then replaces it.
        """
        if stream:
            return self.stream_chat(messages, context_id, system_prompt, options)
        request = self._request(messages, context_id, system_prompt, options, False)
        return await self._collect(request, single_message=False)

    async def status(self) -> dict[str, Any]:
        """The server's ``STATUS`` payload (classic and the LLM Adapter service; v1 has none)."""
        async with self._bind_loop():
            conn = await self._ensure_connection(None)
            codec = self._codec
            assert codec is not None
            return await self._handshake(conn, codec, codec.status_frame(), None)
