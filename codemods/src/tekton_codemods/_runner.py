"""Running the rewrite over the prefiltered candidates, optionally in a process pool.

Three sieves, cheapest first: the byte search (in ``_scan``) keeps files that spell a legacy segment; the
stdlib pre-pass (:mod:`._sketch`) settles every candidate whose imports and strings cannot reach a legacy
module; only what remains is parsed by libcst, in worker processes with ``-j`` when more than one file
remains. Each file is handled by :func:`rewrite_file`, which turns every failure into a reported outcome
instead of an exception.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ._mapping import MigrationMap
from ._modules import package_name
from ._progress import Progress
from ._records import FileOutcome
from ._scan import Candidate
from ._sketch import sketch
from ._source import SourceDecodeError, decode_source

Mode = Literal["write", "check", "diff"]


@dataclass(frozen=True)
class RewriteOptions:
    table: MigrationMap
    mode: Mode = "write"
    source_root: Path | None = None


def settled(path: str, data: bytes, options: RewriteOptions) -> FileOutcome | None:
    """The outcome of a candidate the stdlib pre-pass can decide on its own, else ``None`` (needs libcst)."""
    try:
        text = decode_source(data).text
    except SourceDecodeError as exc:
        return FileOutcome(path, "failed", error=str(exc))
    package = package_name(Path(path), options.source_root)
    if sketch(text, options.table, package).rewrite:
        return None
    return FileOutcome(path, "unchanged")


def rewrite_file(path: str, data: bytes, options: RewriteOptions) -> FileOutcome:
    """Rewrite one file's ``data`` (already read from ``path``) and, in write mode, store it."""
    try:
        return _rewrite_file(path, data, options)
    except Exception as exc:  # a bug must cost one file, never the run or the file's content
        return FileOutcome(path, "failed", error=f"internal error: {type(exc).__name__}: {exc}")


def _rewrite_file(path: str, data: bytes, options: RewriteOptions) -> FileOutcome:
    from ._diff import unified_diff
    from ._rewrite import RewriteError, rewrite_source

    try:
        source = decode_source(data)
        package = package_name(Path(path), options.source_root)
        is_package = os.path.basename(path) in ("__init__.py", "__init__.pyi")
        result = rewrite_source(source.text, options.table, package=package, is_package=is_package)
    except (SourceDecodeError, RewriteError) as exc:
        return FileOutcome(path, "failed", error=str(exc))
    unchanged = FileOutcome(path, "unchanged", result.changes, result.unmoved)
    if not result.changed:
        return unchanged
    try:
        new_data = source.encode(result.new_source)
    except UnicodeEncodeError as exc:
        return FileOutcome(path, "failed", error=f"cannot encode the result as {source.encoding}: {exc.reason}")
    diff = None
    if options.mode == "write":
        from ._atomic import atomic_write  # (tempfile) only a run that writes needs it

        real = Path(os.path.realpath(path))
        refusal = _read_only(real)
        if refusal is not None:
            return replace(unchanged, status="failed", error=refusal)
        try:
            atomic_write(real, new_data, expected=data)
        except OSError as exc:
            return replace(unchanged, status="failed", error=f"cannot write: {exc}")
    elif options.mode == "diff":
        diff = unified_diff(path, result.source, result.new_source)
    return replace(unchanged, status="changed", diff=diff)


def _read_only(path: Path) -> str | None:
    """Why ``path`` must not be replaced: a file nobody may write is the owner's decision, as it is for a
    formatter. The rename that makes writes atomic would bypass the mode (and root bypasses ``access``),
    so the mode bits are checked as well as the caller's right to write."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        return f"file is read-only (mode {mode:03o}); not rewritten — make it writable to migrate it"
    return None


def rewrite_candidates(
    candidates: Sequence[Candidate], options: RewriteOptions, *, jobs: int, bar: Progress
) -> list[FileOutcome]:
    """Outcomes in the order of ``candidates``; the ones libcst must see go to ``jobs`` processes when that pays off."""
    bar.phase("rewriting", len(candidates))
    results: dict[int, FileOutcome] = {}
    heavy: list[int] = []
    for index, candidate in enumerate(candidates):
        outcome = settled(candidate.path, candidate.data, options)
        if outcome is None:
            heavy.append(index)
        else:
            results[index] = outcome
            bar.advance()
    if jobs <= 1 or len(heavy) <= 1:
        for index in heavy:
            results[index] = rewrite_file(candidates[index].path, candidates[index].data, options)
            bar.advance()
    else:
        _in_pool(candidates, heavy, options, min(jobs, len(heavy)), results, bar)
    return [results[index] for index in range(len(candidates))]


def _in_pool(
    candidates: Sequence[Candidate],
    heavy: Sequence[int],
    options: RewriteOptions,
    workers: int,
    results: dict[int, FileOutcome],
    bar: Progress,
) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed  # (multiprocessing) only a pool needs it

    from . import _rewrite  # noqa: F401  (imported before the pool forks, so workers start warm)

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(rewrite_file, candidates[i].path, candidates[i].data, options): i for i in heavy}
        for future in as_completed(futures):
            index = futures[future]
            try:
                results[index] = future.result()
            except Exception as exc:  # a worker died (killed, out of memory): that file failed, not the run
                results[index] = FileOutcome(candidates[index].path, "failed", error=f"worker failed: {exc!r}")
            bar.advance()
