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


def _interruptions(faults: Faults, total: int) -> dict[int, list[Piece | None]]:
    """What happens before chunk ``index`` (``total`` = after the last): malformed, stall (``None``), error, drop."""
    plan: dict[int, list[Piece | None]] = {}
    for after, piece in (
        (faults.malformed_after_chunks, Piece("malformed")),
        (faults.stall_after_chunks if faults.stall_seconds > 0 else None, None),
        (faults.error_after_chunks, Piece("error", faults.error_message)),
        (faults.close_after_chunks, Piece("drop")),
    ):
        index = _position(after, total)
        if index is not None:
            plan.setdefault(index, []).append(piece)
    return plan


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
    plan = _interruptions(faults, len(chunks))
    stall_seconds = faults.stall_seconds
    if faults.first_event_delay > 0:
        await asyncio.sleep(faults.first_event_delay)
    for index in range(len(chunks) + 1):
        for piece in plan.get(index, ()):
            if piece is None:
                await asyncio.sleep(stall_seconds)
                continue
            yield piece
            if piece.kind in ("error", "drop"):
                return
        if index == len(chunks):
            return
        if index and delay > 0:
            await asyncio.sleep(delay)
        yield Piece("text", chunks[index])
