"""The WebSocket wire codec of every Rhetor generation: request frames out, ``StreamEvent``s in.

* **v1** (rhetor-protocol.md §5): bare JSON. The request has no ``type``; chunks carry ``content`` and
  ``done: false``; the answer ends with ``{"type": "stream_complete"}`` or a request-error frame
  ``{"type": "error"}``. A provider-error chunk (``error`` set) fails the answer, but ``stream_complete`` still
  follows it and must be read.
* **classic** (§7): a typed envelope. ``REGISTER`` on connect, ``CHAT_REQUEST``/``LLM_REQUEST`` with ``streaming``
  always explicit and LLM parameters nested in ``options.options``; ``UPDATE`` frames carry typing notices,
  ``chunk``s and the ``done: true`` end; ``RESPONSE`` is a whole answer; ``ERROR`` fails the request and, unless it
  says "Unsupported request type", leaves a socket the server no longer serves.
* **adapter** (§8.4): the retired LLM Adapter service's envelope. Single message only (``LLM_REQUEST``), flat
  ``options``, no system prompt, silence for anything else; an ``ERROR`` does not kill the socket.

Wire names live only here; the WebSocket client sees :class:`Decoded` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .. import exceptions as exc
from .._request import LLMRequest, StreamEvent
from .classic import classic_options

__all__ = ["WS_DIALECTS", "Decoded", "WSDialect", "WSFrameCodec", "codec_for"]

WSDialect = Literal["v1", "classic", "adapter"]
WS_DIALECTS: tuple[str, ...] = ("v1", "classic", "adapter")

_UNSUPPORTED = "Unsupported request type"


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one server frame means for the request in flight.

    ``event`` is text to deliver (never a done event); ``end`` says the answer is complete (after delivering
    ``event``); ``error`` fails the request (immediately when ``end``, else after the terminator); ``discard``
    says the socket must not be used again; ``skip`` marks frames that mean nothing for the request.
    """

    event: StreamEvent | None = None
    end: bool = False
    error: str | None = None
    discard: bool = False

    @property
    def skip(self) -> bool:
        """Nothing to deliver, nothing ended, nothing failed."""
        return self.event is None and not self.end and self.error is None


_SKIP = Decoded()


def _timestamp() -> str:
    return datetime.now().isoformat()


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class WSFrameCodec:
    """Frames of one generation. Stateless apart from the client identity used as envelope ``source``."""

    dialect: WSDialect = "v1"
    #: Whether the socket needs a ``REGISTER`` exchange right after connecting.
    registers: bool = False

    def __init__(self, component_id: str) -> None:
        self.component_id = component_id

    def request_frame(self, request: LLMRequest, *, single_message: bool = False) -> dict[str, Any]:
        """The frame that asks for ``request``. ``single_message`` prefers the single-prompt request type."""
        raise NotImplementedError

    def register_frame(self) -> dict[str, Any] | None:
        """The frame sent right after connecting, if the generation expects one."""
        return None

    def status_frame(self) -> dict[str, Any] | None:
        """A frame asking for the server status, if the generation has one."""
        return None

    def handshake_reply(self, frame: Any) -> Decoded:
        """Classify a reply to ``REGISTER``/``STATUS``: ``end`` with ``event.raw`` = payload, error, or skip."""
        return _SKIP

    def decode(self, frame: Any, request: LLMRequest) -> Decoded:
        """Meaning of one frame received while ``request`` is in flight; ``ProtocolError`` for non-objects."""
        raise NotImplementedError

    def _require_object(self, frame: Any, request: LLMRequest | None) -> dict[str, Any]:
        if not isinstance(frame, dict):
            raise exc.ProtocolError(
                f"{self.dialect} WebSocket frame is not a JSON object: {type(frame).__name__}",
                request_id=request.request_id if request else None,
                dialect=self.dialect,
            )
        return frame


class V1Frames(WSFrameCodec):
    """Rhetor v1: bare JSON request, ``content`` chunks, ``stream_complete`` terminator."""

    dialect: WSDialect = "v1"

    def request_frame(self, request: LLMRequest, *, single_message: bool = False) -> dict[str, Any]:
        # The system prompt has its own field on v1's socket (and is honoured there), so it is not in messages.
        frame: dict[str, Any] = {
            "messages": list(request.messages),
            "task_type": request.task_type or "chat",
        }
        context_id = request.context_id or request.component
        if context_id:
            frame["context_id"] = context_id  # echoed only; its prefix attributes budget to a component
        if request.component:
            frame["component"] = request.component
        if request.system_prompt:
            frame["system_prompt"] = request.system_prompt
        if request.model:
            frame["model"] = request.model
        if request.temperature is not None:
            frame["temperature"] = request.temperature  # applied by the server only together with model
        if request.max_tokens is not None:
            frame["max_tokens"] = request.max_tokens
        return frame

    def decode(self, frame: Any, request: LLMRequest) -> Decoded:
        data = self._require_object(frame, request)
        kind = data.get("type")
        if kind == "stream_complete":
            return Decoded(end=True)
        if kind == "error":
            # Request error: no terminator follows and the socket stays usable.
            return Decoded(end=True, error=str(data.get("error") or "request failed"))
        if data.get("error") is not None:
            # Provider error chunk: fails the answer, but stream_complete still follows.
            return Decoded(error=str(data["error"]))
        if "content" in data:
            return Decoded(
                event=StreamEvent(
                    text=str(data.get("content") or ""),
                    model=_str_or_none(data.get("model")),
                    provider=_str_or_none(data.get("provider")),
                    context_id=_str_or_none(data.get("context_id")),
                    raw=data,
                )
            )
        return _SKIP


class ClassicFrames(WSFrameCodec):
    """Rhetor classic: the typed envelope with ``REGISTER``, ``CHAT_REQUEST``/``LLM_REQUEST`` and nested options."""

    dialect: WSDialect = "classic"
    registers = True

    def _envelope(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": kind,
            "source": self.component_id,
            "target": "rhetor",
            "timestamp": _timestamp(),
            "payload": payload,
        }

    def register_frame(self) -> dict[str, Any] | None:
        return self._envelope("REGISTER", {"component_id": self.component_id})

    def status_frame(self) -> dict[str, Any] | None:
        return self._envelope("STATUS", {})

    def request_frame(self, request: LLMRequest, *, single_message: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "context": request.context_id or request.component or "default",
            "task_type": request.task_type or "default",
            "streaming": bool(request.stream),  # the socket defaults to true; always say which
        }
        if request.component:
            payload["component"] = request.component
        options = classic_options(request)
        if options:
            payload["options"] = options
        if single_message and not request.system_prompt and len(request.messages) <= 1:
            payload["message"] = request.last_user_message
            return self._envelope("LLM_REQUEST", payload)
        # No system-prompt field exists; a leading system message is forwarded as-is (as on classic HTTP /chat).
        payload["messages"] = request.all_messages()
        return self._envelope("CHAT_REQUEST", payload)

    def _error_discards(self, message: str) -> bool:
        # Any exception in the classic handler leaves a socket the server no longer reads (§7.4).
        return not message.startswith(_UNSUPPORTED)

    def handshake_reply(self, frame: Any) -> Decoded:
        data = self._require_object(frame, None)
        kind = data.get("type")
        raw_payload = data.get("payload")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        if kind == "ERROR":
            message = str(payload.get("error") or "request failed")
            return Decoded(end=True, error=message, discard=self._error_discards(message))
        if kind == "RESPONSE" and "isTyping" not in payload:
            return Decoded(end=True, event=StreamEvent(raw=payload))
        return _SKIP

    def decode(self, frame: Any, request: LLMRequest) -> Decoded:
        data = self._require_object(frame, request)
        kind = data.get("type")
        raw_payload = data.get("payload")
        payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
        if kind == "ERROR":
            message = str(payload.get("error") or "request failed")
            return Decoded(end=True, error=message, discard=self._error_discards(message))
        if kind == "UPDATE":
            return self._update(payload)
        if kind == "RESPONSE":
            return self._response(data, payload)
        return _SKIP

    def _update(self, payload: dict[str, Any]) -> Decoded:
        if "isTyping" in payload:
            return _SKIP  # typing on/off notices (the off one trails every answer)
        if payload.get("error"):
            return Decoded(end=True, error=str(payload["error"]))  # provider error chunk, done: true
        if "chunk" in payload:
            text = str(payload.get("chunk") or "")
            event = self._event(text, payload) if text else None
            return Decoded(event=event, end=bool(payload.get("done", False)))
        return Decoded(end=True) if payload.get("done") else _SKIP

    def _response(self, data: dict[str, Any], payload: dict[str, Any]) -> Decoded:
        if data.get("source") == "SYSTEM" or payload.get("status") == "registered":
            return _SKIP  # a REGISTER/STATUS reply, not an answer
        if payload.get("error"):
            return Decoded(end=True, error=str(payload["error"]))  # provider failure inside a RESPONSE
        text = str(payload.get("message") or "")
        return Decoded(event=self._event(text, payload) if text else None, end=True)

    @staticmethod
    def _event(text: str, payload: dict[str, Any]) -> StreamEvent:
        return StreamEvent(
            text=text,
            model=_str_or_none(payload.get("model")),
            provider=_str_or_none(payload.get("provider")),
            context_id=_str_or_none(payload.get("context")),
            fallback=bool(payload.get("fallback", False)),
            raw=payload,
        )


class AdapterFrames(ClassicFrames):
    """The retired LLM Adapter service (``ws://HOST:8301``): one message per request, flat options, no history."""

    dialect: WSDialect = "adapter"

    def register_frame(self) -> dict[str, Any] | None:
        return self._envelope("REGISTER", {"client_id": self.component_id, "capabilities": ["llm"]})

    def request_frame(self, request: LLMRequest, *, single_message: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.model:
            options["model"] = request.model
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["max_tokens"] = request.max_tokens
        payload: dict[str, Any] = {
            "message": request.last_user_message,  # the service has no history and no system prompt
            "context": request.context_id or request.component or "default",
            "streaming": bool(request.stream),
        }
        if options:
            payload["options"] = options
        return self._envelope("LLM_REQUEST", payload)

    def _error_discards(self, message: str) -> bool:
        return False  # the service keeps reading after an error


_CODECS: dict[str, type[WSFrameCodec]] = {"v1": V1Frames, "classic": ClassicFrames, "adapter": AdapterFrames}


def codec_for(dialect: str, component_id: str) -> WSFrameCodec:
    """The codec of a generation (``v1``, ``classic`` or ``adapter``)."""
    try:
        return _CODECS[dialect](component_id)
    except KeyError:
        choices = ", ".join(WS_DIALECTS)
        raise exc.ConfigurationError(f"unknown WebSocket dialect {dialect!r}; use one of {choices}") from None
