"""The documented pattern (one module-level client per process) with the ``rhetor_server`` fixture, in real pytest
runs: the server's address is stable for the session, each test starts from a clean server, and an answer from the
client's fallback chain cannot pass unnoticed."""

from __future__ import annotations

import pytest

_INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

_SHARED_CLIENT = '''
import pytest
from tekton_llm_client import TektonLLMClient

_client = None


def client():
    """One client per process, created on first use from RHETOR_URL (fallback on, as by default)."""
    global _client
    if _client is None:
        _client = TektonLLMClient("demo")
    return _client
'''


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeini(_INI)
    pytester.makepyfile(test_component=source)
    for name in ("RHETOR_URL", "RHETOR_WS_URL", "OLLAMA_URL", "TEKTON_RHETOR_TEST_URL"):
        pytester._monkeypatch.delenv(name, raising=False)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_a_module_level_client_reaches_the_server_in_every_test(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _SHARED_CLIENT
        + '''

URLS = []


async def test_first(rhetor_server, monkeypatch):
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    rhetor_server.faults.fail_status = 503  # one 503, retried: left behind for the next test to forget
    answer = await client().generate_text("one")
    assert (answer.fallback, answer.content[:30]) == (False, 'I received your message: "one"')
    assert rhetor_server.attempts("/api/v1/chat") == 2
    URLS.append(rhetor_server.url)


async def test_second(rhetor_server, monkeypatch):
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    assert rhetor_server.url == URLS[0]
    assert rhetor_server.requests == [] and rhetor_server.faults.fail_status is None
    answer = await client().generate_text("two")
    assert (answer.fallback, answer.content[:30]) == (False, 'I received your message: "two"')
    assert rhetor_server.attempts("/api/v1/chat") == 1


@pytest.mark.rhetor_server(chunk_delay=0.01, ping_interval=0.5)
async def test_third_with_options(rhetor_server):
    assert rhetor_server.url == URLS[0]
    assert (rhetor_server.faults.chunk_delay, rhetor_server.faults.ping_interval) == (0.01, 0.5)
    chunks = [c async for c in client().generate_text("three", streaming=True)]
    assert "".join(c.chunk for c in chunks).startswith('I received your message: "three"')
    assert not any(c.fallback for c in chunks)
''',
    )
    result.assert_outcomes(passed=3)


def test_a_profile_change_keeps_the_address(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        '''
import httpx
import pytest

SEEN = {}


@pytest.mark.parametrize("rhetor_server", ["v1", "classic", "adapter", "v1"], indirect=True)
def test_profiles(rhetor_server):
    SEEN.setdefault("url", rhetor_server.url)
    assert rhetor_server.url == SEEN["url"]
    health = httpx.get(rhetor_server.url + "/health").json()
    expected = {"v1": "rhetor", "classic": None, "adapter": None}[rhetor_server.profile]
    assert health.get("component") == expected
    if rhetor_server.profile == "adapter":
        SEEN.setdefault("ws_port", rhetor_server.ws_port)
        assert rhetor_server.ws_port == SEEN["ws_port"] != rhetor_server.port


@pytest.mark.rhetor_server(profile="classic")
def test_stopped_by_a_test(rhetor_server):
    rhetor_server.stop()


def test_started_again_at_the_same_address(rhetor_server):
    assert rhetor_server.running and rhetor_server.url == SEEN["url"]
    assert httpx.get(rhetor_server.url + "/health").status_code == 200
''',
    )
    result.assert_outcomes(passed=6)


def test_a_fallback_answer_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _SHARED_CLIENT
        + '''
from tekton_llm_client.testing import closed_port


async def test_client_points_elsewhere(rhetor_server, monkeypatch):
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("RHETOR_URL", f"http://127.0.0.1:{closed_port()}")  # not rhetor_server.url
    monkeypatch.setenv("RHETOR_MAX_RETRIES", "0")
    answer = await client().generate_text("hello")
    assert answer.content  # a test that only checks "some text came back" would pass on fallback text


@pytest.mark.rhetor_server(allow_fallback=True)
async def test_fallback_on_purpose(rhetor_server, monkeypatch):
    answer = await client().generate_text("hello")
    assert answer.fallback is True
''',
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_client_points_elsewhere*",
            "*the client answered from its fallback chain instead of the Rhetor test server*",
            "*allow_fallback=True*",
        ]
    )


def test_the_guard_hears_fallback_notices_whatever_logging_says(pytester: pytest.Pytester) -> None:
    """Components configure logging (dictConfig disables existing loggers; caplog can raise the level): the guard
    must not depend on it. Here the notice is sent directly, as the request pipeline sends it."""
    result = _run(
        pytester,
        '''
import logging
import logging.config

from tekton_llm_client._events import notify_fallback


async def test_levels_raised(rhetor_server, caplog):
    caplog.set_level(logging.ERROR, logger="tekton_llm_client")
    notify_fallback("demo", "Rhetor unavailable (connection refused)", "req-1")


async def test_logging_reconfigured(rhetor_server):
    logging.config.dictConfig({"version": 1, "root": {"level": "INFO"}})
    notify_fallback("demo", "Rhetor unavailable (connection refused)", "req-2")


async def test_nothing_after_the_test(rhetor_server):
    pass


def test_not_listening_outside_rhetor_server_tests():
    notify_fallback("demo", "nobody listens", None)
''',
    )
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_levels_raised*",
            "*component 'demo' answered from its fallback chain: Rhetor unavailable (connection refused)*",
            "*ERROR at teardown of test_logging_reconfigured*",
        ]
    )


def test_a_real_fallback_answer_is_caught_with_logging_silenced(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        '''
import logging

from tekton_llm_client import TektonLLMClient
from tekton_llm_client.testing import closed_port


async def test_quiet(rhetor_server, monkeypatch, caplog):
    caplog.set_level(logging.ERROR, logger="tekton_llm_client")
    monkeypatch.setenv("OLLAMA_URL", f"http://127.0.0.1:{closed_port()}")
    async with TektonLLMClient("demo", rhetor_url=f"http://127.0.0.1:{closed_port()}", max_retries=0) as client:
        assert (await client.generate_text("hello")).content
''',
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*component 'demo' answered from its fallback chain*"])


def test_a_profile_switch_under_a_module_level_client_is_named(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _SHARED_CLIENT
        + '''
import os

os.environ["RHETOR_TIMEOUT"] = "1"  # the stale client waits for a frame that never comes: not for 30 s here
os.environ["RHETOR_MAX_RETRIES"] = "0"


async def test_v1(rhetor_server, monkeypatch):
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    assert not (await client().generate_text("one")).fallback


@pytest.mark.rhetor_server(profile="classic")
async def test_classic(rhetor_server, monkeypatch):
    monkeypatch.setenv("RHETOR_URL", rhetor_server.url)
    await client().generate_text("two")
''',
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_classic*",
            "*switched from profile 'v1' to 'classic' for this test*module-level client*Reset such clients*",
        ]
    )
    assert "Is RHETOR_URL" not in result.stdout.str()


def test_the_fixtures_say_which_extra_is_missing(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        'import sys\nsys.modules.update(dict.fromkeys(["fastapi", "uvicorn", "starlette", "sse_starlette"]))\n'
    )
    result = _run(
        pytester, "def test_rhetor(rhetor_server):\n    pass\n\n\ndef test_ollama(ollama_server):\n    pass\n"
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*need the client's 'testing' extra (*is not installed): pip install*"] * 2)
    assert "ModuleNotFoundError" not in result.stdout.str()
