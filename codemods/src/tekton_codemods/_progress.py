"""A progress bar for people at a terminal, and silence for CI logs and pipes.

rich is imported only when a bar is actually shown: on a large tree with nothing to rewrite, interpreter
start-up and imports are most of the run time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class Progress(Protocol):
    def phase(self, description: str, total: int) -> None:
        """Start a new stage of work with a known number of steps."""

    def advance(self, steps: int = 1) -> None:
        """Record finished steps of the current stage."""


class _Silent:
    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


class _RichBar:
    _REFRESH_SECONDS = 0.1

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._task: Any = None
        self._last = 0.0

    def phase(self, description: str, total: int) -> None:
        if self._task is None:
            self._task = self._bar.add_task(description, total=total)
        else:
            self._bar.reset(self._task, total=total, description=description)
        self._bar.refresh()

    def advance(self, steps: int = 1) -> None:
        self._bar.advance(self._task, steps)
        now = time.monotonic()
        if now - self._last >= self._REFRESH_SECONDS:
            self._last = now
            self._bar.refresh()


def wants_bar(stream: Any = None) -> bool:
    """A bar only on an interactive terminal that can draw one."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


@contextmanager
def progress(enabled: bool) -> Iterator[Progress]:
    """Yield a bar on stderr when ``enabled``, otherwise a no-op with the same interface."""
    if not enabled:
        yield _Silent()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    # auto_refresh=False: no background thread, so the -j process pool can fork safely.
    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        auto_refresh=False,
    )
    with bar:
        yield _RichBar(bar)
