"""Compatibility service for callers of the retired standalone LLM Adapter (``:8300`` HTTP, ``:8301`` WS).

It serves the old protocol (rhetor-protocol.md §8) and answers every request from Rhetor through the shared
client, so old callers keep working while they are migrated. Needs the ``service`` extra (FastAPI, uvicorn).

Run: ``python -m tekton_llm_shims.llm_adapter_service --host 127.0.0.1 --port 8300 --ws-port 8301``.
Embed: ``create_app(rhetor_url=None)`` returns the ASGI app.
"""

from .app import create_app
from .forwarder import Forwarder, LegacyRequest

__all__ = ["Forwarder", "LegacyRequest", "create_app"]
