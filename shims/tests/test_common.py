"""Shared shim behaviour: failure classification, URL precedence, deprecation warning, import hygiene, helpers."""

from __future__ import annotations

import asyncio
import builtins
import importlib
import subprocess
import sys
import textwrap
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client.models import StreamingChunk
from tekton_llm_shims import _common
from tekton_llm_shims._common import (
    AwaitableDict,
    Failure,
    classify,
    error_text,
    redact_credentials,
    resolve_rhetor_url,
    server_message,
    trim_context,
)

SHIMS = ("terma", "hermes", "telos", "engram")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (exc.NotFoundError("no route", status_code=404), Failure.SERVICE),
        (exc.RequestValidationError("bad body", status_code=422), Failure.SERVICE),
        (exc.ServerError("Internal Server Error", status_code=500), Failure.SERVICE),
        (exc.ServiceUnavailableError("Rhetor not initialized", status_code=503), Failure.SERVICE),
        (exc.ProviderError("Anthropic Claude is not available."), Failure.SERVICE),
        (exc.ProtocolError("malformed event"), Failure.SERVICE),
        (exc.UnsupportedOperation("no providers route"), Failure.SERVICE),
        (exc.ConnectionError("refused"), Failure.TRANSPORT),
        (exc.TimeoutError("read timed out"), Failure.TRANSPORT),
        (exc.IncompleteStreamError("dropped"), Failure.TRANSPORT),
        (exc.ServiceUnavailableError("circuit open"), Failure.TRANSPORT),  # raised by the client, no status
        (builtins.ConnectionRefusedError(), Failure.TRANSPORT),
        (asyncio.TimeoutError(), Failure.TRANSPORT),
        (OSError("name resolution failed"), Failure.TRANSPORT),
        (exc.InvalidRequestError("content must be a string"), Failure.EXCEPTION),  # client-side validation
        (TypeError("not JSON serializable"), Failure.EXCEPTION),
        (KeyError("x"), Failure.EXCEPTION),
    ],
)
def test_failure_classification(error: BaseException, expected: Failure) -> None:
    assert classify(error) is expected


@pytest.mark.parametrize(
    ("explicit", "env", "legacy", "expected"),
    [
        (None, {}, [], "http://localhost:8003"),
        (None, {"RHETOR_PORT": "9100"}, [], "http://localhost:9100"),
        (None, {"RHETOR_PORT": "9100"}, [("LLM_ADAPTER_URL", "http://r:8003/")], "http://r:8003"),
        (None, {"RHETOR_PORT": "9100"}, [("LLM_ADAPTER_URL", "http://r:8300")], "http://localhost:9100"),
        (None, {}, [("LLM_ADAPTER_URL", "ws://r:8301")], "http://localhost:8003"),
        (None, {"RHETOR_URL": "http://std:1/"}, [("LLM_ADAPTER_URL", "http://r:8003")], "http://std:1"),
        ("http://arg:2", {"RHETOR_URL": "http://std:1"}, [("LLM_ADAPTER_URL", "http://r:8003")], "http://arg:2"),
        (None, {"RHETOR_URL": ""}, [("first", None), ("second", "http://b:3")], "http://b:3"),
    ],
)
def test_rhetor_url_precedence(
    monkeypatch: pytest.MonkeyPatch, explicit: str | None, env: dict[str, str], legacy: list[tuple[str, str | None]],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert resolve_rhetor_url(explicit, legacy) == expected


def test_listed_legacy_defaults_are_retired_too() -> None:
    assert resolve_rhetor_url(None, [("x", "http://localhost:8080")], retired=["http://localhost:8080/"]) == (
        "http://localhost:8003"
    )


def test_trim_context_keeps_first_and_last_ten() -> None:
    context = [{"role": "system", "content": "s"}] + [{"role": "user", "content": str(n)} for n in range(12)]

    trimmed = trim_context(context)

    assert [m["content"] for m in trimmed] == ["s", *[str(n) for n in range(2, 12)]]
    assert trim_context(context[:11]) == context[:11]


async def test_awaitable_dict_awaits_to_itself_and_refreshes_in_place() -> None:
    calls = 0

    async def refresh() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"fresh": calls}

    plain = AwaitableDict({"a": 1})
    live = AwaitableDict({"stale": 0}, refresh=refresh)

    assert await plain is plain and plain == {"a": 1}
    assert live == {"stale": 0}
    assert await live is live and live == {"fresh": 1}
    assert isinstance(live, dict)


@pytest.mark.parametrize("shim", SHIMS)
def test_one_deprecation_warning_per_process_naming_replacement(shim: str) -> None:
    module = importlib.import_module(f"tekton_llm_shims.{shim}")
    _common._reset_deprecation_warnings()

    with pytest.warns(DeprecationWarning) as record:
        module.LLMAdapter()
        module.LLMAdapter()

    ours = [w for w in record if f"tekton_llm_shims.{shim}" in str(w.message)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "tekton_llm_client.TektonLLMClient(" in message
    assert f"MIGRATION.md#{shim}" in message
    assert ours[0].filename == __file__  # points at the caller, not at the shim


def test_importing_shims_has_no_side_effects(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import logging, os, socket, sys, warnings
        warnings.simplefilter("error")
        def refuse(*args, **kwargs):
            raise AssertionError("network I/O at import")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        root = (list(logging.getLogger().handlers), logging.getLogger().level)
        import tekton_llm_shims, tekton_llm_shims.terma, tekton_llm_shims.hermes
        import tekton_llm_shims.telos, tekton_llm_shims.engram
        assert (list(logging.getLogger().handlers), logging.getLogger().level) == root
        assert os.listdir(os.environ["HOME"]) == []
        print("clean")
        """
    )
    home = tmp_path / "home2"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script], env={"HOME": str(home), "PATH": ""}, capture_output=True, text=True, timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_package_import_does_not_load_the_shims() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys, tekton_llm_shims; print(sorted(m for m in sys.modules if 'shims.' in m))"],
        capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.stdout.strip() == "[]", result.stderr


# -- error texts ------------------------------------------------------------------------------------------------


def _broken_stream_error() -> exc.IncompleteStreamError:
    """What the client raises when a stream fails after text: a wrapper whose cause is the server's error."""
    try:
        try:
            raise exc.ProviderError("Anthropic Claude is not available.", request_id="req-1")
        except exc.ProviderError as cause:
            raise exc.IncompleteStreamError(
                "stream broke after 20 characters: Anthropic Claude is not available.", request_id="req-1"
            ) from cause
    except exc.IncompleteStreamError as error:
        return error


def test_server_message_is_the_servers_text_even_behind_the_stream_wrapper() -> None:
    wrapped = _broken_stream_error()

    assert "stream broke" in str(wrapped)  # what the client says
    assert server_message(wrapped) == "Anthropic Claude is not available."
    assert server_message(exc.IncompleteStreamError("classic stream ended without its done event")) == (
        "classic stream ended without its done event"
    )
    assert server_message(exc.ServerError("Internal Server Error", status_code=500, request_id="r")) == (
        "Internal Server Error"
    )
    assert server_message(ValueError("plain")) == "plain"


def test_error_texts_never_carry_url_credentials() -> None:
    error = exc.ConnectionError("connect failed to http://svc:s3cret@rhetor:8003/chat", request_id="r9")
    wrapped = exc.IncompleteStreamError("stream broke")
    wrapped.__cause__ = OSError("reset by https://tok3n@gw.example/rhetor/chat")

    assert error_text(error) == "connect failed to http://rhetor:8003/chat (request_id=r9)"
    assert server_message(error) == "connect failed to http://rhetor:8003/chat"
    assert server_message(wrapped) == "reset by https://gw.example/rhetor/chat"
    assert error_text(OSError()) == "OSError"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:pw@host:1/p", "http://host:1/p"),
        ("a http://u:p@ss@h/x b ws://t@h2 c", "a http://h/x b ws://h2 c"),
        ("https://gw.example/p@rt?next=mail@x", "https://gw.example/p@rt?next=mail@x"),
        ("write to ops@example.com", "write to ops@example.com"),
        ("HTTPS://A:B@Host", "HTTPS://Host"),
    ],
)
def test_redact_credentials(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected


# -- streams ----------------------------------------------------------------------------------------------------


async def _chunks(*items: StreamingChunk, then: BaseException | None = None) -> AsyncIterator[StreamingChunk]:
    for item in items:
        yield item
    if then is not None:
        raise then


async def test_error_item_then_client_failure_raises_the_clients_error() -> None:
    # The client ends a broken stream with an item carrying ``error``, then raises IncompleteStreamError.
    error = _broken_stream_error()
    stream = _chunks(
        StreamingChunk(chunk="partial "),
        StreamingChunk(chunk="", done=True, error="Anthropic Claude is not available."),
        then=error,
    )
    seen: list[str] = []

    with pytest.raises(exc.IncompleteStreamError) as raised:
        async for chunk in _common._text_chunks(stream):
            seen.append(chunk.chunk)

    assert seen == ["partial "]
    assert raised.value is error and server_message(raised.value) == "Anthropic Claude is not available."


async def test_error_item_is_never_a_normal_end() -> None:
    stream = _chunks(StreamingChunk(chunk="a"), StreamingChunk(chunk="", done=True, error="provider went away"))

    with pytest.raises(exc.ProviderError, match="provider went away"):
        _ = [chunk async for chunk in _common._text_chunks(stream)]


async def _generator(*items: StreamingChunk, then: BaseException | None = None) -> AsyncGenerator[StreamingChunk, None]:
    async for item in _chunks(*items, then=then):
        yield item


async def test_relay_stream_reports_stream_failures_and_propagates_callback_errors() -> None:
    delivered: list[str] = []
    failures: list[tuple[str, bool]] = []

    async def deliver(chunk: StreamingChunk) -> None:
        delivered.append(chunk.chunk)

    async def fail(error: BaseException, after_text: bool) -> None:
        failures.append((str(error), after_text))

    async def refuse(chunk: StreamingChunk) -> None:
        raise RuntimeError("callback broke")

    ended = await _common.relay_stream(_generator(StreamingChunk(chunk="a"), StreamingChunk(chunk="b")), deliver, fail)
    broke = await _common.relay_stream(
        _generator(StreamingChunk(chunk="c"), then=exc.ProviderError("late")), deliver, fail
    )
    refused = await _common.relay_stream(_generator(then=OSError("refused")), deliver, fail)
    with pytest.raises(RuntimeError, match="callback broke"):
        await _common.relay_stream(_generator(StreamingChunk(chunk="d")), refuse, fail)

    assert (ended, broke, refused) == (True, False, False)
    assert delivered == ["a", "b", "c"]
    assert failures == [("late", True), ("refused", False)]
