"""Starting and stopping: real ports, quick shutdown with open streams and sockets, restart, closed ports."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from tekton_llm_client.testing import RhetorTestServer, closed_port, listen, serve_asgi
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_explicit_start_stop_binds_loopback_and_releases_everything() -> None:
    server = RhetorTestServer(chunk_delay=0.0)
    before = {t.name for t in threading.enumerate()}
    server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert server.ws_url == f"ws://127.0.0.1:{server.port}/ws"
        assert httpx.get(server.url + "/health").status_code == 200
        server.start()  # idempotent
    finally:
        server.stop()
    server.stop()  # idempotent
    assert _refused(server.port)
    assert {t.name for t in threading.enumerate()} == before


def test_restart_reuses_the_port_and_keeps_state_objects() -> None:
    with RhetorTestServer(chunk_delay=0.0) as server:
        port, faults = server.port, server.faults
        server.stop()
        assert _refused(port)
        server.start()
        assert server.port == port and server.faults is faults
        assert httpx.get(server.url + "/health").status_code == 200


def test_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown profile 'v2'"):
        RhetorTestServer("v2")


def test_closed_port_refuses_connections() -> None:
    port = closed_port()
    assert _refused(port)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


async def test_async_context_manager_and_stop_with_open_stream_and_socket() -> None:
    async with RhetorTestServer(chunk_delay=0.0, ping_interval=0.05) as server:
        server.faults.stall_after_chunks, server.faults.stall_seconds = 1, 60.0
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream(
                "POST", server.url + "/api/v1/chat/stream", json={"messages": [{"role": "user", "content": "x"}]}
            ) as response:
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith("data: ")
                async with connect(server.ws_url) as ws:
                    await ws.send(json.dumps({"messages": [{"role": "user", "content": "x"}]}))
                    assert "content" in json.loads(await asyncio.wait_for(ws.recv(), 5))
                    await asyncio.to_thread(server.stop)
                    with pytest.raises(ConnectionClosed):
                        await asyncio.wait_for(ws.recv(), 5)
                with pytest.raises(httpx.RemoteProtocolError):
                    async for _ in lines:
                        pass
        assert not server.running and _refused(server.port)


@pytest.mark.rhetor_server(profile="adapter")
def test_adapter_stop_releases_both_ports(rhetor_server: RhetorTestServer) -> None:
    ports = (rhetor_server.port, rhetor_server.ws_port)
    rhetor_server.stop()
    assert all(_refused(port) for port in ports)


async def test_serve_asgi_serves_in_the_running_loop_until_the_block_ends() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    with listen("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        async with serve_asgi(Starlette(routes=[Route("/", hello)]), sock) as url:
            assert url == f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient() as client:
                assert (await client.get(url + "/")).text == "hello"  # no waiting: it serves on return
    assert _refused(port)


async def test_serve_asgi_raises_when_the_app_does_not_start() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with listen("127.0.0.1", 0) as sock:
        with pytest.raises(RuntimeError, match="did not start serving"):
            async with serve_asgi(app, sock, lifespan="on"):
                pass  # pragma: no cover - never reached
