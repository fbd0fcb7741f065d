"""A handle on a Rhetor test server running in another process (started with ``python -m tekton_llm_client.testing``).

The ``rhetor_server`` fixture yields one when ``TEKTON_RHETOR_TEST_URL`` names such a server, so a whole test run
(for example the migration demo) talks to one live server. Faults and recordings go through the control API.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from .recording import RecordedFrame, RecordedRequest

__all__ = ["RemoteFaults", "RemoteRhetorServer"]


def _call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


class RemoteFaults:
    """Setting an attribute patches the remote server's faults (``POST /_testing/faults``)."""

    def __init__(self, base: str) -> None:
        object.__setattr__(self, "_base", base)

    def __getattr__(self, name: str) -> Any:
        faults = _call(f"{self._base}/_testing/faults")
        if name not in faults:
            raise AttributeError(name)
        return faults[name]

    def __setattr__(self, name: str, value: Any) -> None:
        _call(f"{self._base}/_testing/faults", "POST", {name: sorted(value) if isinstance(value, set) else value})


class RemoteRhetorServer:
    """The parts of ``RhetorTestServer`` a test needs, for a server in another process."""

    def __init__(self, url: str, ws_url: str | None = None, profile: str = "remote") -> None:
        self.url = url.rstrip("/")
        self.ws_url = ws_url or ("ws" + self.url[4:] + "/ws" if self.url.startswith("http") else self.url)
        self.profile = profile
        self.faults = RemoteFaults(self.url)

    def __repr__(self) -> str:
        return f"RemoteRhetorServer(url={self.url!r})"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The same records as ``RhetorTestServer.requests``, fetched from the control API."""
        return [RecordedRequest(**r) for r in _call(f"{self.url}/_testing/requests")["requests"]]

    @property
    def ws_frames(self) -> list[RecordedFrame]:
        return [RecordedFrame(**f) for f in _call(f"{self.url}/_testing/requests")["ws_frames"]]

    def attempts(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def reset(self) -> None:
        _call(f"{self.url}/_testing/reset", "POST", {})
