"""Running an app under uvicorn in a background thread with its own event loop.

Tests start one server per test, so start and stop must be quick: the socket is bound before the thread starts
(port 0 is resolved at once), ``start()`` returns when uvicorn is serving, and ``stop()`` cuts every open
connection instead of waiting for streams and sockets to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType, TracebackType
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from .._sockets import closed_port, http_base, listen
from ._abort import quiet_uvicorn_errors
from ._context import ServerContext
from .faults import Faults
from .recording import RecordedFrame, RecordedRequest, Recorder

__all__ = ["ThreadedServer", "closed_port", "http_base", "listen", "serve_asgi"]

_Server = TypeVar("_Server", bound="ThreadedServer")

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class _Uvicorn(uvicorn.Server):
    """uvicorn that reports when it serves, without its 100 ms polling loop, and (``abrupt``) cutting connections
    at shutdown instead of waiting for them."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None], *, abrupt: bool = True) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._abrupt = abrupt
        self._stop: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop = asyncio.Event()
        try:
            await super().startup(sockets)
        except SystemExit as exit_:  # uvicorn exits the process when the app's start-up fails: not in a test
            raise RuntimeError(f"the app did not start serving (uvicorn exit {exit_.code})") from None
        if self.started:
            self._on_started()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the default response headers once
        assert self._stop is not None
        await self._stop.wait()

    def request_stop(self) -> None:
        """Called on the server's loop."""
        self.should_exit = True
        if self._stop is not None:
            self._stop.set()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._stop is not None:
            self._stop.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if not self._abrupt:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        tasks = list(self.server_state.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)


@contextlib.asynccontextmanager
async def serve_asgi(app: ASGIApp, sock: socket.socket, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on the listening ``sock`` inside the running event loop; yields the base URL once requests are
    accepted and stops at exit with uvicorn's graceful shutdown (lifespan included). ``options`` go to
    ``uvicorn.Config`` (default: ``log_level="warning"``).

    For stubs and services in async tests: nothing polls for start-up, and a failed start-up raises here.
    """
    started = asyncio.Event()
    options.setdefault("log_level", "warning")
    server = _Uvicorn(uvicorn.Config(app, **options), on_started=started.set, abrupt=False)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiting.cancel()
        serving.result()  # the start-up error, if it raised one
        raise RuntimeError(f"{app!r} did not start serving")
    host, port = sock.getsockname()[:2]
    try:
        yield http_base(host, port)
    finally:
        server.request_stop()
        await serving


class ThreadedServer:
    """Lifecycle, capture and faults shared by the Rhetor and Ollama test servers."""

    def __init__(self, ctx: ServerContext, host: str, port: int) -> None:
        self.host = host
        self._ctx = ctx
        self._port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Uvicorn | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    # --- what subclasses provide -------------------------------------------------------------------
    def _build_app(self) -> ASGIApp:
        raise NotImplementedError

    async def _serve_extra(self, stack: contextlib.AsyncExitStack) -> None:
        """Open additional servers on the same loop (the adapter's raw WebSocket port)."""

    # --- public surface ----------------------------------------------------------------------------
    @property
    def profile(self) -> str:
        return self._ctx.profile

    @property
    def faults(self) -> Faults:
        return self._ctx.faults

    @property
    def recorder(self) -> Recorder:
        return self._ctx.recorder

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return http_base(self.host, self._port)

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._ctx.recorder.requests

    @property
    def ws_frames(self) -> list[RecordedFrame]:
        return self._ctx.recorder.frames

    @property
    def running(self) -> bool:
        return self._thread is not None

    def attempts(self, path: str) -> int:
        """How many HTTP requests (WebSocket handshakes included) reached ``path``."""
        return self._ctx.recorder.attempts(path)

    def max_concurrency(self, path: str) -> int:
        """The most HTTP requests (or WebSocket connections) served at once on ``path``."""
        return self._ctx.recorder.max_concurrency(path)

    def reset(self) -> None:
        """Clear recorded traffic and server-side state and restore the initial faults."""
        self._ctx.reset()

    def start(self) -> None:
        """Bind, start serving in a background thread and return once requests are being accepted.

        After a ``stop()`` the server starts again on the same port(s).
        """
        if self._thread is not None:
            return
        sock = listen(self.host, self._port)
        self._port = self._ctx.port = sock.getsockname()[1]
        self._bind_extra()
        config = uvicorn.Config(
            self._build_app(),
            lifespan="off",
            log_config=None,
            access_log=False,
            http="h11",
            ws="websockets-sansio",
            timeout_keep_alive=5,
        )
        quiet_uvicorn_errors()
        self._started.clear()
        self._failure = None
        self._thread = threading.Thread(
            target=self._run, args=(config, sock), name=f"tekton-test-{self.profile}-{self._port}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(_START_TIMEOUT) or self._failure is not None:
            failure = self._failure
            self.stop()
            raise RuntimeError(f"test server failed to start on {self.url}") from failure

    def _bind_extra(self) -> None:
        """Bind additional listening sockets before the thread starts (overridden by the adapter)."""

    def stop(self) -> None:
        """Close every connection and the listening socket(s); idempotent."""
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None:
            return
        if loop is not None and server is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just finished by itself
                loop.call_soon_threadsafe(server.request_stop)
        thread.join(_STOP_TIMEOUT)
        self._thread = self._loop = self._server = None

    def _run(self, config: uvicorn.Config, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(config, sock))
        except BaseException as exc:  # reported to start(); a thread must not die silently
            self._failure = exc
        finally:
            sock.close()
            self._started.set()

    async def _serve(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            await self._serve_extra(stack)
            self._server = _Uvicorn(config, on_started=self._started.set)
            await self._server.serve(sockets=[sock])

    def __enter__(self: _Server) -> _Server:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self: _Server) -> _Server:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
