"""pytest plugin: ``rhetor_server`` and ``ollama_server`` fixtures (registered through the ``pytest11`` entry point).

Nothing heavy is imported here: pytest loads this module in every project that has the client installed, with
or without the ``testing`` extra, so the servers are imported inside the fixtures only.

Choosing options::

    @pytest.mark.rhetor_server(profile="classic", chunk_delay=0.0, ping_interval=0.1)
    def test_classic(rhetor_server): ...

    @pytest.mark.parametrize("rhetor_server", ["v1", "classic"], indirect=True)
    def test_both(rhetor_server): ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .ollama import OllamaTestServer
    from .server import RhetorTestServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rhetor_server(profile='v1', **options): options of the rhetor_server fixture "
        "(profile, chunk_delay, ping_interval, host, port, ws_port)",
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


@pytest.fixture
def rhetor_server(request: pytest.FixtureRequest) -> Iterator[RhetorTestServer]:
    """A running Rhetor test server (profile ``v1``, no chunk delay unless the test asks), stopped afterwards.

    With ``TEKTON_RHETOR_TEST_URL`` set, tests that ask for no particular profile share that (already running)
    server instead, reset before each test.
    """
    shared = os.environ.get("TEKTON_RHETOR_TEST_URL")
    customised = request.node.get_closest_marker("rhetor_server") is not None or hasattr(request, "param")
    if shared and not customised:
        # One live server for the whole run (the migration demo starts it); each test starts from a clean state.
        from .remote import RemoteRhetorServer

        remote = RemoteRhetorServer(shared, os.environ.get("TEKTON_RHETOR_TEST_WS_URL"))
        remote.reset()
        yield remote  # type: ignore[misc]
        return
    from .server import RhetorTestServer

    options = _options(request, "rhetor_server", {"profile": "v1", "chunk_delay": 0.0})
    with RhetorTestServer(**options) as server:
        yield server


@pytest.fixture
def ollama_server(request: pytest.FixtureRequest) -> Iterator[OllamaTestServer]:
    """A running fake Ollama, stopped afterwards."""
    from .ollama import OllamaTestServer

    options = _options(request, "ollama_server", {})
    options.pop("profile", None)
    with OllamaTestServer(**options) as server:
        yield server
