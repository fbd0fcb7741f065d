"""The LLM Adapter service's protocol: ``tekton_llm_client._adapter_protocol``, re-exported for tests and for code
that imported it from here."""

from __future__ import annotations

from .._adapter_protocol import (
    DEFAULT_CONTEXT,
    VERSION,
    AdapterBackend,
    DropConnection,
    EnvelopeSession,
    LegacyRequest,
    MessageBody,
    ProviderBody,
    RawFrame,
    frame_text,
    now_iso,
    register_http,
)

__all__ = [
    "DEFAULT_CONTEXT",
    "VERSION",
    "AdapterBackend",
    "DropConnection",
    "EnvelopeSession",
    "LegacyRequest",
    "MessageBody",
    "ProviderBody",
    "RawFrame",
    "frame_text",
    "now_iso",
    "register_http",
]
