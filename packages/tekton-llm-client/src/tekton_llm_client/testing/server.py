"""``RhetorTestServer``: a real Rhetor look-alike on a real socket, one profile per generation (spec §14)."""

from __future__ import annotations

import contextlib
import socket
from typing import Final

from starlette.types import ASGIApp

from .._sockets import http_base, listen
from . import adapter, classic_http, classic_ws, v1_http, v1_ws
from ._app import create_app
from ._context import ServerContext
from ._lifecycle import ThreadedServer
from .faults import Faults
from .recording import Recorder

PROFILES: Final = ("v1", "v1-as-shipped", "classic", "classic-as-shipped", "adapter")


def _context(profile: str, chunk_delay: float | None, ping_interval: float) -> ServerContext:
    """Fresh state for one profile: faults at their defaults, nothing recorded, the profile's generation routes."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    defaults = Faults(chunk_delay=chunk_delay, ping_interval=ping_interval)
    faults = Faults()
    faults.restore(defaults)
    ctx = ServerContext(profile=profile, faults=faults, recorder=Recorder(), defaults=defaults)
    if profile.startswith("v1"):
        ctx.generation_paths = v1_http.GENERATION_PATHS
        ctx.not_initialized_detail = v1_http.not_initialized_detail
    elif profile.startswith("classic"):
        ctx.generation_paths = classic_http.GENERATION_PATHS
        ctx.not_initialized_detail = classic_http.not_initialized_detail
    else:
        ctx.generation_paths = adapter.GENERATION_PATHS
    return ctx


class RhetorTestServer(ThreadedServer):
    """Serves one Rhetor generation on ``host:port`` (port 0 picks a free one) from a background thread.

    ``chunk_delay=None`` keeps the simulated models' delays (20/50/80 ms); tests usually pass ``0.0``.
    The ``adapter`` profile also listens on ``ws_port`` for its raw WebSocket protocol.
    """

    def __init__(
        self,
        profile: str = "v1",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        chunk_delay: float | None = None,
        ping_interval: float = 15.0,
        ws_port: int = 0,
    ) -> None:
        super().__init__(_context(profile, chunk_delay, ping_interval), host, port)
        self._ws_port = ws_port
        self._ws_sock: socket.socket | None = None

    def reconfigure(
        self, profile: str = "v1", *, chunk_delay: float | None = None, ping_interval: float = 15.0
    ) -> None:
        """Serve ``profile`` with these settings from now on, at the same address, from a clean state.

        Recorded traffic, stored contexts and faults are reset either way. Another profile restarts a running
        server on the same port(s), cutting open connections (so no WebSocket of the old profile lingers); the
        same profile keeps connections open. This is how the pytest fixture gives every test the server it asks
        for without moving it: a client created in an earlier test still reaches it.
        """
        if profile == self.profile:
            self._ctx.defaults = Faults(chunk_delay=chunk_delay, ping_interval=ping_interval)
            self._ctx.reset()
            return
        running = self.running
        self.stop()
        self._ctx = _context(profile, chunk_delay, ping_interval)
        if running:
            self.start()

    @property
    def ws_url(self) -> str:
        """Where the profile's WebSocket is: ``/ws`` on the HTTP port, or the adapter's own port (no path)."""
        if self.profile == "adapter":
            return http_base(self.host, self._ws_port, "ws")
        return http_base(self.host, self._port, "ws") + "/ws"

    @property
    def ws_port(self) -> int:
        return self._ws_port if self.profile == "adapter" else self._port

    def stop(self) -> None:
        super().stop()
        if self._ws_sock is not None:  # bound, but the server never got to serve it
            self._ws_sock.close()
            self._ws_sock = None

    def _build_app(self) -> ASGIApp:
        ctx = self._ctx
        app = create_app(ctx)
        if self.profile.startswith("v1"):
            v1_http.register(app, ctx, as_shipped=self.profile == "v1-as-shipped")
            v1_ws.register(app, ctx)
        elif self.profile.startswith("classic"):
            as_shipped = self.profile == "classic-as-shipped"
            classic_http.register(app, ctx, as_shipped=as_shipped)
            classic_ws.register(app, ctx, as_shipped=as_shipped)
        else:
            adapter.register_http(app, ctx)
        return app

    def _bind_extra(self) -> None:
        if self.profile == "adapter":
            self._ws_sock = listen(self.host, self._ws_port)
            self._ws_port = self._ws_sock.getsockname()[1]

    async def _serve_extra(self, stack: contextlib.AsyncExitStack) -> None:
        if self._ws_sock is not None:
            sock, self._ws_sock = self._ws_sock, None
            await adapter.serve_ws(stack, sock, self._ctx)
