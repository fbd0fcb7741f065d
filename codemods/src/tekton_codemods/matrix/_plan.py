"""Turning what a component declares into an install the matrix can make without surprises.

A Tekton component names its dependencies in ``requirements.txt`` (with ``-r ../shared/requirements/*.txt``
includes). Some of those names exist only inside the tree (``tekton-core``), one is this workspace's own package
(``tekton-llm-client``), and some pull stacks of several GB (``torch`` through ``vector.txt``). The plan sends each
name to the right place: tree-local packages are installed from the tree, workspace packages from the workspace
(whatever version the component asks for), heavy stacks are left out unless allowed — also when a dependency
pulls them in, through uv overrides that no resolution can bypass.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ._config import ComponentSettings
from ._requirements import (
    Requirement,
    RequirementFileError,
    RequirementSet,
    normalize,
    parse_line,
    read_requirements,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Dropped", "InstallPlan", "PlanError", "build_plan", "find_local_packages", "parse_provide"]

NEVER = "sys_platform == 'never'"
"""A marker no platform satisfies: as a uv override it removes a package from every resolution."""


class PlanError(ValueError):
    """The component's declaration cannot be turned into an install."""


@dataclass(frozen=True)
class Provided:
    """A distribution this workspace provides, whatever version a component asks for."""

    name: str
    path: Path
    extras: tuple[str, ...] = ()

    def line(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras} @ {self.path.resolve().as_uri()}"


def parse_provide(text: str) -> Provided:
    """``name[extra,…]=path`` (the ``--provide`` option)."""
    spec, sep, path = text.partition("=")
    if not sep or not path:
        raise PlanError(f"--provide needs NAME[EXTRAS]=PATH, got {text!r}")
    try:
        requirement = parse_line(spec.strip(), "--provide", Path.cwd())
    except RequirementFileError as error:
        raise PlanError(f"--provide needs NAME[EXTRAS]=PATH, got {text!r}") from error
    if requirement.is_path or requirement.spec:
        raise PlanError(f"--provide needs a bare distribution name before '=', got {spec!r}")
    return Provided(requirement.name, Path(path).expanduser().resolve(), requirement.extras)


@dataclass(frozen=True)
class Dropped:
    """A requirement left out of the install, and why."""

    name: str
    origin: str
    reason: str


@dataclass
class InstallPlan:
    """Inputs of one ``uv pip compile``: requirement lines, overrides, constraints; plus what was decided."""

    requirements: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    local: dict[str, Path] = field(default_factory=dict)
    """Tree-local distributions this component needs, installed from the tree."""
    provided: dict[str, Path] = field(default_factory=dict)
    """Workspace distributions standing in for what the component names."""
    declared_in: str = ""
    """``requirements.txt`` or ``pyproject.toml``: what the component's dependencies were read from."""
    python_path: list[Path] = field(default_factory=list)
    """Folders put on ``PYTHONPATH`` for the tests (a Tekton component: itself, then the tree root)."""
    superseding: list[str] = field(default_factory=list)
    """Overrides for a second resolution, used only when the first fails: the workspace's needs replace the
    component's pins of the same names."""
    superseded: list[str] = field(default_factory=list)
    """What those overrides replace (``name: origin asks X; the workspace needs Y``), for the report."""


def _setup_py_name(path: Path) -> str | None:
    """The literal ``name=`` of the ``setup(...)`` call in a ``setup.py``, without running it."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
            for keyword in node.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    value = keyword.value.value
                    return value if isinstance(value, str) else None
    return None


def _pyproject_name(path: Path) -> str | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) else None


def _declared_name(folder: Path) -> str | None:
    name = _pyproject_name(folder / "pyproject.toml") if (folder / "pyproject.toml").is_file() else None
    if name is None and (folder / "setup.py").is_file():
        name = _setup_py_name(folder / "setup.py")
    return normalize(name) if name else None


def find_local_packages(tree: Path) -> dict[str, Path]:
    """Distributions declared by the tree's top-level folders (``tekton-core/setup.py`` → ``tekton-core``).

    When two folders declare one name (Tekton's root ``setup.py`` repeats ``tekton-core``'s), the folder of the
    same name wins, then the first in sorted order.
    """
    found: dict[str, Path] = {}
    for folder in sorted(p for p in tree.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = _declared_name(folder)
        if name is None:
            continue
        if name not in found or normalize(folder.name) == name:
            found[name] = folder
    return found


def workspace_dependencies(provided: list[Provided]) -> dict[str, list[str]]:
    """What the workspace's packages need: ``{name: [specifier, …]}`` from their ``pyproject.toml`` (the
    dependencies plus those of the extras asked for; requirements with markers are left to the resolver)."""
    needs: dict[str, list[str]] = {}
    own = {p.name for p in provided}
    for package in provided:
        try:
            project = tomllib.loads((package.path / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        lines = list(project.get("dependencies", []))
        for extra in package.extras:
            lines += project.get("optional-dependencies", {}).get(extra, [])
        for line in lines:
            requirement = parse_line(line, str(package.path), package.path)
            if requirement.name and requirement.name not in own and ";" not in requirement.spec and requirement.spec:
                needs.setdefault(requirement.name, []).append(requirement.spec)
    return needs


def _project_requirement(component: Path) -> str:
    """``-e <component>[test]`` for a pyproject component (its ``test`` extra when it has one)."""
    try:
        data = tomllib.loads((component / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PlanError(f"cannot read {component / 'pyproject.toml'}: {error}") from error
    extras = data.get("project", {}).get("optional-dependencies", {})
    suffix = "[test]" if isinstance(extras, Mapping) and "test" in extras else ""
    return f"-e {component.resolve()}{suffix}"


class _Builder:
    def __init__(self, settings: ComponentSettings, local: Mapping[str, Path], provided: list[Provided]) -> None:
        self.settings = settings
        self.local_available = local
        self.provided = {p.name: p for p in provided}
        self.needs = workspace_dependencies(provided)
        self.plan = InstallPlan(provided={p.name: p.path for p in provided})
        self.declared: list[Requirement] = []

    def add(self, requirement: Requirement) -> None:
        name = requirement.name
        if requirement.is_path:
            self.plan.requirements.append(requirement.line)
        elif name in self.provided:
            self.plan.requirements.append(self.provided[name].line())
        elif self.settings.is_excluded(name):
            reason = self.settings.excluded.get(name, "excluded")
            self.plan.dropped.append(Dropped(name, requirement.origin, reason))
        elif name in self.local_available:
            path = self.local_available[name]
            self.plan.local[name] = path
            extras = f"[{','.join(requirement.extras)}]" if requirement.extras else ""
            self.plan.requirements.append(f"{name}{extras} @ {path.resolve().as_uri()}")
        else:
            self.plan.requirements.append(requirement.line)

    def supersede(self) -> list[str]:
        """Overrides that let the workspace's needs win over the component's pins of the same names.

        Migrating means running on the workspace's client: a component pinning ``websockets<12`` (Terma) cannot
        have it, so the pin gives way and the report says so.
        """
        overrides = []
        for name in sorted({r.name for r in self.declared if r.name in self.needs}):
            wanted = ",".join(self.needs[name])
            extras = sorted({extra for r in self.declared if r.name == name for extra in r.extras})
            overrides.append(f"{name}{'[' + ','.join(extras) + ']' if extras else ''}{wanted}")
            for requirement in (r for r in self.declared if r.name == name and r.spec and r.spec != wanted):
                self.plan.superseded.append(f"{name}: {requirement.origin} asks {requirement.spec}; "
                                            f"the workspace needs {wanted}, which wins")
        return overrides

    def finish(self, constraints: list[Requirement]) -> InstallPlan:
        plan = self.plan
        plan.requirements += [p.line() for p in self.provided.values() if p.line() not in plan.requirements]
        plan.constraints = [c.line for c in constraints if not c.is_path and c.name not in self.provided]
        plan.overrides = [p.line() for p in self.provided.values()]
        plan.superseding = self.supersede()
        plan.overrides += [f"{name} @ {path.resolve().as_uri()}" for name, path in sorted(self.local_available.items())
                           if name not in self.provided]
        plan.overrides += [f"{name} ; {NEVER}" for name in sorted(self.settings.excluded)
                           if self.settings.is_excluded(name)]
        return plan


def build_plan(
    component: Path,
    tree: Path,
    settings: ComponentSettings,
    *,
    provided: list[Provided],
    workspace: list[str],
) -> InstallPlan:
    """The install of ``component`` (a folder of ``tree``): its declared dependencies, then ``workspace`` lines
    (test runner, shims) and the settings' ``add`` lines, with local/provided/excluded names sent where they go."""
    # The component itself is installed (or put on the path) as declared, never through an override.
    local = {name: path for name, path in find_local_packages(tree).items() if path.resolve() != component.resolve()}
    builder = _Builder(settings, local, provided)
    requirements_file = component / "requirements.txt"
    declared: RequirementSet | None = None
    if requirements_file.is_file():
        declared = read_requirements(requirements_file, display_root=tree)
        builder.plan.declared_in = "requirements.txt"
        builder.plan.python_path = [component.resolve(), tree.resolve()]  # as shared/utils/setup_env.sh does
        builder.declared = [r for r in declared.requirements if not r.is_path]
        for requirement in declared.requirements:
            builder.add(requirement)
        builder.plan.requirements[:0] = declared.options
    elif (component / "pyproject.toml").is_file():
        builder.plan.declared_in = "pyproject.toml"
        builder.plan.requirements.append(_project_requirement(component))
    else:
        raise PlanError(f"{component} declares no dependencies: no requirements.txt and no pyproject.toml")
    for index, line in enumerate([*workspace, *settings.add]):
        builder.add(parse_line(line, f"{'workspace' if index < len(workspace) else settings.source}", tree))
    return builder.finish(declared.constraints if declared else [])
