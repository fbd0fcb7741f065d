"""What a user decides about the component matrix: which heavy stacks stay out, which tests run.

The settings live in ``[tool.tekton-migrate.matrix]`` of the tree's root ``pyproject.toml`` (or of a TOML file
named by ``--config`` / ``TEKTON_MATRIX_CONFIG``, for a checkout you would rather not touch), with per-component
tables under ``[tool.tekton-migrate.matrix.components.<name>]`` that extend the tree-wide lists.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._requirements import normalize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["DEFAULT_EXCLUDED", "ComponentSettings", "MatrixConfigError", "load_settings"]

DEFAULT_EXCLUDED: Mapping[str, str] = {
    "torch": "PyTorch: several GB of CUDA wheels on Linux",
    "torchvision": "needs torch",
    "torchaudio": "needs torch",
    "sentence-transformers": "needs torch",
    "xformers": "needs torch and CUDA",
    "triton": "CUDA compiler stack shipped with torch",
    "tensorflow": "TensorFlow: several hundred MB, GPU builds more",
    "tensorflow-gpu": "TensorFlow with CUDA",
    "faiss-gpu": "CUDA build of faiss",
}
"""Never downloaded unless allowed: the heavy ML stacks (``shared/requirements/vector.txt`` pulls ~15 GB)."""

GUARDED_PREFIXES = ("nvidia-",)
"""Names that must never appear in a resolution unless allowed: CUDA runtime wheels, whoever pulls them."""


class MatrixConfigError(ValueError):
    """A matrix setting of the wrong type or shape."""


@dataclass(frozen=True)
class ComponentSettings:
    """The effective settings for one component."""

    excluded: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXCLUDED))
    """name → why it is left out (the defaults, plus ``exclude``, minus ``allow``)."""
    allowed: frozenset[str] = frozenset()
    add: tuple[str, ...] = ()
    """Extra requirement lines (e.g. a test dependency the component forgot to declare)."""
    tests: tuple[str, ...] | None = None
    """Test paths relative to the component folder; None: ``tests`` if it exists."""
    timeout: float = 900.0
    source: str = "defaults"
    """Where the settings came from, for the report."""

    def is_excluded(self, name: str) -> bool:
        name = normalize(name)
        if name in self.allowed or "*" in self.allowed:
            return False
        return name in self.excluded

    def is_guarded(self, name: str) -> bool:
        """A name that may not be installed: excluded, or a CUDA runtime wheel not explicitly allowed."""
        name = normalize(name)
        if name in self.allowed or "*" in self.allowed:
            return False
        return name in self.excluded or name.startswith(GUARDED_PREFIXES)


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MatrixConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _table(data: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = data
    for key in ("tool", "tekton-migrate", "matrix"):
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
    if not isinstance(node, Mapping):
        raise MatrixConfigError("[tool.tekton-migrate.matrix] must be a table")
    return node


def _component_table(matrix: Mapping[str, Any], component: str, where: str) -> Mapping[str, Any]:
    components = matrix.get("components", {})
    if not isinstance(components, Mapping):
        raise MatrixConfigError(f"{where}: components must be a table of tables")
    for name, table in components.items():
        if name.lower() == component.lower():
            if not isinstance(table, Mapping):
                raise MatrixConfigError(f"{where}: components.{name} must be a table")
            return table
    return {}


def _settings_from(
    matrix: Mapping[str, Any], component: str, where: str, env_allow: tuple[str, ...]
) -> ComponentSettings:
    own = _component_table(matrix, component, where)
    excluded = dict(DEFAULT_EXCLUDED)
    for table in (matrix, own):
        for name in _strings(table, "exclude", where):
            excluded[normalize(name)] = f"excluded in {where}"
    allowed = {normalize(n) for table in (matrix, own) for n in _strings(table, "allow", where)}
    allowed |= {normalize(n) if n != "*" else n for n in env_allow}
    tests = _strings(own, "tests", where) if "tests" in own else None
    timeout = own.get("timeout", matrix.get("timeout", 900.0))
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise MatrixConfigError(f"{where}: timeout must be a positive number of seconds")
    return ComponentSettings(
        excluded=excluded,
        allowed=frozenset(allowed),
        add=_strings(matrix, "add", where) + _strings(own, "add", where),
        tests=tests,
        timeout=float(timeout),
        source=where if matrix else "defaults",
    )


def load_settings(
    component: str, *, tree: Path, config: Path | None = None, env_allow: tuple[str, ...] = ()
) -> ComponentSettings:
    """The settings of ``component``: from ``config`` if given, else from ``<tree>/pyproject.toml`` if it has a
    ``[tool.tekton-migrate.matrix]`` table, else the defaults. ``env_allow`` (``TEKTON_MATRIX_ALLOW``) adds to
    ``allow``."""
    path = config if config is not None else tree / "pyproject.toml"
    data: Mapping[str, Any] = {}
    if config is not None or path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise MatrixConfigError(f"cannot read matrix settings from {path}: {error}") from error
    return _settings_from(_table(data), component, str(path), env_allow)
