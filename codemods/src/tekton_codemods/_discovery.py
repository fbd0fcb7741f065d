"""Finding the Python files a run may touch.

Tool and dependency directories are pruned by name (or by ``pyvenv.cfg``, which marks a virtualenv
whatever it is called), and symlinks are never followed: a link that stays inside the tree is redundant
(its target is visited in its own place, and writing through it would replace the link with a file); a
link that leaves the tree points at code the run was not asked to change, so it is reported.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".nox",
        ".tox",
        ".venv",
        "node_modules",
        "build",
        "dist",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".eggs",
    }
)
SOURCE_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class SkippedPath:
    """A path deliberately left alone, with the reason shown to the user."""

    path: str
    reason: str


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def discover(roots: Sequence[str | Path], exclude: Iterable[str] = ()) -> Discovery:
    """Source files under ``roots`` in a stable order, each listed once."""
    patterns = tuple(exclude)
    found = Discovery()
    real_roots = [os.path.realpath(root) for root in roots]
    seen: set[str] = set()
    for root, real_root in zip(roots, real_roots, strict=True):
        root_text = os.fspath(root)
        if os.path.isfile(real_root):
            if real_root not in seen:
                seen.add(real_root)
                found.files.append(root_text)
            continue
        if not os.path.isdir(real_root):
            found.missing.append(root_text)
            continue
        _walk(root_text, real_root, real_roots, patterns, seen, found)
    return found


def _walk(
    root: str,
    real_root: str,
    real_roots: list[str],
    patterns: tuple[str, ...],
    seen: set[str],
    found: Discovery,
) -> None:
    prefix = "" if root in (".", "./") else root  # "./pkg/x.py" would leak into diffs as "a/./pkg"
    files: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(os.path.join(real_root, rel_dir)) as iterator:
                entries = sorted(iterator, key=lambda entry: entry.name)
        except OSError as exc:
            found.skipped.append(SkippedPath(os.path.join(prefix, rel_dir), f"cannot list: {exc.strerror}"))
            continue
        if rel_dir and any(entry.name == "pyvenv.cfg" for entry in entries):
            continue
        subdirs: list[str] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                _symlink(prefix, rel, entry.path, real_roots, found)
            elif entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIR_NAMES and not _excluded(rel + "/", entry.name, patterns):
                    subdirs.append(rel)
            elif (
                entry.name.endswith(SOURCE_SUFFIXES)
                and entry.is_file(follow_symlinks=False)  # never open a FIFO or device named *.py
                and not _excluded(rel, entry.name, patterns)
            ):
                real = os.path.join(real_root, rel)
                if real not in seen:
                    seen.add(real)
                    files.append(os.path.join(prefix, rel))
        stack.extend(reversed(subdirs))
    found.files.extend(sorted(files))


def _symlink(root: str, rel: str, link: str, real_roots: list[str], found: Discovery) -> None:
    target = os.path.realpath(link)
    if not os.path.exists(target):
        return
    if not (os.path.isdir(target) or target.endswith(SOURCE_SUFFIXES)):
        return
    inside = any(target == real or target.startswith(real + os.sep) for real in real_roots)
    if not inside:
        found.skipped.append(SkippedPath(os.path.join(root, rel), "symlink leads out of the tree"))


def _excluded(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)
