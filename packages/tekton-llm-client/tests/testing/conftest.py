"""Helpers for the test-server tests: raw SSE and WebSocket readers (the client package is not used here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

FRAME_TIMEOUT = 5.0


def split_sse(raw: bytes) -> list[list[str]]:
    """Events of a CRLF-framed SSE body, each as its list of lines; asserts nothing but CRLF ends a line."""
    assert raw.replace(b"\r\n", b"").count(b"\n") == 0, "bare LF in SSE body"
    assert raw.replace(b"\r\n", b"").count(b"\r") == 0, "bare CR in SSE body"
    assert raw == b"" or raw.endswith(b"\r\n\r\n")
    return [block.split("\r\n") for block in raw.decode().split("\r\n\r\n") if block]


def sse_data(raw: bytes) -> list[Any]:
    """The JSON values of the ``data:`` lines, pings and ``event:`` lines skipped."""
    values = []
    for lines in split_sse(raw):
        values.extend(json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: "))
    return values


async def recv_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))


async def v1_answer(ws: ClientConnection) -> list[dict[str, Any]]:
    """Frames of one v1 WebSocket answer, up to and including ``stream_complete`` or an error frame."""
    frames = []
    while True:
        frame = await recv_json(ws)
        frames.append(frame)
        if frame.get("type") in ("stream_complete", "error"):
            return frames


async def classic_answer(ws: ClientConnection) -> list[dict[str, Any]]:
    """Frames of one classic answer, up to and including the typing-off UPDATE or an ERROR."""
    frames = []
    while True:
        frame = await recv_json(ws)
        frames.append(frame)
        if frame["type"] == "ERROR" or frame["payload"].get("isTyping") is False:
            return frames


@pytest.fixture
def sse() -> Callable[[bytes], list[Any]]:
    return sse_data


@pytest.fixture
def sse_blocks() -> Callable[[bytes], list[list[str]]]:
    return split_sse


@pytest.fixture
def ws_json() -> Any:
    return recv_json


@pytest.fixture
def read_v1() -> Any:
    return v1_answer


@pytest.fixture
def read_classic() -> Any:
    return classic_answer
