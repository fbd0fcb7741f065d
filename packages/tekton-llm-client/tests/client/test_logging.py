"""The library leaves log output to the application: with no logging configured, nothing reaches stderr."""

from __future__ import annotations

import subprocess
import sys

from tekton_llm_client.testing import closed_port

SCRIPT = """
import asyncio, sys
from tekton_llm_client import TektonLLMClient

async def main():
    async with TektonLLMClient("quiet", rhetor_url=sys.argv[1], max_retries=0, use_fallback=True) as client:
        answer = await client.generate_text("anyone?")
    print(answer.fallback, answer.provider)

asyncio.run(main())
"""


def test_a_fallback_warning_does_not_reach_stderr_of_an_app_without_logging_config() -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {"OLLAMA_URL": f"http://127.0.0.1:{closed_port()}", "PATH": "", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, dead], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "local-fallback"]
    assert result.stderr == ""
