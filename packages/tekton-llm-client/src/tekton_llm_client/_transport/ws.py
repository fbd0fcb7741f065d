"""WebSocket transport: one text-frame JSON connection, with every failure mapped to the client's exceptions.

It knows nothing of Rhetor's generations. It sends only JSON objects (a non-JSON text frame silently kills the
v1 server's read loop, rhetor-protocol.md §5.5), reads one frame at a time under a deadline, and never puts the
bearer token, the URL's credentials or its query string into a message or log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State

from .. import exceptions as exc
from ..config import safe_url

__all__ = ["UnsentFrameError", "WebSocketConnection"]

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
        auth_token: str | None = None,
        open_timeout: float = 10.0,
        close_timeout: float = 2.0,
        request_id: str | None = None,
    ) -> WebSocketConnection:
        """Connect (websockets >= 14 asyncio API); the token travels as ``Authorization: Bearer``."""
        headers = {"User-Agent": _USER_AGENT}
        if auth_token:
            headers["Authorization"] = f"Bearer {auth_token}"
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

    async def close(self) -> None:
        """Close politely (bounded by the close timeout), discarding unread frames; never raises."""
        drain = asyncio.get_running_loop().create_task(self._drain())
        try:
            await self._connection.close()
        except Exception as error:  # the socket is being discarded; nothing useful to report
            logger.debug("closing WebSocket to %s failed: %s", self.url, type(error).__name__)
        finally:
            await drain
