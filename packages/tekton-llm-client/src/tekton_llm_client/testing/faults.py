"""Fault switches of the test servers.

One mutable object per running server. Handlers read it at the moment they need a value, so a test can change
any field between two requests (or from another process through ``POST /_testing/faults``) without restarting
the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pydantic

Reply = str | Callable[[dict[str, Any]], str]


@dataclass
class Faults:
    """What the server should get wrong on the next requests; the defaults make it behave."""

    not_initialized: bool = False
    """503 "not initialized" on the profile's component routes; WebSocket error frame (classic: then close)."""
    text_500_paths: set[str] = field(default_factory=set)
    """Paths answered with 500 ``text/plain`` ``Internal Server Error`` (any method)."""
    fail_status: int | None = None
    """HTTP status of an injected failure (e.g. 503, 429); the body is FastAPI-shaped ``{"detail": ...}``."""
    fail_times: int = 1
    """How many matching requests fail before the fault is spent; a negative value means every request."""
    fail_paths: set[str] | None = None
    """Paths the injected failure applies to; ``None`` means the profile's generation routes."""
    fail_detail: str | None = None
    """``detail`` of the injected failure; ``None`` means the HTTP reason phrase."""
    retry_after: str | None = None
    """``Retry-After`` header value sent with the injected failure (seconds or an HTTP date)."""
    error_in_200: bool = False
    """The provider fails: classic/adapter 200 ``{"error"}``; v1 SSE error event; WS provider error chunk."""
    error_message: str = "Anthropic Claude is not available."
    """Text of every provider error the faults produce."""
    provider_unavailable: bool = False
    """v1: one chunk with empty ``content`` then the normal end (silent empty answer); classic: as error_in_200."""
    error_after_chunks: int | None = None
    """Send a provider error (SSE event, WS error chunk/frame) after K text chunks."""
    close_after_chunks: int | None = None
    """Drop the stream or socket after K text chunks, without any terminator."""
    first_byte_delay: float = 0.0
    """Seconds before the response headers (HTTP) or the first reply frame (WS) of a generation request."""
    first_event_delay: float = 0.0
    """Seconds between the response headers and the first event (SSE pings keep flowing)."""
    stall_after_chunks: int | None = None
    """Pause the data (not the pings) after K chunks for ``stall_seconds``."""
    stall_seconds: float = 0.0
    malformed_after_chunks: int | None = None
    """Emit one ``data:`` line or WS frame that is not valid JSON after K chunks, then continue."""
    reply: Reply | None = None
    """Replace the simulated text: a fixed string or ``callable(request_json) -> str``."""
    chunk_size: int | None = None
    """Characters per chunk; ``None`` means the model's size (fast 10, standard 5, advanced 3)."""
    chunk_delay: float | None = None
    """Seconds between chunks; ``None`` means the model's delay (20, 50, 80 ms)."""
    ping_interval: float = 15.0
    """Seconds between SSE ``: ping`` comments; 0 disables them."""

    def restore(self, defaults: Faults) -> None:
        """Copy every field of ``defaults`` into this object, which tests may hold a reference to."""
        for item in dataclasses.fields(self):
            value = getattr(defaults, item.name)
            setattr(self, item.name, set(value) if isinstance(value, set) else value)

    def take_failure(self, path: str, generation_paths: frozenset[str]) -> int | None:
        """Return the status to fail ``path`` with, consuming one of ``fail_times``; ``None`` lets it pass."""
        if self.fail_status is None or self.fail_times == 0:
            return None
        paths = generation_paths if self.fail_paths is None else self.fail_paths
        if path not in paths:
            return None
        if self.fail_times > 0:
            self.fail_times -= 1
        return self.fail_status

    def patch(self, changes: Mapping[str, Any]) -> None:
        """Apply a JSON object of field changes (the control API): values are validated and converted
        (lists become sets); ``reply`` can only be text there.

        Raises ``ValueError`` naming the first unknown field or invalid value; nothing is changed then.
        """
        known = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault field: {unknown[0]}")
        if changes.get("reply") is not None and not isinstance(changes["reply"], str):
            raise ValueError("reply must be a string or null")
        try:
            validated = _validator().validate_python(dict(changes))
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            raise ValueError(f"invalid value for {error['loc'][0]}: {error['msg']}") from None
        for name in changes:
            setattr(self, name, getattr(validated, name))

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values (sets as sorted lists, a callable reply as a placeholder)."""
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, set):
                value = sorted(value)
            elif callable(value):
                value = "<callable>"
            data[item.name] = value
        return data


@cache
def _validator() -> pydantic.TypeAdapter[Faults]:
    return pydantic.TypeAdapter(Faults)
