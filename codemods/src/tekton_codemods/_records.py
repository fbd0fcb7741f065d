"""What a rewrite says about a file: its outcome, the edits made and the references left alone.

Both are plain values so they cross the ``-j`` process boundary and go straight into the JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["changed", "unchanged", "failed", "skipped"]


@dataclass(frozen=True)
class Change:
    """One rewritten construct. Lines are 1-based and refer to the original file. ``modules``: the legacy
    modules it moves off (for the run's cross-file checks; not in the report)."""

    line: int
    end_line: int
    kind: str
    old: str
    new: str
    modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unmoved:
    """A reference that stays on the legacy module, and why (shown to the owner, listed in the report).
    ``site`` says what stays: an ``import`` (the file still imports the legacy module), a dotted ``string``,
    or a ``use`` through a package."""

    line: int
    module: str
    name: str
    reason: str
    site: Literal["import", "string", "use"] = "import"


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``changed`` in check/diff mode means "would change".

    Its ``unmoved`` records at an ``import`` site mean the file still imports the legacy module: the run
    compares them across files with the dotted strings other files moved (a ``mock.patch`` on the shim does
    not reach code that stays on the legacy module).
    """

    path: str
    status: Status
    changes: tuple[Change, ...] = ()
    unmoved: tuple[Unmoved, ...] = ()
    error: str | None = None
    diff: str | None = None
