"""Rhetor classic (April–June 2025): root routes, ``message``/``chunk`` keys, nested ``options.options``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from ..models import AvailableProviders
from .base import HttpDialect, first_key, load_json_event, normalise_models

_INNER_OPTIONS = ("fallback_provider", "fallback_model", "bypass_budget")


def classic_options(request: LLMRequest) -> dict[str, Any]:
    """Classic's ``options``: the router override (``provider``, ``model``) with LLM and routing parameters nested
    one level down in ``options.options`` — flat ``temperature``/``max_tokens`` are silently dropped by the server.
    Shared by the HTTP dialect and the WebSocket envelope."""
    inner: dict[str, Any] = {}
    if request.temperature is not None:
        inner["temperature"] = request.temperature
    if request.max_tokens is not None:
        inner["max_tokens"] = request.max_tokens
    for key in _INNER_OPTIONS:
        if request.extra.get(key) is not None:
            inner[key] = request.extra[key]
    options: dict[str, Any] = {}
    if request.provider:
        options["provider"] = request.provider
    if request.model:
        options["model"] = request.model
    if inner:
        options["options"] = inner
    return options


class ClassicDialect(HttpDialect):
    """Classic routes every request through ``/chat`` (it carries history) and ends streams with ``done: true``."""

    name = "classic"
    stream_needs_done = True

    def _body(self, request: LLMRequest, streaming: bool) -> dict[str, Any]:
        options = classic_options(request)
        body: dict[str, Any] = {
            # Classic has no system-prompt field; a leading system message is forwarded as-is.
            "messages": request.all_messages(),
            "context_id": request.context_id or request.component or "default",
            "task_type": request.task_type or "default",
            "streaming": streaming,
        }
        if request.component:
            body["component"] = request.component
        if options:
            body["options"] = options
        return body

    def chat(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        return "/chat", self._body(request, False)

    def stream(self, request: LLMRequest) -> tuple[str, dict[str, Any]]:
        return "/chat", self._body(request, True)

    def parse_response(self, body: Any, request: LLMRequest) -> StreamEvent:
        if not isinstance(body, dict):
            raise self.provider_error("classic chat answered with a body that is not an object", request)
        if body.get("error"):
            raise self.provider_error(str(body["error"]), request)  # provider failures come back as HTTP 200
        message = body.get("message")
        if not isinstance(message, str):
            raise exc.MissingTextError(
                "classic chat answer has no message field", request_id=request.request_id, dialect=self.name
            )
        # Positional, in field order (text, done, error, model, provider, context_id, fallback, raw): a dataclass
        # called with keywords costs twice as much (benchmarks P2, P3).
        return StreamEvent(
            message,
            True,
            None,
            body.get("model"),
            body.get("provider"),
            body.get("context", body.get("context_id")),  # the first key present, as ``first_key``
            bool(body.get("fallback", False)),
            body,
        )

    def parse_event(self, data: str, request: LLMRequest, event_name: str = "message") -> StreamEvent:
        if event_name == "error":
            raise self.event_error(data, request)
        event = load_json_event(data, request_id=request.request_id, dialect=self.name)
        if event.get("error"):
            raise self.provider_error(str(event["error"]), request)
        return StreamEvent(  # positional, as in parse_response
            str(event.get("chunk") or ""),
            bool(event.get("done", False)),
            None,
            event.get("model"),
            event.get("provider"),
            event.get("context", event.get("context_id")),
            bool(event.get("fallback", False)),
            event,
        )

    def providers_route(self) -> str | None:
        return "/providers"

    def parse_providers(self, body: Any, default_provider: str | None, default_model: str | None) -> AvailableProviders:
        raw = body.get("providers", {}) if isinstance(body, dict) else {}
        providers: dict[str, dict[str, Any]] = {}
        for provider, info in raw.items() if isinstance(raw, dict) else []:
            info = info if isinstance(info, dict) else {}
            providers[provider] = {
                "name": info.get("name", provider),
                "available": bool(info.get("available", False)),
                "models": normalise_models(info.get("models", []), provider),
            }
        server_provider = first_key(body, "default_provider", "current_provider") if isinstance(body, dict) else None
        server_model = first_key(body, "default_model", "current_model") if isinstance(body, dict) else None
        return AvailableProviders(
            providers=providers,
            default_provider=default_provider or server_provider or "",
            default_model=default_model or server_model or "",
        )

    def set_provider(self, provider_id: str, model_id: str) -> tuple[str, dict[str, Any]] | None:
        return "/provider", {"provider_id": provider_id, "model_id": model_id}

    def context_route(self, context_id: str) -> str:
        return f"/contexts/{quote(context_id, safe='')}"

    def budget_routes(self) -> dict[str, str]:
        return {"status": "/budget", "usage": "/budget/usage", "summary": "/budget/summary"}
