"""The per-server state that route handlers share: profile, faults, recorder and small stores."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .faults import Faults
from .recording import Recorder


def _no_component_routes(path: str) -> str | None:
    return None


@dataclass
class ServerContext:
    profile: str
    faults: Faults
    recorder: Recorder
    defaults: Faults
    """The faults ``reset()`` returns to (the constructor's delay and ping settings)."""
    generation_paths: frozenset[str] = frozenset()
    """Routes that generate text: targets of ``fail_status`` (by default) and ``first_byte_delay``."""
    not_initialized_detail: Callable[[str], str | None] = _no_component_routes
    """For ``not_initialized``: the 503 detail of a path, or ``None`` when the path is not affected."""
    error_key: str = "detail"
    """Key of injected error bodies: FastAPI's ``detail``, or Ollama's ``error``."""
    port: int = 0
    started: float = field(default_factory=time.monotonic)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_provider: str = "simulated"
    default_model: str = "simulated-standard"

    def reset(self) -> None:
        """Forget recorded traffic, stored contexts and settings; restore the initial faults."""
        self.recorder.clear()
        self.faults.restore(self.defaults)
        self.contexts.clear()
        self.default_provider = "simulated"
        self.default_model = "simulated-standard"

    def reply(self, request: dict[str, Any], simulated: Callable[[], str]) -> str:
        """The answer text: the ``reply`` fault when set, else the simulated provider's text."""
        reply = self.faults.reply
        if reply is None:
            return simulated()
        return reply if isinstance(reply, str) else reply(request)
