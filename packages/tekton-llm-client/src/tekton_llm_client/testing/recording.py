"""Capture of everything a client sent, so tests can assert on the exact wire traffic.

Requests and frames share one sequence counter, so their relative order is known even though they are kept in
two lists. The recorder is written from the server thread and read from the test thread, hence the lock.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if k in _SECRET_HEADERS else v) for k, v in headers.items()}


def parse_json(text: str) -> tuple[bool, Any]:
    """Return ``(True, value)`` for JSON text and ``(False, text)`` otherwise."""
    try:
        return True, json.loads(text)
    except ValueError:
        return False, text


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request (or WebSocket handshake, ``method == "WEBSOCKET"``) as the server received it."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    """Lower-cased names. Kept out of ``repr`` as a whole: they may carry the client's bearer token."""
    body: Any = None
    """Parsed JSON body; the raw text when it is not JSON; ``None`` when empty."""

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(seq={self.seq}, method={self.method!r}, path={self.path!r}, "
            f"query={self.query!r}, headers={_redacted(self.headers)!r}, body={self.body!r})"
        )


@dataclass(frozen=True)
class RecordedFrame:
    """One WebSocket text frame the server received."""

    seq: int
    connection: int
    """Per-server number of the socket, so tests can see reconnections."""
    path: str
    text: str
    is_json: bool
    data: Any
    """The parsed JSON value, or the raw text when the frame is not JSON."""


class Recorder:
    """Thread-safe, ordered store of requests and frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._connections = 0
        self._requests: list[RecordedRequest] = []
        self._frames: list[RecordedFrame] = []
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._sent: dict[int, int] = {}
        self._changed = threading.Condition(self._lock)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw_body: bytes
    ) -> RecordedRequest:
        text = raw_body.decode("utf-8", "replace")
        body = parse_json(text)[1] if text else None
        with self._lock:
            record = RecordedRequest(self._next(), method, path, query, headers, body)
            self._requests.append(record)
        return record

    def enter(self, path: str) -> None:
        """A request (or socket) on ``path`` starts being served."""
        with self._lock:
            count = self._in_flight.get(path, 0) + 1
            self._in_flight[path] = count
            self._peak[path] = max(self._peak.get(path, 0), count)

    def leave(self, path: str) -> None:
        with self._lock:
            self._in_flight[path] -= 1

    def max_concurrency(self, path: str) -> int:
        """The most requests (or sockets) ever served at once on ``path`` since the last ``clear()``."""
        with self._lock:
            return self._peak.get(path, 0)

    def connection(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def frame(self, connection: int, path: str, text: str) -> RecordedFrame:
        is_json, data = parse_json(text)
        with self._lock:
            record = RecordedFrame(self._next(), connection, path, text, is_json, data)
            self._frames.append(record)
            self._changed.notify_all()
        return record

    def wait_frames(self, count: int, timeout: float = 10.0) -> list[RecordedFrame]:
        """The received frames once there are at least ``count``: a test's proof that the server has read (and,
        as it handles a socket's frames in order, finished with) everything sent before the last one. Blocking;
        from async code use ``asyncio.to_thread``. ``timeout`` only guards against a hang (``TimeoutError``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._frames) >= count, timeout):
                raise TimeoutError(f"the server received {len(self._frames)} of {count} WebSocket frames")
            return list(self._frames)

    def sent(self, connection: int) -> None:
        """One frame went out on ``connection`` (the Rhetor WebSocket profiles count theirs)."""
        with self._lock:
            self._sent[connection] = self._sent.get(connection, 0) + 1

    def frames_sent(self, connection: int) -> int:
        """How many frames the server has sent on ``connection`` so far."""
        with self._lock:
            return self._sent.get(connection, 0)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def frames(self) -> list[RecordedFrame]:
        with self._lock:
            return list(self._frames)

    def attempts(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self._requests if r.path == path)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._frames.clear()
            self._sent.clear()
            self._peak = dict(self._in_flight)

    def to_json(self) -> dict[str, Any]:
        """Everything recorded, as the control API returns it (headers included: tests check them)."""
        with self._lock:
            return {
                "requests": [asdict(r) for r in self._requests],
                "ws_frames": [asdict(f) for f in self._frames],
            }
