"""Cutting a response body on purpose, without filling the logs with the tracebacks that causes.

Raising ``StreamAbort`` inside a body makes uvicorn close the connection without the final empty chunk, as the
as-shipped classic server does when its stream breaks.
"""

from __future__ import annotations

import asyncio
import logging


class StreamAbort(Exception):
    """Raised inside a response body to cut the connection; the server's error log is told to skip it."""


def _on_purpose(exc: BaseException | None) -> bool:
    if isinstance(exc, StreamAbort | asyncio.CancelledError):
        return True
    group = getattr(exc, "exceptions", None)  # an exception group (3.11+ builtin or the 3.10 backport)
    return isinstance(group, tuple | list) and bool(group) and all(_on_purpose(e) for e in group)


class _QuietAborts(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" records the test server causes on purpose.

    Those are stream aborts and the tasks cancelled while the server stops.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _on_purpose(record.exc_info[1]))


_FILTER = _QuietAborts()


def quiet_uvicorn_errors() -> None:
    """Install the filter once on uvicorn's error logger."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
