"""The command line (as the JavaScript tests use it) and the pytest plugin's fixtures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from tekton_llm_client.testing import OllamaTestServer, RhetorTestServer


def _launch(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tekton_llm_client.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise AssertionError(process.communicate()[1])
    return process, json.loads(line)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_one_json_line_serves_and_exits_cleanly(stop: signal.Signals) -> None:
    process, info = _launch("--profile", "classic", "--chunk-delay", "0", "--ping-interval", "0.5")
    try:
        assert info["profile"] == "classic" and info["url"].startswith("http://127.0.0.1:")
        assert info["ws_url"] == info["url"].replace("http://", "ws://") + "/ws"
        assert "providers" in httpx.get(info["url"] + "/health").json()
        httpx.post(info["url"] + "/_testing/faults", json={"not_initialized": True})
        assert httpx.post(info["url"] + "/message", json={"message": "m"}).status_code == 503
    finally:
        process.send_signal(stop)
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0 and out == ""


def test_cli_dialect_alias_adapter_and_ollama() -> None:
    process, info = _launch("--dialect", "adapter")
    try:
        assert info["profile"] == "adapter" and info["ws_url"] != info["url"].replace("http", "ws") + "/ws"
    finally:
        process.terminate()
        process.communicate(timeout=15)
    process, info = _launch("--profile", "ollama")
    try:
        assert info == {"url": info["url"], "ws_url": None, "profile": "ollama"}
        assert httpx.get(info["url"] + "/api/tags").status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)
    assert process.returncode == 0


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, tekton_llm_client.testing.plugin\n"
        "heavy = {'fastapi', 'uvicorn', 'starlette', 'sse_starlette'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fixture_defaults(rhetor_server: RhetorTestServer) -> None:
    assert rhetor_server.profile == "v1" and rhetor_server.faults.chunk_delay == 0.0 and rhetor_server.running


@pytest.mark.rhetor_server(profile="classic", ping_interval=0.25)
def test_fixture_marker_options(rhetor_server: RhetorTestServer) -> None:
    assert (rhetor_server.profile, rhetor_server.faults.ping_interval) == ("classic", 0.25)


@pytest.mark.parametrize("rhetor_server", ["v1-as-shipped", {"profile": "adapter", "chunk_delay": 0.01}], indirect=True)
def test_fixture_indirect_parametrization(rhetor_server: RhetorTestServer) -> None:
    assert rhetor_server.profile in ("v1-as-shipped", "adapter")
    if rhetor_server.profile == "adapter":
        assert rhetor_server.faults.chunk_delay == 0.01


def test_ollama_fixture(ollama_server: OllamaTestServer) -> None:
    assert ollama_server.profile == "ollama" and ollama_server.ws_url is None
    assert httpx.get(ollama_server.url + "/api/version").status_code == 200


def test_marker_is_registered(pytestconfig: pytest.Config) -> None:
    markers = pytestconfig.getini("markers")
    assert any(m.startswith("rhetor_server(") for m in markers)
    assert any(m.startswith("ollama_server(") for m in markers)
