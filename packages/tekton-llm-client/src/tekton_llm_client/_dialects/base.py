"""What every HTTP dialect provides; helpers shared by both generations' parsers."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from ..models import AvailableProviders

__all__ = ["HttpDialect", "Route", "first_key", "load_json_event", "normalise_models"]

Route = tuple[str, str, "dict[str, Any] | None"]


def first_key(data: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present (for fields that come in snake_case or camelCase)."""
    for key in keys:
        if key in data:
            return data[key]
    return None


def load_json_event(data: str, *, request_id: str | None, dialect: str) -> dict[str, Any]:
    """Parse one SSE ``data`` payload as a JSON object, or raise ``ProtocolError``."""
    try:
        value = json.loads(data)
    except ValueError:
        raise exc.ProtocolError(
            f"malformed stream event (not JSON): {data[:80]!r}", request_id=request_id, dialect=dialect
        ) from None
    if not isinstance(value, dict):
        raise exc.ProtocolError(f"stream event is not an object: {data[:80]!r}", request_id=request_id, dialect=dialect)
    return value


def normalise_models(models: Any, provider: str) -> dict[str, dict[str, Any]]:
    """Model listings come as lists of ids/dicts or as mappings; callers get ``{model_id: {id, name, ...}}``."""
    result: dict[str, dict[str, Any]] = {}
    if isinstance(models, dict):
        items: list[Any] = [
            ({"id": k, **v} if isinstance(v, dict) else {"id": k, "name": str(v)}) for k, v in models.items()
        ]
    elif isinstance(models, list):
        items = models
    else:
        items = []
    for item in items:
        if isinstance(item, str):
            item = {"id": item, "name": item}
        if isinstance(item, dict) and item.get("id"):
            entry = dict(item)
            entry.setdefault("name", entry["id"])
            entry.setdefault("provider", provider)
            result[str(entry["id"])] = entry
    return result


class HttpDialect(ABC):
    """One Rhetor generation over HTTP. Stateless: one instance serves every client."""

    name: str
    #: Whether a stream must end with an in-band ``done`` event (classic) or may end by close (v1).
    stream_needs_done: bool

    @abstractmethod
    def chat(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        """Path and body of a non-streaming generation."""

    @abstractmethod
    def stream(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        """Path and body of a streaming generation."""

    @abstractmethod
    def parse_response(self, body: Any, request: LLMRequest) -> StreamEvent:
        """A complete answer as one done event; raises ``ProviderError`` for in-band errors."""

    @abstractmethod
    def parse_event(self, data: str, request: LLMRequest, event_name: str = "message") -> StreamEvent:
        """One SSE payload (``event_name`` is its SSE event name); raises ``ProviderError`` for error events,
        ``ProtocolError`` for malformed ones."""

    @abstractmethod
    def providers_route(self) -> str | None:
        """Path that lists providers/models, if any."""

    @abstractmethod
    def parse_providers(self, body: Any, default_provider: str | None, default_model: str | None) -> AvailableProviders:
        """Providers listing in the client's shape."""

    def set_provider(self, provider_id: str, model_id: str) -> tuple[str, dict[str, Any]] | None:
        """Path and body to change the server default, or ``None`` when the generation cannot."""
        return None

    @abstractmethod
    def context_route(self, context_id: str) -> str:
        """Path of one server-side context."""

    @abstractmethod
    def budget_routes(self) -> dict[str, str]:
        """Named budget read paths."""

    def provider_error(self, message: str, request: LLMRequest) -> exc.ProviderError:
        """The in-band error of this generation."""
        return exc.ProviderError(message, request_id=request.request_id, dialect=self.name)

    def event_error(self, data: str, request: LLMRequest) -> exc.ProviderError:
        """An SSE event named ``error``: an error whatever its payload says (``error``, ``message``, ``detail`` or
        plain text) — treating it as a chunk would silently truncate the answer."""
        try:
            payload: Any = json.loads(data)
        except ValueError:
            payload = data
        message = first_key(payload, "error", "message", "detail") if isinstance(payload, dict) else payload
        if isinstance(message, dict):
            message = first_key(message, "message", "detail") or json.dumps(message)
        return self.provider_error(str(message or "error event without a message")[:500], request)
