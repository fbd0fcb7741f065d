"""One matrix cell: a component of a tree, on the Python running this module, tested before and after migrating.

Everything happens in a work folder that outlives the run (the nox session's ``tmp``): the scratch copy of the
whole tree, the install inputs and lock, both pytest logs and JUnit reports, the migration log and
``result.json``. Every path a failure message names still exists afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._config import ComponentSettings, load_settings
from ._plan import InstallPlan, PlanError, Provided, build_plan
from ._requirements import RequirementFileError, parse_line
from ._results import Parity, ResultsError, TestResult, compare, missing_modules, read_junit
from ._row import render

__all__ = ["IGNORED", "CellOptions", "CellResult", "MatrixError", "copy_tree", "locked_names", "run_cell"]

IGNORED = (".git", ".nox", ".tox", ".venv", "venv", "node_modules", "__pycache__", "*.egg-info", ".pytest_cache",
           ".mypy_cache", ".ruff_cache")


LISTED = 12
"""How many pre-existing failures a note names (all of them are in ``result.json``)."""


class MatrixError(RuntimeError):
    """A step before the tests could run failed; the message names the log file that says why."""


@dataclass
class CellOptions:
    tree: Path
    component: str
    """The component's folder name in ``tree`` (``Hermes`` in a Tekton checkout, ``hermes`` for the samples)."""
    workdir: Path
    uv: str
    provided: list[Provided] = field(default_factory=list)
    workspace: list[str] = field(default_factory=list)
    config: Path | None = None
    env_allow: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    install: bool = True
    """False: test in this environment as it is (already installed by hand)."""
    strict: bool = False
    """Every test must pass after the migration (the samples' gate), not only those that passed before."""
    python: str = f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass
class CellResult:
    """What the row reports; ``verdict`` is ``holds``, ``BROKEN``, ``no tests`` or ``error``."""

    component: str
    python: str
    verdict: str
    seconds: float
    parity: Parity | None = None
    notes: list[str] = field(default_factory=list)
    workdir: str = ""

    @property
    def exit_code(self) -> int:
        return {"holds": 0, "no tests": 0, "BROKEN": 1}.get(self.verdict, 2)


def _copy_writable(source: str, target: str) -> object:
    """Copy one file and make the copy writable by its owner (a read-only checkout gives read-only copies)."""
    copied = shutil.copy2(source, target)
    mode = os.stat(target).st_mode
    if not mode & stat.S_IWUSR:
        os.chmod(target, mode | stat.S_IWUSR)
    return copied


def copy_tree(source: Path, target: Path) -> None:
    """The whole tree (symlinks kept as links), without VCS folders, caches and virtualenvs; copies writable."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(*IGNORED),
                    copy_function=_copy_writable)
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir() and not p.is_symlink())]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IWUSR:
            folder.chmod(mode | stat.S_IWUSR)


def _run_logged(command: Sequence[str], log: Path, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, float]:
    """Run ``command`` with its output appended to ``log``; (exit code, seconds); exit 124 on timeout."""
    started = time.perf_counter()
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(command)}\n")
        handle.flush()
        try:
            code = subprocess.run(list(command), cwd=cwd, env=None if env is None else dict(env), stdout=handle,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            handle.write(f"\n[matrix] timed out after {timeout:.0f} s\n")
            code = 124
    return code, time.perf_counter() - started


def _tail(log: Path, lines: int = 12) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def locked_names(lock: Path) -> dict[str, list[str]]:
    """``{distribution: [what pulls it in]}`` from a ``uv pip compile`` output with its ``# via`` annotations."""
    names: dict[str, list[str]] = {}
    current: str | None = None
    for raw in lock.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if raw[0].isspace() and current is not None:
            via = stripped.removeprefix("#").strip().removeprefix("via").strip()
            if via:
                names[current].append(via)
            continue
        if stripped.startswith("#"):
            continue
        line = stripped.removeprefix("-e").strip()
        requirement = parse_line(line, str(lock), lock.parent)
        current = requirement.name or line
        names.setdefault(current, [])
    return names


def _write_inputs(plan: InstallPlan, workdir: Path, *, superseding: bool) -> list[str]:
    """The files ``uv pip compile`` reads; returns its arguments."""
    (workdir / "requirements.in").write_text("\n".join(plan.requirements) + "\n", encoding="utf-8")
    overrides = plan.overrides + (plan.superseding if superseding else [])
    (workdir / "overrides.txt").write_text("\n".join(overrides) + "\n", encoding="utf-8")
    args = ["requirements.in", "--override", "overrides.txt"]
    if plan.constraints:
        (workdir / "constraints.txt").write_text("\n".join(plan.constraints) + "\n", encoding="utf-8")
        args += ["--constraint", "constraints.txt"]
    return args


def _resolve(plan: InstallPlan, options: CellOptions, log: Path) -> list[str]:
    """``uv pip compile`` into ``lock.txt``: the component's pins as declared, else (when that cannot be resolved
    with the workspace's packages) with the workspace's needs winning; returns notes on what gave way."""
    for superseding in (False, True) if plan.superseding else (False,):
        args = _write_inputs(plan, options.workdir, superseding=superseding)
        command = [options.uv, "pip", "compile", *args, "--python", sys.executable, "-o", "lock.txt"]
        code, _ = _run_logged(command, log, cwd=options.workdir)
        if not code:
            if not superseding:
                return []
            return [f"the declared pins cannot be installed with the workspace's packages (first resolution in {log}"
                    f"); they gave way: {'; '.join(plan.superseded)}"]
    raise MatrixError(f"resolving the dependencies failed (exit {code}); see {log}:\n{_tail(log)}")


def install(plan: InstallPlan, settings: ComponentSettings, options: CellOptions) -> list[str]:
    """Resolve first (nothing is downloaded but metadata), refuse guarded names, then install exactly the lock.
    Returns notes for the report."""
    workdir, log = options.workdir, options.workdir / "install.log"
    notes = _resolve(plan, options, log)
    guarded = {name: via for name, via in locked_names(workdir / "lock.txt").items() if settings.is_guarded(name)}
    if guarded:
        pulled = "; ".join(f"{name} (via {', '.join(via) or '?'})" for name, via in sorted(guarded.items()))
        raise MatrixError(f"the resolution would download heavy packages: {pulled}. Nothing was installed. "
                          "Exclude what pulls them or allow them (MIGRATION.md, the component matrix); "
                          f"see {workdir / 'lock.txt'}")
    # Local packages are rebuilt every time: uv's cache keys a local build on its pyproject.toml/setup.py only, so a
    # cached wheel of the workspace's client could be older than its source.
    rebuild = [arg for name in sorted({*plan.provided, *plan.local}) for arg in ("--reinstall-package", name)]
    # sync: the environment becomes exactly the lock (nothing left over from another component or tree).
    command = [options.uv, "pip", "sync", "--python", sys.executable, "lock.txt", *rebuild]
    code, _ = _run_logged(command, log, cwd=workdir)
    if code:
        raise MatrixError(f"installing the resolved dependencies failed (exit {code}); see {log}:\n{_tail(log)}")
    return notes


def _test_env(plan: InstallPlan, options: CellOptions, tree: Path) -> dict[str, str]:
    home = options.workdir / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=str(home), TEKTON_ROOT=str(tree))
    env.pop("PYTHONPATH", None)
    if plan.python_path:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in plan.python_path)
    return env


def run_tests(phase: str, component: Path, selection: Sequence[str], env: Mapping[str, str], options: CellOptions,
              timeout: float) -> dict[str, TestResult]:
    """pytest on the component's tests; results per test id from its JUnit report (``<phase>.xml``)."""
    report, log = options.workdir / f"{phase}.xml", options.workdir / f"{phase}.log"
    config = pytest_config(component, options.workdir / "tree", options.workdir)
    command = [sys.executable, "-m", "pytest", *config, *selection, "-p", "no:cacheprovider",
               "--continue-on-collection-errors",
               f"--junitxml={report}", "-q", *options.pytest_args]
    code, _ = _run_logged(command, log, cwd=component, env=env, timeout=timeout)
    try:
        results = read_junit(report)
    except ResultsError as error:
        raise MatrixError(f"pytest {phase} the migration produced no report (exit {code}); see {log}:\n"
                          f"{_tail(log)}") from error
    print(f"[matrix] pytest {phase} the migration: exit {code}; log {log}", flush=True)
    return results


@dataclass
class Migration:
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _summary(output: str, component: Path) -> str:
    """``rewrote a, b`` / ``deleted x; kept y`` from tekton-migrate's output, paths relative to the component."""
    picked: dict[str, list[str]] = {}
    for line in output.splitlines():
        verb, _, rest = line.partition(" ")
        if verb in ("rewrote", "deleted") or line.startswith("in use"):
            path = rest.strip().removeprefix("use").strip().split("  ")[0]
            shown = Path(path).relative_to(component).as_posix() if Path(path).is_relative_to(component) else path
            picked.setdefault("kept (in use)" if line.startswith("in use") else verb, []).append(shown)
    return "; ".join(f"{verb} {', '.join(paths)}" for verb, paths in picked.items()) or "no change"


_FILE_ERROR = re.compile(r"^(?P<path>/.+?): error: ", re.MULTILINE)


def _judge_failure(step: str, code: int, output: str, component: Path, log: Path, outcome: Migration) -> None:
    """A failed step fails the migration, unless every file it could not read lies outside the component (with
    ``--root`` cleanup reads the whole tree; Tekton's ``Rhetor/…/hermes_helper.py`` does not parse)."""
    paths = [Path(match["path"]) for match in _FILE_ERROR.finditer(output)]
    if paths and not any(path.is_relative_to(component) for path in paths):
        shown = ", ".join(sorted({p.relative_to(component.parent).as_posix() if p.is_relative_to(component.parent)
                                  else str(p) for p in paths}))
        outcome.notes.append(f"{step}: exit {code} for files outside {component.name} it could not read "
                             f"(not this component's migration): {shown}; see {log}")
        return
    outcome.failures.append(f"tekton-migrate {step} exited {code}; see {log}")


def migrate(component: Path, options: CellOptions) -> Migration:
    """``tekton-migrate rewrite`` then ``cleanup --write`` on the component folder, through the CLI.

    ``cleanup --root <copy>``: uses are searched in the whole copied tree (a module another component still
    imports stays), and never in a checkout that happens to enclose the work folder (this workspace's own).
    """
    script = Path(sys.executable).with_name("tekton-migrate")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "tekton_codemods"]
    log = options.workdir / "migrate.log"
    outcome = Migration()
    tree = options.workdir / "tree"
    for step in (["rewrite", str(component)], ["cleanup", str(component), "--write", "--root", str(tree)]):
        start = log.stat().st_size if log.exists() else 0
        code, _ = _run_logged([*cli, *step], log, cwd=options.workdir)
        with log.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(start)
            output = handle.read()
        outcome.notes.append(f"{step[0]}: {_summary(output, component)}")
        if code:
            _judge_failure(step[0], code, output, component, log, outcome)
    print(f"[matrix] migration: {log}", flush=True)
    return outcome


_PYTEST_CONFIGS = (("pytest.ini", ""), (".pytest.ini", ""), ("pyproject.toml", "[tool.pytest.ini_options]"),
                   ("tox.ini", "[pytest]"), ("setup.cfg", "[tool:pytest]"))


def pytest_config(component: Path, tree: Path, workdir: Path) -> list[str]:
    """``-c``/``--rootdir``/``--confcutdir`` so pytest reads the configuration the component has in its tree, and
    never one found above the scratch copy (a work folder inside this workspace would otherwise pick up its
    ``pyproject.toml``), nor collects the tree root's ``__init__.py`` as a package."""
    folder = component
    while True:
        for name, marker in _PYTEST_CONFIGS:
            path = folder / name
            if path.is_file() and (not marker or marker in path.read_text(encoding="utf-8", errors="replace")):
                return ["-c", str(path), "--rootdir", str(folder), "--confcutdir", str(folder)]
        if folder in (tree, folder.parent):
            break
        folder = folder.parent
    empty = workdir / "pytest-none.ini"
    empty.write_text("[pytest]\n", encoding="utf-8")
    # Where pytest would stop without a configuration file: at the component (its rootdir), not at this file.
    return ["-c", str(empty), "--rootdir", str(component), "--confcutdir", str(component)]


NOT_TESTS = ("examples", "scripts")
"""Folders whose ``test_*.py`` files are runnable demos against live services, not tests (unless configured)."""


def test_selection(component: Path, settings: ComponentSettings) -> list[str]:
    """pytest arguments choosing the component's tests: the configured paths, else pytest's own discovery in the
    component folder (its ``testpaths`` when it configures them) without ``examples/`` and ``scripts/``."""
    if settings.tests is not None:
        return list(settings.tests)
    return [f"--ignore={name}" for name in NOT_TESTS if (component / name).is_dir()]


def _plan_notes(plan: InstallPlan) -> list[str]:
    notes = [f"dependencies from {plan.declared_in}"
             + (f"; from the tree: {', '.join(sorted(plan.local))}" if plan.local else "")
             + (f"; from this workspace: {', '.join(sorted(plan.provided))}" if plan.provided else "")]
    if plan.dropped:
        dropped = ", ".join(f"{d.name} ({d.origin})" for d in plan.dropped)
        notes.append(f"left out (heavy, not allowed): {dropped}")
    return notes


def _left_out_tests(before: Mapping[str, TestResult], settings: ComponentSettings) -> list[str]:
    notes = []
    for module, keys in sorted(missing_modules(before).items()):
        if settings.is_excluded(module.replace("_", "-")):
            notes.append(f"{len(keys)} test(s)/module(s) need {module}, left out: {', '.join(sorted(keys))}")
    return notes


def _listing(items: list[str]) -> str:
    more = f", and {len(items) - LISTED} more (result.json)" if len(items) > LISTED else ""
    return ", ".join(items[:LISTED]) + more


def _compare_and_note(before: Mapping[str, TestResult], after: Mapping[str, TestResult],
                      settings: ComponentSettings, result: CellResult, *, strict: bool) -> None:
    parity = compare(before, after)
    result.parity = parity
    result.verdict = "holds" if parity.holds else "BROKEN"
    result.notes += _left_out_tests(before, settings)
    fixed = sorted(parity.fixed)
    if fixed:
        result.notes.append(f"failed before, pass after the migration ({len(fixed)}): {_listing(fixed)}")
    still = sorted(f"{key} (after: {after})" for key, after in parity.failing_before.items() if after != "passed")
    if still:
        result.notes.append(f"failed before the migration, not blamed on it ({len(still)}): {_listing(still)}")
    if parity.collected_before and not parity.passed_before:
        result.notes.append("no test passed before the migration: parity proves nothing here (see before.log)")
    if strict and parity.passed_after != parity.collected_after:
        result.verdict = "BROKEN"
        result.notes.append("--strict: every test must pass after the migration")
    for key, detail in sorted(parity.regressions.items()):
        result.notes.append(f"REGRESSION: {key} passed before, after: {detail}")


def run_cell(options: CellOptions) -> CellResult:
    """Copy, plan, install, test, migrate, test again; never raises for a failed step (the row says it)."""
    started = time.perf_counter()
    result = CellResult(options.component, options.python, "error", 0.0, workdir=str(options.workdir))
    try:
        _run_steps(options, result)
    except (MatrixError, PlanError, RequirementFileError, ValueError, OSError) as error:
        result.verdict = "error"
        result.notes.append(f"error: {error}")
    result.seconds = time.perf_counter() - started
    if not (options.workdir / MARKER).is_file():  # not our folder: write nothing into it
        print(render(result), flush=True)
        return result
    (options.workdir / "result.json").write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    result.notes.append(f"files: {options.workdir} (install.log, before.log, migrate.log, after.log, result.json)")
    print(render(result), flush=True)
    return result


MARKER = ".tekton-matrix"
"""A work folder holds this file; only such a folder (or an empty one) is ever emptied."""


def prepare_workdir(workdir: Path) -> None:
    """Empty ``workdir`` for a new run, refusing to delete a folder this module did not create."""
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise MatrixError(f"refusing to empty {workdir}: it is not empty and not a matrix work folder "
                              f"(no {MARKER} file); choose another --workdir")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by python -m tekton_codemods.matrix; emptied by its next run\n",
                                  encoding="utf-8")


def _run_steps(options: CellOptions, result: CellResult) -> None:
    prepare_workdir(options.workdir)
    tree = options.workdir / "tree"
    print(f"[matrix] copying {options.tree} to {tree}", flush=True)
    copy_tree(options.tree, tree)
    component = tree / options.component
    if not component.is_dir():
        raise MatrixError(f"no folder {options.component!r} in {options.tree}")
    settings = load_settings(options.component, tree=options.tree, config=options.config,
                             env_allow=options.env_allow)
    plan = build_plan(component, tree, settings, provided=options.provided, workspace=options.workspace)
    result.notes += _plan_notes(plan)
    if options.install:
        result.notes += install(plan, settings, options)
    else:
        result.notes.append(f"nothing installed (--no-install): {sys.executable}'s environment as it is")
    selection = test_selection(component, settings)
    env = _test_env(plan, options, tree)
    before = run_tests("before", component, selection, env, options, settings.timeout)
    problems = migrate(component, options)
    result.notes += problems.notes
    after = run_tests("after", component, selection, env, options, settings.timeout)
    _compare_and_note(before, after, settings, result, strict=options.strict)
    if not before and not after:
        result.verdict = "no tests"
        ignored = f" ({', '.join(s.removeprefix('--ignore=') for s in selection)}/ not counted as tests)"
        result.notes.insert(0, f"no tests: pytest collects no test in {options.component}"
                               f"{ignored if selection and not settings.tests else ''}; install and migration ran")
    if problems.failures:
        result.verdict = "BROKEN"
        result.notes += [f"migration failed: {p}" for p in problems.failures]
