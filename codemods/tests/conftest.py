"""Shared helpers: build real source trees on disk and run the real command line against them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tekton_codemods.cli import main

SUMMARY = re.compile(
    r"^tekton-migrate: (\d+) files? scanned, (\d+) candidates?, (\d+) changed, (\d+) failed in \d+\.\d\ds$"
)


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def summary(self) -> tuple[int, int, int, int]:
        """(scanned, candidates, changed, failed) from the mandatory last stderr line."""
        last = self.err.rstrip("\n").splitlines()[-1]
        match = SUMMARY.match(last)
        assert match, f"no summary line in stderr: {self.err!r}"
        scanned, candidates, changed, failed = (int(g) for g in match.groups())
        return scanned, candidates, changed, failed


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> text or exact bytes) under ``root``; text is written as UTF-8
    bytes without newline translation, so tests control line endings exactly."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def package_tree(root: Path, package: str, files: Mapping[str, str | bytes]) -> Path:
    """Like :func:`write_tree`, plus an ``__init__.py`` in every directory of ``package`` (``a.b``)."""
    parts = package.split(".")
    for depth in range(1, len(parts) + 1):
        init = root.joinpath(*parts[:depth], "__init__.py")
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
    return write_tree(root, files)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``tekton-migrate`` in-process with the given arguments; paths may be ``Path`` objects."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def tree(tmp_path: Path) -> Callable[..., Path]:
    """``tree(files, package=None, root=None)``: write files (under ``tmp_path`` unless ``root`` is given);
    with ``package="a.b"`` also create the package's ``__init__.py`` chain."""

    def make(files: Mapping[str, str | bytes], package: str | None = None, root: Path | None = None) -> Path:
        base = root if root is not None else tmp_path
        return package_tree(base, package, files) if package else write_tree(base, files)

    return make


@pytest.fixture
def read_report() -> Callable[[Path], dict[str, Any]]:
    def load(path: Path) -> dict[str, Any]:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(document, dict)
        return document

    return load


@dataclass
class Migrated:
    text: str
    run: Run
    path: Path


@pytest.fixture
def migrate(tmp_path: Path, cli: Callable[..., Run]) -> Callable[..., Migrated]:
    """``migrate(source, package="app.sub", name="mod.py", *extra_args)``: put ``source`` in a real file
    inside that package, run ``tekton-migrate rewrite`` on the tree, return the file's new text."""

    def run(source: str, package: str | None = "app.sub", name: str = "mod.py", *extra: str) -> Migrated:
        root = tmp_path / "tree"
        rel = "/".join([*(package.split(".") if package else []), name])
        if package:
            package_tree(root, package, {rel: source})
        else:
            write_tree(root, {rel: source})
        result = cli("rewrite", root, *extra)
        path = root / rel
        return Migrated(path.read_bytes().decode("utf-8"), result, path)

    return run
