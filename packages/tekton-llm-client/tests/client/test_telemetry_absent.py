"""Without OpenTelemetry the client works as before and emits nothing (issue 14 §1).

Two ways: in this process where the package is really absent (``no_otel``: the plain nox sessions, whose FastAPI
predates its own OpenTelemetry dependency), and — in any environment — in a fresh interpreter in which
``opentelemetry`` cannot be imported (``sys.modules`` blocks it, as if it were not installed), the Rhetor test
server running here, on a real socket, reporting what reached it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from tekton_llm_client import _telemetry
from tekton_llm_client.telemetry import shim_call

_CLIENT = textwrap.dedent(
    """
    import sys
    sys.modules["opentelemetry"] = None  # as if not installed: every ``import opentelemetry...`` fails

    import asyncio, json
    from tekton_llm_client import TektonLLMClient, _telemetry
    from tekton_llm_client.telemetry import CAPTURE_CONTENT_ENV, shim_call

    async def main(url):
        async with TektonLLMClient("hermes", rhetor_url=url, use_fallback=False) as client:
            with shim_call("hermes", "LLMAdapter", "analyze_message"):
                with shim_call("hermes", "LLMAdapter", "generate_text"):
                    answer = await client.generate_text("plain")
            streamed = await client.generate_text("streamed", streaming=True).text()
            stream = client.generate_text("abandoned " * 20, streaming=True)
            await anext(stream)
            await stream.aclose()
        loaded = sorted(name for name, module in sys.modules.items()
                        if name.startswith("opentelemetry") and module is not None)
        print(json.dumps({"answer": answer.content, "streamed": streamed, "api": _telemetry.state.api,
                          "active": _telemetry.state.active is not None, "loaded": loaded}))

    asyncio.run(main(sys.argv[1]))
    """
)


def test_without_opentelemetry_requests_work_and_nothing_is_emitted_or_sent(make_server: Any) -> None:
    server = make_server("v1")
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", _CLIENT, server.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    seen = json.loads(done.stdout)
    assert seen["answer"].startswith('I received your message: "plain"')
    assert seen["streamed"].startswith('I received your message: "streamed"')
    assert (seen["api"], seen["active"], seen["loaded"]) == (False, False, [])
    generation = [r for r in server.requests if r.path.startswith("/api/v1/chat")]
    assert len(generation) == 3
    assert not [r for r in server.requests if "traceparent" in r.headers or "tracestate" in r.headers]


def test_the_public_module_imports_without_opentelemetry() -> None:
    script = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "import tekton_llm_client.telemetry as t\n"
        "with t.shim_call('telos', 'LLMAdapter', 'analyze_requirements'): pass\n"
        "print(t.CAPTURE_CONTENT_ENV, t.INSTRUMENTATION_NAME)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "tekton_llm_client"]


@pytest.mark.no_otel
async def test_in_a_process_without_opentelemetry_nothing_is_imported_emitted_or_sent(
    make_server: Any, make_client: Any
) -> None:
    assert importlib.util.find_spec("opentelemetry") is None  # the environment this marker promises
    server = make_server("v1")
    client = make_client(server.url)
    with shim_call("hermes", "LLMAdapter", "generate_text") as inside:
        answer = await client.generate_text("plain")
    assert inside is None
    assert answer.content.startswith('I received your message: "plain"')
    assert (await client.generate_text("streamed", streaming=True).text()).startswith("I received")
    assert (_telemetry.state.api, _telemetry.state.active) == (False, None)
    assert not [name for name in sys.modules if name.startswith("opentelemetry")]
    assert len([r for r in server.requests if r.path.startswith("/api/v1/chat")]) == 2
    assert not [r for r in server.requests if "traceparent" in r.headers]
