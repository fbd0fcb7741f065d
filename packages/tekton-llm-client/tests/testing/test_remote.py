"""The shared-server handle (what ``rhetor_server`` yields when ``TEKTON_RHETOR_TEST_URL`` is set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_client.testing.recording import RecordedRequest
from tekton_llm_client.testing.remote import RemoteRhetorServer

BODY = {"messages": [{"role": "user", "content": "hello remote"}]}


def test_remote_handle_records_sets_faults_and_resets() -> None:
    with RhetorTestServer("v1", chunk_delay=0.0) as server:
        remote = RemoteRhetorServer(server.url)
        assert remote.ws_url == server.ws_url
        httpx.post(server.url + "/api/v1/chat", json=BODY).raise_for_status()
        assert isinstance(remote.requests[-1], RecordedRequest)
        assert remote.requests[-1].body == BODY and remote.attempts("/api/v1/chat") == 1
        remote.faults.fail_status = 503
        assert remote.faults.fail_status == 503 and server.faults.fail_status == 503
        assert httpx.post(server.url + "/api/v1/chat", json=BODY).status_code == 503
        remote.reset()
        assert remote.requests == [] and server.faults.fail_status is None
        with pytest.raises(AttributeError):
            _ = remote.faults.no_such_fault


def test_plugin_uses_the_shared_server(tmp_path: Path) -> None:
    with RhetorTestServer("classic", chunk_delay=0.0) as server:
        test_file = tmp_path / "test_shared.py"
        test_file.write_text(
            "def test_shared(rhetor_server):\n"
            f"    assert rhetor_server.url == {server.url!r}\n"
            "    assert rhetor_server.requests == []\n"
        )
        env = {**os.environ, "TEKTON_RHETOR_TEST_URL": server.url}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 passed" in result.stdout
