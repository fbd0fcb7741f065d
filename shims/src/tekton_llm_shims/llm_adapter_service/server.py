"""Running the service: one uvicorn server listening on the HTTP port and, optionally, the legacy WS port.

The retired service served HTTP on 8300 and its WebSocket on 8301. Both sockets here serve the same app, so the
envelope is reachable at ``ws://HOST:8300/`` and, with ``--ws-port 8301``, at ``ws://HOST:8301`` as before.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn
from tekton_llm_client._sockets import listen, socket_url

from .._common import redact_credentials, resolve_rhetor_url
from .app import create_app

__all__ = ["main", "serve"]


class _Server(uvicorn.Server):
    """A SIGTERM/SIGINT is a request to stop: after the graceful shutdown the process exits 0 (plain uvicorn
    re-raises the signal, so the service would report -15 to its supervisor)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


async def serve(
    sockets: Sequence[socket.socket], rhetor_url: str | None = None, *, log_level: str = "info"
) -> None:
    """Serve the app on every socket until interrupted."""
    config = uvicorn.Config(create_app(rhetor_url), log_level=log_level)
    await _Server(config).serve(sockets=list(sockets))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tekton_llm_shims.llm_adapter_service``: prints one JSON line with its URLs, then serves."""
    parser = argparse.ArgumentParser(
        prog="python -m tekton_llm_shims.llm_adapter_service",
        description="The retired Tekton LLM Adapter service protocol, answered by Rhetor.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8300, help="HTTP (and WebSocket) port, 0 = any (default 8300)")
    parser.add_argument("--ws-port", type=int, default=None, help="extra WebSocket port of the legacy layout (8301)")
    parser.add_argument(
        "--rhetor-url", default=None, help="Rhetor base URL (default: RHETOR_URL, RHETOR_PORT, http://localhost:8003)"
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    args = parser.parse_args(argv)

    sockets = [listen(args.host, args.port)]
    if args.ws_port is not None:
        sockets.append(listen(args.host, args.ws_port))
    app_url = socket_url(sockets[0])
    ws_url = socket_url(sockets[-1], "ws")
    rhetor_url = redact_credentials(resolve_rhetor_url(args.rhetor_url))  # stdout is a log: no credentials
    print(json.dumps({"url": app_url, "ws_url": ws_url, "rhetor_url": rhetor_url}))
    sys.stdout.flush()
    try:
        asyncio.run(serve(sockets, args.rhetor_url, log_level=args.log_level))
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
    return 0
