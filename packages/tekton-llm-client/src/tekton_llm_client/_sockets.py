"""Listening sockets bound before serving starts: for the test servers, and for services and fixtures that run
uvicorn on a socket of their own (the shims' LLM Adapter compatibility service, test stubs).

Binding first means port 0 is resolved at once (the URL is known before the server runs) and connections queue in
the backlog until the loop accepts them, so nobody polls for "is it up yet". Standard library only, and outside
``testing`` because a production service (the shims' LLM Adapter service) uses it too; ``tekton_llm_client.testing``
re-exports it for tests.
"""

from __future__ import annotations

import contextlib
import socket

__all__ = ["closed_port", "http_base", "listen", "socket_url"]


def listen(host: str, port: int, *, backlog: int = 128) -> socket.socket:
    """A bound, listening TCP socket on ``host:port`` (port 0 picks a free one; IPv6 for hosts with a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP;
    # without it every response pays Nagle + delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on (bound once, then released): connecting is refused."""
    with contextlib.closing(listen(host, 0)) as sock:
        port: int = sock.getsockname()[1]
    return port


def http_base(host: str, port: int, scheme: str = "http") -> str:
    """``scheme://host:port`` with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def socket_url(sock: socket.socket, scheme: str = "http") -> str:
    """``scheme://host:port`` of a bound socket (the port it actually got)."""
    host, port = sock.getsockname()[:2]
    return http_base(host, port, scheme)
