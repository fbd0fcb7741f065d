"""Command line: run a test server in the foreground for tests written in other languages.

``python -m tekton_llm_client.testing --profile v1 --port 0`` prints one JSON line (``url``, ``ws_url``,
``profile``) on stdout once it is listening, logs to stderr, and exits cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

try:
    from .server import PROFILES
except ModuleNotFoundError as exc:  # FastAPI, uvicorn, sse-starlette come with the extra, not with the client
    sys.exit(
        f"python -m tekton_llm_client.testing needs the 'testing' extra ({exc.name} is not installed): "
        "pip install 'tekton-llm-client[testing]'"
    )


def _port(text: str) -> int:
    """A TCP port number, 0 meaning "pick a free one"; anything else is a usage error, not a traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tekton_llm_client.testing", description=__doc__)
    parser.add_argument(
        "--profile", "--dialect", dest="profile", default="v1", choices=(*PROFILES, "ollama"), help="what to emulate"
    )
    parser.add_argument("--host", default="127.0.0.1")
    # A string default goes through ``type`` too, so a bad RHETOR_PORT is a usage error like a bad --port.
    parser.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("RHETOR_PORT", "8003"),
        help="0 picks a free port (default: env RHETOR_PORT, else 8003)",
    )
    parser.add_argument("--ws-port", type=_port, default=0, help="adapter profile: raw WebSocket port")
    parser.add_argument("--chunk-delay", type=_seconds, default=None, help="seconds between chunks (default per model)")
    parser.add_argument("--ping-interval", type=_seconds, default=15.0, help="seconds between SSE pings")
    parser.add_argument(
        "--log-level", type=str.upper, default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    server: OllamaTestServer | RhetorTestServer
    if args.profile == "ollama":
        from .ollama import OllamaTestServer

        server = OllamaTestServer(args.host, args.port, chunk_delay=args.chunk_delay or 0.0)
    else:
        from .server import RhetorTestServer

        server = RhetorTestServer(
            args.profile,
            args.host,
            args.port,
            chunk_delay=args.chunk_delay,
            ping_interval=args.ping_interval,
            ws_port=args.ws_port,
        )
    stop_signals: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # No lock in here: the handler runs on the main thread between two bytecodes, possibly inside the lock-held
        # part of a threading primitive (Event.wait's Condition), and Event.set() there waits for itself forever.
        stop_signals.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
    except OSError as exc:  # port in use, address not available, unknown host: the caller's to fix
        where = f"{args.host}:{args.port}" + (f" (WebSocket port {args.ws_port})" if args.ws_port else "")
        parser.error(f"cannot listen on {where}: {exc.strerror or exc}")
    try:
        print(json.dumps({"url": server.url, "ws_url": server.ws_url, "profile": server.profile}), flush=True)
        logging.getLogger(__name__).info("serving %s on %s", server.profile, server.url)
        while not stop_signals:
            time.sleep(0.1)  # a signal on the main thread cuts it short; one on another thread waits <= 0.1 s
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
