"""WebSocket transport: a JSON text-frame connection, and the transport that runs one request at a time over it.

``WebSocketConnection`` knows nothing of Rhetor's generations. It sends only JSON objects (a non-JSON text frame
silently kills the v1 server's read loop, rhetor-protocol.md §5.5), reads one frame at a time under a deadline, and
never puts the ``Authorization`` value, URL credentials or the query string into a message or log line.

``WebSocketTransport`` runs requests through a generation's frame codec (``_dialects/ws_frames.py``): it connects on
demand, serializes requests (no generation echoes request ids), and discards a socket whose state is unknown. It has
no policy of its own — no retries, no backoff, no configuration, no detection: a failed connect raises at once and
the caller's ``RetryPolicy`` decides what happens next.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State

from .. import _telemetry
from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from .._urls import safe_url

if TYPE_CHECKING:
    from .._dialects.ws_frames import Decoded, WSFrameCodec

__all__ = ["UnsentFrameError", "WebSocketConnection", "WebSocketTransport"]

logger = logging.getLogger("tekton_llm_client")

_USER_AGENT = "tekton-llm-client/0.3"


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]  # not subscriptable on 3.10
    """The ``websockets`` library's logger, minus credentials.

    At DEBUG level websockets logs every handshake header line (``"> %s: %s"``) and the request path; the bearer
    token and a query string must not reach the logs that way.
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if len(args) >= 2 and isinstance(args[0], str) and args[0].lower() in _SECRET_HEADERS:
            args = (args[0], "<redacted>", *args[2:])
        elif msg == "> GET %s HTTP/1.1" and args and isinstance(args[0], str):
            args = (args[0].split("?", 1)[0], *args[1:])
        super().log(level, msg, *args, **kwargs)


_LIBRARY_LOGGER = _RedactingLogger(logging.getLogger("websockets.client"), {})


class UnsentFrameError(exc.ConnectionError):
    """The socket was already closed when a frame was sent: the server cannot have seen it (safe to resend)."""


class WebSocketConnection:
    """One open WebSocket to Rhetor. Not safe for concurrent use: the caller serializes requests."""

    def __init__(self, connection: ClientConnection, url: str) -> None:
        self._connection = connection
        self.url = safe_url(url)

    def __repr__(self) -> str:
        return f"WebSocketConnection(url={self.url!r}, open={self.is_open})"

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        authorization: str | None = None,
        open_timeout: float = 10.0,
        close_timeout: float = 2.0,
        request_id: str | None = None,
    ) -> WebSocketConnection:
        """Connect (websockets >= 14 asyncio API) sending ``authorization`` as the ``Authorization`` header."""
        headers = {"User-Agent": _USER_AGENT}
        if authorization:
            headers["Authorization"] = authorization
        if _telemetry.state.active is not None:  # W3C traceparent/tracestate on the handshake
            _telemetry.inject(headers)
        where = safe_url(url)
        try:
            connection = await connect(
                url,
                additional_headers=headers,
                user_agent_header=None,
                open_timeout=open_timeout,
                close_timeout=close_timeout,
                logger=_LIBRARY_LOGGER,
            )
        except InvalidURI:
            raise exc.ConfigurationError(f"invalid WebSocket URL {where}") from None
        except InvalidStatus as error:
            status = error.response.status_code
            raise exc.error_for_status(
                status, f"WebSocket handshake with {where} rejected with HTTP {status}", request_id=request_id
            ) from None
        except InvalidHandshake as error:
            raise exc.ConnectionError(
                f"WebSocket handshake with {where} failed: {type(error).__name__}", request_id=request_id
            ) from None
        except asyncio.TimeoutError:
            raise exc.TimeoutError(
                f"WebSocket connect to {where} timed out after {open_timeout:g}s", kind="connect", request_id=request_id
            ) from None
        except OSError as error:
            raise exc.ConnectionError(
                f"cannot connect to {where}: {type(error).__name__}", request_id=request_id
            ) from None
        logger.debug("WebSocket connected to %s", where)
        return cls(connection, url)

    @property
    def is_open(self) -> bool:
        """Whether frames can still be exchanged (a close from either side ends it)."""
        return self._connection.state is State.OPEN

    @property
    def close_code(self) -> int | None:
        """The close code once closed (``None`` while open or when the TCP connection just dropped)."""
        # ``Connection.close_code`` exists from websockets 14.1; 14.0 only has it on the sans-I/O protocol.
        code = getattr(self._connection, "close_code", None)
        if code is None:
            code = getattr(getattr(self._connection, "protocol", None), "close_code", None)
        return code if isinstance(code, int) else None

    async def send_json(self, frame: Mapping[str, Any], *, request_id: str | None = None) -> None:
        """Send one JSON object as a text frame. Anything that is not encodable as strict JSON is refused."""
        if not isinstance(frame, Mapping):
            raise exc.InvalidRequestError("a WebSocket frame must be a JSON object", request_id=request_id)
        try:
            text = json.dumps(frame, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise exc.InvalidRequestError(
                f"request cannot be encoded as JSON: {type(error).__name__}", request_id=request_id
            ) from None
        try:
            await self._connection.send(text)
        except ConnectionClosed:
            raise UnsentFrameError(f"WebSocket to {self.url} is closed", request_id=request_id) from None

    async def receive_json(self, timeout: float | None, *, request_id: str | None = None) -> Any:
        """The next frame parsed as JSON; ``TimeoutError(kind="read")`` when none arrives within ``timeout``."""
        try:
            data = await asyncio.wait_for(self._connection.recv(), timeout)
        except asyncio.TimeoutError:
            raise exc.TimeoutError(
                f"no WebSocket frame from {self.url} within {timeout:g}s", kind="read", request_id=request_id
            ) from None
        except ConnectionClosed as error:
            code = error.rcvd.code if error.rcvd is not None else None
            how = f"code {code}" if code is not None else "without a close frame"
            raise exc.ConnectionError(f"WebSocket to {self.url} closed ({how})", request_id=request_id) from None
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise exc.ProtocolError(
                    f"binary WebSocket frame from {self.url} is not UTF-8", request_id=request_id
                ) from None
        try:
            return json.loads(data)
        except ValueError:
            raise exc.ProtocolError(
                f"WebSocket frame from {self.url} is not JSON: {data[:80]!r}", request_id=request_id
            ) from None

    async def wait_closed(self) -> None:
        """Return once the connection is closed, whoever closed it."""
        await self._connection.wait_closed()

    async def _drain(self) -> None:
        # Unread frames of an abandoned answer fill the receive queue, which pauses reading, so the server's close
        # frame would never be read and close() would wait its full timeout. Discarding them keeps closing quick.
        try:
            while True:
                await self._connection.recv()
        except Exception:  # ConnectionClosed once closed; ConcurrencyError if a reader is still active
            return

    def close_now(self) -> None:
        """Close the TCP connection without the closing handshake (when the event loop is going away)."""
        self._connection.transport.close()

    async def close(self) -> None:
        """Close politely (bounded by the close timeout), discarding unread frames; never raises."""
        drain = asyncio.get_running_loop().create_task(self._drain())
        try:
            await self._connection.close()
        except Exception as error:  # the socket is being discarded; nothing useful to report
            logger.debug("closing WebSocket to %s failed: %s", self.url, type(error).__name__)
        finally:
            await drain


_CLOSE_TIMEOUT = 2.0
CloseCallback = Callable[[int | None], Coroutine[Any, Any, None]]


class WebSocketTransport:
    """Requests over one WebSocket URL, one at a time per event loop, each as ``StreamEvent``s."""

    def __init__(
        self,
        url: str,
        codec: WSFrameCodec,
        *,
        authorization: str | None = None,
        open_timeout: float = 10.0,
        frame_timeout: float = 30.0,
        close_timeout: float = _CLOSE_TIMEOUT,
        on_close: CloseCallback | None = None,
    ) -> None:
        self.url = url
        self.codec = codec
        self.frame_timeout = frame_timeout
        self._authorization = authorization
        self._open_timeout = open_timeout
        self._close_timeout = min(close_timeout, frame_timeout)
        self._on_close = on_close
        self._conn: WebSocketConnection | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"WebSocketTransport(url={safe_url(self.url)!r}, dialect={self.codec.dialect!r})"

    @property
    def connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._conn is not None and self._conn.is_open

    def lock(self) -> asyncio.Lock:
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

    async def connection(self, request_id: str | None) -> WebSocketConnection:
        """The open socket, connecting (and registering) now if there is none. Call with ``lock()`` held."""
        conn = self._conn
        if conn is not None and conn.is_open:
            return conn
        if conn is not None:
            self._drop(conn)
        conn = await WebSocketConnection.open(
            self.url,
            authorization=self._authorization,
            open_timeout=self._open_timeout,
            close_timeout=self._close_timeout,
            request_id=request_id,
        )
        register = self.codec.register_frame() if self.codec.registers else None
        if register is not None:
            try:
                await self._handshake(conn, register, request_id)
            except exc.TektonLLMError:
                self._drop(conn)
                raise
        self._conn = conn
        self._spawn(self._watch(conn))
        logger.info("WebSocket connected to %s (%s)", conn.url, self.codec.dialect)
        return conn

    async def _watch(self, conn: WebSocketConnection) -> None:
        """Forget a socket once it closed, whoever closed it, and report its close code.

        Cancelled — ``asyncio.run`` cancels every task at shutdown, before it finalizes async generators such as
        the shims' client closer — the watcher closes the socket's TCP connection itself, at once: forgetting an
        open socket leaks it (``ResourceWarning: unclosed transport``), and a polite close started later, from
        the generator finalizers, would need websockets' own async generators after their shutdown."""
        try:
            await conn.wait_closed()
        except asyncio.CancelledError:
            conn.close_now()
            if self._conn is conn:
                self._conn = None
            raise
        if self._conn is conn:
            self._conn = None
        logger.info("WebSocket to %s closed (code %s)", conn.url, conn.close_code)
        if self._on_close is not None:
            await self._on_close(conn.close_code)

    def _drop(self, conn: WebSocketConnection) -> None:
        """Stop using a socket; it is closed in the background so the caller's error is not delayed."""
        if self._conn is conn:
            self._conn = None
        self._spawn(conn.close())

    async def _handshake(
        self, conn: WebSocketConnection, frame: dict[str, Any], request_id: str | None
    ) -> dict[str, Any]:
        await conn.send_json(frame, request_id=request_id)
        while True:
            decoded = self.codec.handshake_reply(await conn.receive_json(self.frame_timeout, request_id=request_id))
            if decoded.error is not None:
                if decoded.discard:
                    self._drop(conn)
                raise service_error(decoded.error, request_id, self.codec.dialect)
            if decoded.end:
                return dict(decoded.event.raw or {}) if decoded.event else {}

    async def status(self) -> dict[str, Any]:
        """The server's ``STATUS`` payload (classic and the LLM Adapter service; v1 has none)."""
        frame = self.codec.status_frame()
        if frame is None:
            raise exc.UnsupportedOperation(
                f"the {self.codec.dialect} WebSocket has no such request", dialect=self.codec.dialect
            )
        async with self.lock():
            return await self._handshake(await self.connection(None), frame, None)

    async def connect(self) -> None:
        """Open the socket now (classic: and register)."""
        async with self.lock():
            await self.connection(None)

    async def aclose(self) -> None:
        """Close the socket and wait for background closing to finish. The transport may be used again."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            self._conn, self._tasks = None, set()  # the loop that owned them is gone
            return
        conn = self._conn
        if conn is not None:
            self._drop(conn)
        while self._tasks:
            watchers_and_closes = list(self._tasks)
            await asyncio.gather(*watchers_and_closes, return_exceptions=True)

    # -- one request ---------------------------------------------------------------------------------------------

    async def exchange(self, request: LLMRequest, *, single_message: bool = False) -> AsyncGenerator[StreamEvent, None]:
        """Run one request: its text events, then exactly one ``done`` event (no text).

        An answer without text is not an error here: the done event carries ``raw={"empty_answer": True}``.
        Failures: ``ProviderError`` for error frames, ``ServiceUnavailableError`` for "not initialized",
        ``TimeoutError(kind="read")`` / ``ConnectionError`` before any text, ``IncompleteStreamError`` with the
        partial text after some, ``ProtocolError`` for a frame that is not a JSON object. ``request.timeout``, when
        set, replaces the frame timeout. Nothing is retried here."""
        async with self.lock():
            # aclosing: an abandoned stream must drop its socket before the lock goes to the next request.
            async with aclosing(self._exchange(request, single_message)) as events:
                async for event in events:
                    yield event

    async def _send(self, request: LLMRequest, single_message: bool) -> WebSocketConnection:
        conn = await self.connection(request.request_id)
        try:
            await conn.send_json(
                self.codec.request_frame(request, single_message=single_message), request_id=request.request_id
            )
        except UnsentFrameError:
            # The socket closed while idle and the server never saw the frame: reconnect once and send it.
            self._drop(conn)
            conn = await self.connection(request.request_id)
            await conn.send_json(
                self.codec.request_frame(request, single_message=single_message), request_id=request.request_id
            )
        return conn

    async def _exchange(self, request: LLMRequest, single_message: bool) -> AsyncGenerator[StreamEvent, None]:
        conn = await self._send(request, single_message)
        answer = _Answer(request, self.codec.dialect)
        in_sync = False
        try:
            while not in_sync:
                decoded = await self._receive(conn, request, answer)
                if decoded.discard:
                    self._drop(conn)
                event = answer.take(decoded)
                if event is not None:
                    yield event
                in_sync = decoded.end
        finally:
            if not in_sync and self._conn is conn:
                # Left mid-answer (error or abandoned stream): the rest of the answer would confuse the next one.
                self._drop(conn)
        yield answer.finish()

    async def _receive(self, conn: WebSocketConnection, request: LLMRequest, answer: _Answer) -> Decoded:
        try:
            received = await conn.receive_json(request.timeout or self.frame_timeout, request_id=request.request_id)
            return self.codec.decode(received, request)
        except exc.ProtocolError as error:
            if answer.parts:
                error.details = {"partial_text": answer.text}
            raise
        except (exc.TimeoutError, exc.ConnectionError) as error:
            raise answer.broken(error) from None


class _Answer:
    """What one WebSocket answer delivered so far, and how it ends."""

    __slots__ = ("dialect", "error", "last", "parts", "request")

    def __init__(self, request: LLMRequest, dialect: str) -> None:
        self.request = request
        self.dialect = dialect
        self.parts: list[str] = []
        self.last = StreamEvent(context_id=request.context_id)
        self.error: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def take(self, decoded: Decoded) -> StreamEvent | None:
        """The text event of a frame, if any, remembering its metadata and a first error."""
        if decoded.error is not None and self.error is None:
            self.error = decoded.error
        event = decoded.event
        if event is None:
            return None
        last = self.last
        self.last = StreamEvent(
            model=event.model or last.model,
            provider=event.provider or last.provider,
            context_id=event.context_id or last.context_id,
            fallback=event.fallback or last.fallback,
        )
        if not event.text:
            return None
        self.parts.append(event.text)
        return event

    def finish(self) -> StreamEvent:
        """The done event, or the error the answer ended with."""
        if self.error is not None:
            raise service_error(self.error, self.request.request_id, self.dialect, self.text)
        last = self.last
        return StreamEvent(
            done=True,
            model=last.model,
            provider=last.provider,
            context_id=last.context_id,
            fallback=last.fallback,
            raw=None if self.parts else {"empty_answer": True},
        )

    def broken(self, error: exc.TektonLLMError) -> exc.TektonLLMError:
        """The error for an answer that stopped without its terminator."""
        request_id = self.request.request_id
        if self.parts:
            return exc.IncompleteStreamError(
                f"WebSocket answer broke off: {error.message}",
                partial_text=self.text,
                request_id=request_id,
                dialect=self.dialect,
            )
        if isinstance(error, exc.TimeoutError):
            return exc.TimeoutError(
                f"{error.message} (answer not started)", kind="read", request_id=request_id, dialect=self.dialect
            )
        return exc.ConnectionError(
            f"{error.message} before the answer was complete", request_id=request_id, dialect=self.dialect
        )


def service_error(message: str, request_id: str | None, dialect: str, partial_text: str = "") -> exc.TektonLLMError:
    """The error of an error frame: "not initialized" means Rhetor is up but not ready (retryable, a reason to fall
    back, rhetor-protocol.md §10 row 24); anything else is the provider's."""
    details = {"partial_text": partial_text} if partial_text else None
    if "not initialized" in message.lower():
        return exc.ServiceUnavailableError(message, request_id=request_id, dialect=dialect, details=details)
    return exc.ProviderError(message, request_id=request_id, dialect=dialect, details=details)
