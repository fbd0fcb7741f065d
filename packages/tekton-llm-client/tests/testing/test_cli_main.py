"""``python -m tekton_llm_client.testing`` on a wrong argument: a usage error and exit 2, never a traceback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tekton_llm_client.testing.__main__ import main


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tekton_llm_client.testing", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("usage: python -m tekton_llm_client.testing")
    assert result.stderr.rstrip().splitlines()[-1] == f"python -m tekton_llm_client.testing: error: {message}"


@contextlib.contextmanager
def _occupied_port() -> Iterator[int]:
    """A port another socket is listening on, for as long as the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_port_out_of_range_is_a_usage_error() -> None:
    _assert_usage_error(_run("--port", "99999"), "argument --port: port must be between 0 and 65535, got 99999")


def test_port_in_use_is_a_usage_error() -> None:
    with _occupied_port() as port:
        result = _run("--port", str(port))
    _assert_usage_error(result, f"cannot listen on 127.0.0.1:{port}: Address already in use")


def test_adapter_websocket_port_in_use_is_a_usage_error() -> None:
    with _occupied_port() as port:
        result = _run("--profile", "adapter", "--port", "0", "--ws-port", str(port))
    _assert_usage_error(result, f"cannot listen on 127.0.0.1:0 (WebSocket port {port}): Address already in use")


def test_bad_rhetor_port_environment_is_a_usage_error() -> None:
    _assert_usage_error(_run(env={"RHETOR_PORT": "eighty"}), "argument --port: not a port number: 'eighty'")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "-1"], "argument --port: port must be between 0 and 65535, got -1"),
        (["--ws-port", "http"], "argument --ws-port: not a port number: 'http'"),
        (["--chunk-delay", "-0.5"], "argument --chunk-delay: must be >= 0 seconds, got -0.5"),
        (["--ping-interval", "nan"], "argument --ping-interval: must be >= 0 seconds, got nan"),
        (["--ping-interval", "soon"], "argument --ping-interval: not a number of seconds: 'soon'"),
        (["--log-level", "loud"], "argument --log-level: invalid choice: 'LOUD'"),
    ],
)
def test_invalid_values_exit_2_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err.splitlines()[-1]


def test_without_the_testing_extra_it_says_which_extra_to_install() -> None:
    # The web stack of the extra made unimportable, as in an environment with the bare client.
    blocked = "import sys; sys.modules.update(dict.fromkeys(['fastapi', 'uvicorn', 'starlette', 'sse_starlette']))"
    run = "import runpy; runpy.run_module('tekton_llm_client.testing', run_name='__main__')"
    result = subprocess.run(
        [sys.executable, "-c", f"{blocked}; {run}", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("python -m tekton_llm_client.testing needs the 'testing' extra (")
    assert result.stderr.rstrip().endswith("is not installed): pip install 'tekton-llm-client[testing]'")
