"""Process-wide notice that a client answered from its fallback chain, independent of logging.

A WARNING is logged too, but logging is configured by the application (``dictConfig`` disables existing loggers,
``caplog.set_level(ERROR)`` silences them), so code that must *know* — the pytest plugin's guard that fails a test
whose client faked an answer — listens here instead. The request pipeline calls :func:`notify_fallback` once per
request answered by the fallback chain; listeners are called synchronously in the notifying thread and must be
quick and must not raise (an exception of a listener is logged and swallowed: it never breaks the request).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["FallbackEvent", "FallbackListener", "fallback_listener", "notify_fallback"]

logger = logging.getLogger("tekton_llm_client")


@dataclass(frozen=True, slots=True)
class FallbackEvent:
    """One request answered by the fallback chain: which component, why (safe to log), which request."""

    component: str
    reason: str
    request_id: str | None = None


FallbackListener = Callable[[FallbackEvent], None]

class _Registry:
    """The listeners: a tuple replaced under a lock, so notifying reads it without one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.listeners: tuple[FallbackListener, ...] = ()


_registry = _Registry()


def notify_fallback(component: str, reason: str, request_id: str | None = None) -> None:
    """Tell every listener that a request of ``component`` is being answered by the fallback chain."""
    listeners = _registry.listeners
    if not listeners:
        return
    event = FallbackEvent(component, reason, request_id)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.exception("fallback listener %r failed", listener)


@contextlib.contextmanager
def fallback_listener(listener: FallbackListener) -> Iterator[FallbackListener]:
    """Call ``listener`` for every fallback answer of any client in the process while the block runs."""
    with _registry.lock:
        _registry.listeners = (*_registry.listeners, listener)
    try:
        yield listener
    finally:
        with _registry.lock:
            remaining = list(_registry.listeners)
            remaining.remove(listener)
            _registry.listeners = tuple(remaining)
