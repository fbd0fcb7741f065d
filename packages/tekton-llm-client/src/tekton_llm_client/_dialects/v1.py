"""Rhetor v1 (June 2025): ``/api/v1/chat`` and ``/api/v1/chat/stream``, camelCase responses, close-ended SSE."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from ..models import AvailableProviders
from .base import HttpDialect, load_json_event, normalise_models


class V1Dialect(HttpDialect):
    """v1 takes the system prompt only as a leading system message and has no provider field."""

    name = "v1"
    stream_needs_done = False

    def _body(self, request: LLMRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": request.all_messages(), "stream": stream}
        if request.model:
            body["model"] = request.model
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        # context_id is deliberately not sent: server contexts are broken as shipped (spec §4.4); history travels
        # in messages instead.
        return body

    def chat(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        return "/api/v1/chat", self._body(request, False)

    def stream(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        return "/api/v1/chat/stream", self._body(request, True)

    def parse_response(self, body: Any, request: LLMRequest) -> StreamEvent:
        if not isinstance(body, dict):
            raise self.provider_error("v1 chat answered with a body that is not an object", request)
        if body.get("error"):
            raise self.provider_error(str(body["error"]), request)
        content = body.get("content")
        if not isinstance(content, str):
            raise exc.MissingTextError(
                "v1 chat answer has no content field", request_id=request.request_id, dialect=self.name
            )
        # Positional, in field order (text, done, error, model, provider, context_id, fallback, raw): a dataclass
        # called with keywords costs twice as much (benchmarks P2, P3).
        return StreamEvent(
            content,
            True,
            None,
            body.get("model"),
            body.get("provider"),
            body.get("contextId", body.get("context_id")),  # the first key present, as ``first_key``
            False,
            body,
        )

    def parse_event(self, data: str, request: LLMRequest, event_name: str = "message") -> StreamEvent:
        if event_name == "error":
            raise self.event_error(data, request)
        event = load_json_event(data, request_id=request.request_id, dialect=self.name)
        if event.get("error"):
            raise self.provider_error(str(event["error"]), request)
        return StreamEvent(  # positional, as in parse_response
            str(event.get("content") or ""),
            bool(event.get("done", False)),
            None,
            event.get("model"),
            event.get("provider"),
            event.get("context_id", event.get("contextId", event.get("context"))),
            False,
            event,
        )

    def providers_route(self) -> str | None:
        return "/api/v1/models"

    def parse_providers(self, body: Any, default_provider: str | None, default_model: str | None) -> AvailableProviders:
        models = body.get("models") if isinstance(body, dict) else None
        providers: dict[str, dict[str, Any]] = {}
        if isinstance(models, dict):
            for provider, listing in models.items():
                providers[provider] = {
                    "name": provider,
                    "available": True,
                    "models": normalise_models(listing, provider),
                }
        elif isinstance(models, list):
            grouped: dict[str, list[Any]] = {}
            for item in models:
                provider = item.get("provider", "rhetor") if isinstance(item, dict) else "rhetor"
                grouped.setdefault(provider, []).append(item)
            for provider, listing in grouped.items():
                providers[provider] = {
                    "name": provider,
                    "available": True,
                    "models": normalise_models(listing, provider),
                }
        first_provider = next(iter(providers), "")
        first_model = next(iter(providers[first_provider]["models"]), "") if first_provider else ""
        return AvailableProviders(
            providers=providers,
            default_provider=default_provider or first_provider,
            default_model=default_model or first_model,
        )

    def context_route(self, context_id: str) -> str:
        return f"/api/v1/context/{quote(context_id, safe='')}"

    def budget_routes(self) -> dict[str, str]:
        return {"usage": "/api/v1/budget/usage"}
