"""The process-wide ``TektonLLMClient``s the shims share: one per component, Rhetor URL, auth token and event loop.

Legacy call sites build an adapter per request (Terma for every route and terminal message, Engram through
``Depends``). With a client per adapter every request would detect Rhetor's generation again, open a new
connection pool and, against v1 as shipped, log the switch to the WebSocket again. Adapters therefore borrow
the shared client of their key, so a per-request adapter costs a dictionary look-up.

The registry owns the shared clients; adapters never close them (so nothing closes a client twice, or under
another adapter's request). They are closed when their event loop shuts down its async generators, which
``asyncio.run``, ``asyncio.Runner``, uvicorn and pytest-asyncio all do, or earlier by ``close_shared_clients()``.
The event loop is part of the key because a client's connections belong to the loop that opened them.
``asyncio.run`` cancels every task before it finalizes async generators; a WebSocket's watcher task closes its
socket when cancelled that way (``_transport/ws.py``), so no connection outlives the loop and no
``ResourceWarning`` follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncGenerator

from tekton_llm_client.client import TektonLLMClient

__all__ = ["close_shared_clients", "generation", "shared_client"]

_Key = tuple[str, str, str | None]
"""Component id, Rhetor URL, digest of the auth token (the token itself is never kept outside its client)."""


class _LoopClients:
    """The shared clients of one event loop, and the async generator that closes them at the loop's shutdown."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients: dict[_Key, TektonLLMClient] = {}
        self.closer = self._close_at_shutdown()

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        # Started once, then left suspended: the loop's ``shutdown_asyncgens()`` (or ``close_shared_clients``)
        # closes it, which runs the ``finally`` below while the loop can still await.
        try:
            yield
        finally:
            _retire(self)
            clients, self.clients = list(self.clients.values()), {}
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.aclose()


class _Registry:
    """Every loop's shared clients, and a counter of closings that lets adapters drop a client that was closed."""

    def __init__(self) -> None:
        self.by_loop: dict[asyncio.AbstractEventLoop, _LoopClients] = {}
        self.generation = 0


_registry = _Registry()


def generation() -> int:
    """Changes whenever shared clients are closed, so an adapter knows its remembered client is gone."""
    return _registry.generation


def _retire(entry: _LoopClients) -> None:
    if _registry.by_loop.get(entry.loop) is entry:
        del _registry.by_loop[entry.loop]
    _registry.generation += 1


def _token_identity(token: str | None) -> str | None:
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None


def _forget_closed_loops() -> None:
    """Drop the clients of loops closed without shutting down their async generators (nothing left to await)."""
    for loop, entry in list(_registry.by_loop.items()):
        if loop.is_closed():
            _retire(entry)


async def shared_client(component_id: str, rhetor_url: str) -> TektonLLMClient:
    """The running loop's client for ``component_id`` at ``rhetor_url`` with the current ``RHETOR_AUTH_TOKEN``.

    Created on first use with ``use_fallback=False`` (the shims answer failures with the legacy fallback values
    themselves); its other settings come from the ``RHETOR_*`` variables at that moment.
    """
    loop = asyncio.get_running_loop()
    token = os.environ.get("RHETOR_AUTH_TOKEN") or None
    key = (component_id, rhetor_url, _token_identity(token))
    entry = _registry.by_loop.get(loop)
    if entry is not None:
        client = entry.clients.get(key)
        if client is not None:
            return client
    client = TektonLLMClient(component_id, rhetor_url=rhetor_url, auth_token=token, use_fallback=False)
    if entry is None:
        _forget_closed_loops()
        entry = _registry.by_loop[loop] = _LoopClients(loop)
        entry.clients[key] = client
        await anext(entry.closer)  # registers the closer with this loop; runs to its ``yield`` at once
    else:
        entry.clients[key] = client
    return client


async def close_shared_clients() -> None:
    """Close the running loop's shared clients now (e.g. in an application's shutdown hook).

    Adapters that used them stay usable: their next request gets a new shared client.
    """
    entry = _registry.by_loop.get(asyncio.get_running_loop())
    if entry is not None:
        await entry.closer.aclose()
