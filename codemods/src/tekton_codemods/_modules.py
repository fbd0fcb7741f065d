"""Dotted module names for files on disk, and absolute names for relative imports.

A relative import means nothing without the importing file's package, which Python itself derives from
the ``__init__.py`` chain (or from the source root the code is run from); doing the same here is what
lets ``from ..core.llm_adapter import X`` be recognised as ``terma.core.llm_adapter``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def module_name(path: Path, source_root: Path | None = None) -> str | None:
    """The dotted name ``path`` is imported as, or ``None`` if it cannot be imported by name."""
    path = Path(os.path.abspath(path))
    stem = path.name.rsplit(".", 1)[0]
    package = _package_of_dir(str(path.parent), str(source_root) if source_root else None)
    if stem == "__init__":
        return package or None
    if not stem.isidentifier():
        return None
    return f"{package}.{stem}" if package else stem


def package_name(path: Path, source_root: Path | None = None) -> str | None:
    """The package relative imports in ``path`` resolve against (``None`` when it is not in one)."""
    path = Path(os.path.abspath(path))
    return _package_of_dir(str(path.parent), str(source_root) if source_root else None) or None


def resolve_relative(package: str | None, level: int, module: str | None) -> str | None:
    """Absolute module for ``from <level dots><module> import …`` inside ``package``.

    Returns ``None`` when the import climbs above the top-level package, exactly when Python raises.
    """
    if level == 0:
        return module
    if not package:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base)


@functools.lru_cache(maxsize=4096)
def _package_of_dir(directory: str, source_root: str | None) -> str:
    if source_root is not None:
        root = os.path.abspath(source_root)
        if directory == root or directory.startswith(root + os.sep):
            rel = os.path.relpath(directory, root)
            parts = [] if rel == "." else rel.split(os.sep)
            if all(part.isidentifier() for part in parts):
                return ".".join(parts)
            return ""
    parts = []
    current = directory
    while os.path.isfile(os.path.join(current, "__init__.py")):
        name = os.path.basename(current)
        if not name.isidentifier():
            break
        parts.append(name)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return ".".join(reversed(parts))


def forget_packages() -> None:
    """Drop cached ``__init__.py`` lookups (a new run may see a changed tree)."""
    _package_of_dir.cache_clear()


def unresolved_relative(line: int, code: str, package: str | None) -> str:
    """Why a relative import that may reach a legacy module could not be analysed, and what fixes it."""
    where = f"package {package} is not that deep" if package else "the file is not inside a package"
    return f"line {line}: cannot resolve relative import `{code}` ({where}); pass --source-root"
