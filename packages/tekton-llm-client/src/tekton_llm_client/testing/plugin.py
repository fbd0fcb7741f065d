"""pytest plugin: ``rhetor_server`` and ``ollama_server`` fixtures (registered through the ``pytest11`` entry point).

Nothing heavy is imported here: pytest loads this module in every project that has the client installed, with
or without the ``testing`` extra, so the servers are imported inside the fixtures only.

``rhetor_server`` is one server per test session whose address never changes: each test gets it reconfigured
to the profile it asks for, with faults, recordings and stored contexts reset. Components keep one client per
process (a module-level client created on first use), and such a client, created in one test, must still reach
the server in the next one — with a server per test it pointed at a closed port and, with fallback on, answered
"LLM service unavailable" as if nothing were wrong. Client-side rate limits (shared per component for the whole
process) are reset for each test (``tekton_llm_client.testing.reset_rate_limiters``). As a second guard, a test
using ``rhetor_server`` in which the client answers from its fallback chain fails at teardown, unless the test
says it means to (``@pytest.mark.rhetor_server(allow_fallback=True)``). The guard listens to the client's
fallback notices (``tekton_llm_client._events``), which do not depend on how the application configured logging.

Choosing options::

    @pytest.mark.rhetor_server(profile="classic", chunk_delay=0.0, ping_interval=0.1)
    def test_classic(rhetor_server): ...

    @pytest.mark.parametrize("rhetor_server", ["v1", "classic"], indirect=True)
    def test_both(rhetor_server): ...

Asking for ``host``, ``port`` or ``ws_port`` gives the test a server of its own at that address instead.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from .._events import FallbackEvent, fallback_listener

if TYPE_CHECKING:
    from .ollama import OllamaTestServer
    from .server import RhetorTestServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rhetor_server(profile='v1', **options): options of the rhetor_server fixture "
        "(profile, chunk_delay, ping_interval, allow_fallback; host, port, ws_port for a server of its own)",
    )
    config.addinivalue_line(
        "markers", "ollama_server(**options): options of the ollama_server fixture (chunk_delay, models, host, port)"
    )


def _options(request: pytest.FixtureRequest, marker: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Defaults, then the closest marker, then an indirect parameter (a profile name or a dict of options)."""
    options = dict(defaults)
    mark = request.node.get_closest_marker(marker)
    if mark is not None:
        if mark.args:
            options["profile"] = mark.args[0]
        options.update(mark.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        options["profile"] = param
    elif isinstance(param, dict):
        options.update(param)
    return options


_OWN_ADDRESS = ("host", "port", "ws_port")


_EXTRA_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "sse_starlette", "yaml"})


def _servers(module: str) -> ModuleType:
    """``testing.server``/``testing.ollama``, or a clear failure when the ``testing`` extra is not installed."""
    try:
        return importlib.import_module(f".{module}", __package__)
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing not in _EXTRA_MODULES:
            raise
        pytest.fail(
            f"the Rhetor/Ollama test servers need the client's 'testing' extra ({missing} is not installed): "
            "pip install 'tekton-llm-client[testing]'",
            pytrace=False,
        )


class _SessionRhetor:
    """The session's one Rhetor test server, started on first use and reconfigured for every test."""

    def __init__(self) -> None:
        self.server: RhetorTestServer | None = None
        self.switched: tuple[str, str] | None = None  # (from, to) when this test's profile differs from the last

    def serve(self, options: dict[str, Any]) -> RhetorTestServer:
        if self.server is None:
            self.server = _servers("server").RhetorTestServer(**options)
            self.switched = None
        else:
            before = self.server.profile
            self.server.reconfigure(**options)
            self.switched = (before, self.server.profile) if self.server.profile != before else None
        assert self.server is not None
        self.server.start()  # also after a test stopped it: same port(s) again
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


class _FallbackWatch:
    """The fallback answers of one test, from the client's notices (``tekton_llm_client._events``): not from its
    WARNING, which the application's logging configuration can silence."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, event: FallbackEvent) -> None:
        self.seen.append(f"component {event.component!r} answered from its fallback chain: {event.reason}")


@pytest.fixture(scope="session")
def _rhetor_session() -> Iterator[_SessionRhetor]:
    holder = _SessionRhetor()
    yield holder
    holder.close()


@pytest.fixture
def rhetor_server(request: pytest.FixtureRequest, _rhetor_session: _SessionRhetor) -> Iterator[RhetorTestServer]:
    """The running Rhetor test server (profile ``v1``, no chunk delay unless the test asks), reset for this test.

    Its address is the same for the whole session. With ``TEKTON_RHETOR_TEST_URL`` set, tests that ask for no
    particular profile share that (already running) server instead, reset before each test.
    """
    from .._ratelimit import reset_rate_limiters

    reset_rate_limiters()  # limits, admissions and a 429's pause are process-wide: none leaks from the last test
    options = _options(request, "rhetor_server", {"profile": "v1", "chunk_delay": 0.0})
    allow_fallback = bool(options.pop("allow_fallback", False))
    watch = _FallbackWatch()
    with fallback_listener(watch):
        yield from _serve(request, _rhetor_session, options)
    if watch.seen and not allow_fallback:
        pytest.fail(_fallback_message(watch.seen[0], _rhetor_session.switched), pytrace=False)


def _fallback_message(seen: str, switched: tuple[str, str] | None) -> str:
    """Why the guard failed the test, and the likeliest cause."""
    message = f"the client answered from its fallback chain instead of the Rhetor test server: {seen}\n"
    if switched is not None:
        return message + (
            f"The session's rhetor_server switched from profile {switched[0]!r} to {switched[1]!r} for this test "
            "(same address, restarted): a client created in an earlier test — a module-level client — still "
            f"speaks the {switched[0]!r} generation it detected there. Reset such clients after every test with a "
            "yield fixture that closes them (MIGRATION.md §9), or give the test a client of its own."
        )
    return message + (
        "Is RHETOR_URL (or rhetor_url=) set to rhetor_server.url, and was no client built before it was? A test "
        "that means to use the fallback says so with @pytest.mark.rhetor_server(allow_fallback=True)."
    )


def _customised(request: pytest.FixtureRequest) -> bool:
    """Whether the test asks for a particular server (anything but ``allow_fallback``)."""
    mark = request.node.get_closest_marker("rhetor_server")
    marked = mark is not None and bool(mark.args or set(mark.kwargs) - {"allow_fallback"})
    return marked or hasattr(request, "param")


def _serve(
    request: pytest.FixtureRequest, session: _SessionRhetor, options: dict[str, Any]
) -> Iterator[RhetorTestServer]:
    shared = os.environ.get("TEKTON_RHETOR_TEST_URL")
    if shared and not _customised(request):
        # One live server for the whole run (the migration demo starts it); each test starts from a clean state.
        from .remote import RemoteRhetorServer

        remote = RemoteRhetorServer(shared, os.environ.get("TEKTON_RHETOR_TEST_WS_URL"))
        remote.reset()
        yield remote  # type: ignore[misc]
        return
    if any(name in options for name in _OWN_ADDRESS):
        session.switched = None
        with _servers("server").RhetorTestServer(**options) as server:
            yield server
        return
    yield session.serve(options)


@pytest.fixture
def ollama_server(request: pytest.FixtureRequest) -> Iterator[OllamaTestServer]:
    """A running fake Ollama, stopped afterwards."""
    options = _options(request, "ollama_server", {})
    options.pop("profile", None)
    with _servers("ollama").OllamaTestServer(**options) as server:
        yield server
