"""Reading files and keeping only those the prefilter says could reference a legacy module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._prefilter import Prefilter
from ._progress import Progress


@dataclass(frozen=True)
class Candidate:
    """A file worth parsing, with the exact bytes that were read (later writes are checked against them)."""

    path: str
    data: bytes


@dataclass(frozen=True)
class ReadFailure:
    path: str
    error: str


def read_candidates(
    files: Sequence[str], prefilter: Prefilter, bar: Progress
) -> tuple[list[Candidate], list[ReadFailure]]:
    """Files whose bytes pass the prefilter, and files that could not be read at all."""
    candidates: list[Candidate] = []
    failures: list[ReadFailure] = []
    bar.phase("scanning", len(files))
    for path in files:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            failures.append(ReadFailure(path, f"cannot read: {exc.strerror or exc}"))
        else:
            if prefilter.matches(data):
                candidates.append(Candidate(path, data))
        bar.advance()
    return candidates, failures
