"""Running the rewrite over the prefiltered candidates, optionally in a process pool.

Reading and the byte search are I/O-bound and cheap, so they stay in one process; parsing is CPU-bound,
so candidates (and only candidates) go to worker processes with ``-j``. Each file is handled by
:func:`rewrite_file`, which turns every failure into a reported outcome instead of an exception.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._atomic import atomic_write
from ._diff import unified_diff
from ._mapping import MigrationMap
from ._modules import package_name
from ._progress import Progress
from ._records import FileOutcome
from ._rewrite import RewriteError, rewrite_source
from ._scan import Candidate
from ._source import SourceDecodeError, decode_source

Mode = Literal["write", "check", "diff"]


@dataclass(frozen=True)
class RewriteOptions:
    table: MigrationMap
    mode: Mode = "write"
    source_root: Path | None = None


def rewrite_file(path: str, data: bytes, options: RewriteOptions) -> FileOutcome:
    """Rewrite one file's ``data`` (already read from ``path``) and, in write mode, store it."""
    try:
        return _rewrite_file(path, data, options)
    except Exception as exc:  # a bug must cost one file, never the run or the file's content
        return FileOutcome(path, "failed", error=f"internal error: {type(exc).__name__}: {exc}")


def _rewrite_file(path: str, data: bytes, options: RewriteOptions) -> FileOutcome:
    try:
        source = decode_source(data)
        package = package_name(Path(path), options.source_root)
        result = rewrite_source(source.text, options.table, package=package)
    except (SourceDecodeError, RewriteError) as exc:
        return FileOutcome(path, "failed", error=str(exc))
    if not result.changed:
        return FileOutcome(path, "unchanged", result.changes, result.unmoved)
    try:
        new_data = source.encode(result.new_source)
    except UnicodeEncodeError as exc:
        return FileOutcome(path, "failed", error=f"cannot encode the result as {source.encoding}: {exc.reason}")
    diff = None
    if options.mode == "write":
        try:
            atomic_write(Path(os.path.realpath(path)), new_data, expected=data)
        except OSError as exc:
            return FileOutcome(path, "failed", result.changes, result.unmoved, error=f"cannot write: {exc}")
    elif options.mode == "diff":
        diff = unified_diff(path, result.source, result.new_source)
    return FileOutcome(path, "changed", result.changes, result.unmoved, diff=diff)


def rewrite_candidates(
    candidates: Sequence[Candidate], options: RewriteOptions, *, jobs: int, bar: Progress
) -> list[FileOutcome]:
    """Outcomes in the order of ``candidates``, computed in ``jobs`` processes when that pays off."""
    bar.phase("rewriting", len(candidates))
    if jobs <= 1 or len(candidates) <= 1:
        outcomes = []
        for candidate in candidates:
            outcomes.append(rewrite_file(candidate.path, candidate.data, options))
            bar.advance()
        return outcomes
    results: dict[int, FileOutcome] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(candidates))) as pool:
        futures = {
            pool.submit(rewrite_file, candidate.path, candidate.data, options): index
            for index, candidate in enumerate(candidates)
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                results[index] = future.result()
            except Exception as exc:  # a worker died (killed, out of memory): that file failed, not the run
                results[index] = FileOutcome(candidates[index].path, "failed", error=f"worker failed: {exc!r}")
            bar.advance()
    return [results[index] for index in range(len(candidates))]
