"""Test doubles of Rhetor (every generation, quirks switchable) and of Ollama, on real sockets.

Names are imported lazily: the pytest plugin lives in this package and must not pull in FastAPI or uvicorn
(the ``testing`` extra) just because pytest loaded it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._ratelimit import reset_rate_limiters
    from .._sockets import closed_port, listen
    from ._lifecycle import serve_asgi
    from .faults import Faults
    from .ollama import OllamaTestServer
    from .recording import RecordedFrame, RecordedRequest
    from .server import PROFILES, RhetorTestServer

__all__ = [
    "PROFILES",
    "Faults",
    "OllamaTestServer",
    "RecordedFrame",
    "RecordedRequest",
    "RhetorTestServer",
    "closed_port",
    "listen",
    "reset_rate_limiters",
    "serve_asgi",
]

_HOMES = {
    "PROFILES": ".server",
    "RhetorTestServer": ".server",
    "OllamaTestServer": ".ollama",
    "Faults": ".faults",
    "RecordedFrame": ".recording",
    "RecordedRequest": ".recording",
    "closed_port": ".._sockets",
    "listen": ".._sockets",
    "serve_asgi": "._lifecycle",
    "reset_rate_limiters": ".._ratelimit",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
