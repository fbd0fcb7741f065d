"""A v1 stream ends when the server closes the body — but only after a whole event: a body cut mid-event (a line or
an event without its terminator, or half a UTF-8 character) is a broken stream, never a silently shorter answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client._transport.sse import SSEParser

from .conftest import RawServers

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"


def _chunk(text: str) -> bytes:
    return f"data: {json.dumps({'content': text})}\n\n".encode()


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b'data: {"content":"world"}', id="unterminated-line"),
        pytest.param(b'data: {"content":"world"}\n', id="event-without-blank-line"),
        pytest.param(b"\xe2\x82", id="half-a-utf8-character"),
    ],
)
async def test_a_body_cut_mid_event_after_text_is_incomplete_with_the_partial_text(
    raw_server: RawServers, make_client: Any, tail: bytes
) -> None:
    server = await raw_server.start(lambda _r: [HEAD, _chunk("Hello "), tail])
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    chunks = []
    with pytest.raises(exc.IncompleteStreamError) as info:
        async for chunk in client.generate_text("cut", streaming=True):
            chunks.append(chunk)
    assert info.value.partial_text == "Hello "
    assert isinstance(info.value.__cause__, exc.StreamBrokenError)
    assert "ended mid-event" in info.value.__cause__.message
    assert [(c.chunk, c.done) for c in chunks] == [("Hello ", False), ("", True)]
    assert chunks[-1].error is not None and "ended mid-event" in chunks[-1].error


async def test_a_body_cut_mid_event_before_any_text_is_a_broken_stream(
    raw_server: RawServers, make_client: Any
) -> None:
    server = await raw_server.start(lambda _r: [HEAD, b'data: {"content":"never finished"}'])
    client = make_client(server.url, api="v1", transport="http", max_retries=1)
    with pytest.raises(exc.StreamBrokenError, match="ended mid-event"):
        await client.generate_text("cut", streaming=True).text()
    assert server.paths("POST") == ["/api/v1/chat/stream"] * 2  # nothing delivered: retried like a broken connection


async def test_a_clean_close_after_a_whole_event_is_the_end_of_a_v1_answer(
    raw_server: RawServers, make_client: Any
) -> None:
    server = await raw_server.start(lambda _r: [HEAD, _chunk("Hello "), _chunk("w\u00f6rld")])
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    assert await client.generate_text("whole", streaming=True).text() == "Hello w\u00f6rld"


def test_parser_close_reports_what_was_left_unfinished() -> None:
    parser = SSEParser()
    assert [m.data for m in parser.feed("data: a\n\ndata: b\n")] == ["a"]
    assert parser.close() == "an event without its terminating blank line"
    parser = SSEParser()
    assert [m.data for m in parser.feed("data: a\n\ndata: b")] == ["a"]
    assert parser.close() == "an unterminated line"
    parser = SSEParser()
    assert [m.data for m in parser.feed(": ping\n\ndata: a\r\n\r\n")] == ["a"]
    assert parser.close() is None
