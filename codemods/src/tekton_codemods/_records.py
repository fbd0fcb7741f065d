"""What a rewrite says about a file: its outcome, the edits made and the references left alone.

Both are plain values so they cross the ``-j`` process boundary and go straight into the JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["changed", "unchanged", "failed", "skipped"]


@dataclass(frozen=True)
class Change:
    """One rewritten construct. Lines are 1-based and refer to the original file."""

    line: int
    end_line: int
    kind: str
    old: str
    new: str


@dataclass(frozen=True)
class Unmoved:
    """A reference that stays on the legacy module, and why (shown to the owner, listed in the report)."""

    line: int
    module: str
    name: str
    reason: str


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``changed`` in check/diff mode means "would change"."""

    path: str
    status: Status
    changes: tuple[Change, ...] = ()
    unmoved: tuple[Unmoved, ...] = ()
    error: str | None = None
    diff: str | None = None
