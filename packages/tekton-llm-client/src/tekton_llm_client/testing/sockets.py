"""Listening sockets for test servers and stubs: ``tekton_llm_client._sockets``, re-exported here for tests."""

from __future__ import annotations

from .._sockets import closed_port, http_base, listen, socket_url

__all__ = ["closed_port", "http_base", "listen", "socket_url"]
