"""Small wire-format helpers shared by every profile."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def now_iso() -> str:
    """Rhetor's timestamps: naive local ISO-8601 with microseconds (spec §3)."""
    return datetime.now().isoformat()


def dumps(value: Any) -> str:
    """JSON as Rhetor writes it into SSE lines and WS frames: Python's default separators."""
    return json.dumps(value)


MALFORMED = '{"content": "this frame is cut sh'
"""The text sent by the ``malformed_after_chunks`` fault: the start of a JSON object, never completed."""
