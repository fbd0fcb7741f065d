"""The timeline of one streamed answer: text chunks with delays, and the faults that interrupt them.

Every profile renders the same pieces in its own wire format, so a fault behaves identically over SSE and over
any WebSocket dialect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from . import simulated
from .faults import Faults

PieceKind = Literal["text", "error", "malformed", "drop"]


@dataclass(frozen=True)
class Piece:
    kind: PieceKind
    text: str = ""


def _position(after: int | None, total: int) -> int | None:
    return None if after is None else min(max(after, 0), total)


async def pieces(
    text: str, model: str, faults: Faults, *, size: int | None = None, delay: float | None = None
) -> AsyncIterator[Piece]:
    """Yield the answer's chunks, applying the stream faults; a fault count beyond the end acts at the end.

    ``size``/``delay`` are the profile's own values; the ``chunk_size``/``chunk_delay`` faults override them,
    and without either the model decides (fast 10 chars every 20 ms, ...).
    """
    size = faults.chunk_size or size or simulated.chunk_size(model)
    if faults.chunk_delay is not None:
        delay = faults.chunk_delay
    elif delay is None:
        delay = simulated.chunk_delay(model)
    chunks = simulated.split(text, size)
    total = len(chunks)
    malformed_at = _position(faults.malformed_after_chunks, total)
    stall_at = _position(faults.stall_after_chunks, total)
    error_at = _position(faults.error_after_chunks, total)
    drop_at = _position(faults.close_after_chunks, total)
    stall_seconds = faults.stall_seconds
    if faults.first_event_delay > 0:
        await asyncio.sleep(faults.first_event_delay)
    for index in range(total + 1):
        if index == malformed_at:
            yield Piece("malformed")
        if index == stall_at and stall_seconds > 0:
            await asyncio.sleep(stall_seconds)
        if index == error_at:
            yield Piece("error", faults.error_message)
            return
        if index == drop_at:
            yield Piece("drop")
            return
        if index == total:
            return
        if index and delay > 0:
            await asyncio.sleep(delay)
        yield Piece("text", chunks[index])
