"""Server-Sent Events as Rhetor sends them: CRLF lines, ``: ping - <utc time>`` comments, no ``[DONE]``.

sse-starlette writes the framing; this module only fixes its options.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

from ._wire import dumps

CRLF = "\r\n"


def event(data: Any, *, name: str | None = None) -> ServerSentEvent:
    """One SSE event; ``data`` is JSON-encoded unless it already is text."""
    text = data if isinstance(data, str) else dumps(data)
    return ServerSentEvent(data=text, event=name, sep=CRLF)


_NEVER = 10.0**9
"""Older sse-starlette releases spin on ``ping=0``; a ping interval nobody outlives disables pings everywhere."""


def response(events: AsyncIterator[ServerSentEvent], ping_interval: float) -> EventSourceResponse:
    """The streaming response with Rhetor's headers; ``ping_interval`` 0 disables the keep-alive comments."""
    return EventSourceResponse(events, ping=ping_interval if ping_interval > 0 else _NEVER, sep=CRLF)
