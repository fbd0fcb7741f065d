"""Reading ``[tool.tekton-migrate]`` from the target tree's ``pyproject.toml``.

Component owners keep their extra mappings next to their code, so CI and local runs agree without
repeating ``--map`` flags.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._mapping import MappingError, is_dotted_name

TABLE = "tekton-migrate"


@dataclass(frozen=True)
class ProjectSettings:
    """What one ``pyproject.toml`` contributes. Paths are already absolute."""

    path: Path | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    provides: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    source_root: Path | None = None


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``, not crossing a repository root."""
    here = start.resolve()
    try:
        if not here.is_dir():
            here = here.parent
        for directory in (here, *here.parents):
            candidate = directory / "pyproject.toml"
            if candidate.is_file():
                return candidate
            if (directory / ".git").exists():
                return None
    except OSError:  # a folder we may not look into: no configuration from there (discovery reports the path)
        return None
    return None


def load_settings(pyproject: Path) -> ProjectSettings:
    """Parse and validate the tool table; a file without it yields empty settings."""
    if sys.version_info >= (3, 11):  # imported here: a tree without a pyproject.toml never needs a TOML parser
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{pyproject}: cannot read: {exc}") from exc
    table = document.get("tool", {}).get(TABLE, {})
    if not isinstance(table, dict):
        raise MappingError(f"{pyproject}: [tool.{TABLE}] must be a table")
    return ProjectSettings(
        path=pyproject,
        mapping=_string_table(pyproject, table.get("mapping", {}), "mapping"),
        provides=_provides_table(pyproject, table.get("provides", {})),
        exclude=tuple(_string_list(pyproject, table.get("exclude", []), "exclude")),
        source_root=_source_root(pyproject, table.get("source-root")),
    )


def _string_table(pyproject: Path, value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise MappingError(f"{pyproject}: [tool.{TABLE}.{name}] must be a table")
    result: dict[str, str] = {}
    for old, new in value.items():
        if not isinstance(new, str) or not is_dotted_name(old) or not is_dotted_name(new):
            raise MappingError(f"{pyproject}: bad {name} entry {old!r} = {new!r}")
        result[old] = new
    return result


def _provides_table(pyproject: Path, value: Any) -> dict[str, frozenset[str]]:
    if not isinstance(value, dict):
        raise MappingError(f"{pyproject}: [tool.{TABLE}.provides] must be a table")
    return {shim: frozenset(_string_list(pyproject, names, f"provides.{shim}")) for shim, names in value.items()}


def _string_list(pyproject: Path, value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MappingError(f"{pyproject}: {name} must be a list of strings")
    return list(value)


def _source_root(pyproject: Path, value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{pyproject}: source-root must be a string")
    return (pyproject.parent / value).resolve()
