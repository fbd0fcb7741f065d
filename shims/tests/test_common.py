"""Shared shim behaviour: failure classification, URL precedence, deprecation warning, import hygiene, helpers."""

from __future__ import annotations

import asyncio
import builtins
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_shims import _common
from tekton_llm_shims._common import AwaitableDict, Failure, classify, resolve_rhetor_url, trim_context

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
