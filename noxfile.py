"""Every check of the workspace, as nox sessions.

Default sessions (what CI runs): lint, typecheck, tests-client, tests-codemods, tests-shims, lowest, build,
components, js. tests-client and tests-shims run twice: ``(plain)`` without OpenTelemetry, ``(otel)`` with the
``[otel]`` extra and opentelemetry-sdk (pytest markers ``otel``/``no_otel`` pick the tests for each).
On demand: ``nox -s demo`` (the migration demo, the README's first command) and ``nox -s bench``.

``TEKTON_ROOT=/path/to/Tekton`` points the component sessions at a real Tekton checkout (folders Terma, Hermes,
Telos, Engram) instead of the sample components in ``components/``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CLIENT = ROOT / "packages" / "tekton-llm-client"
JS = ROOT / "packages" / "tekton-llm-client-js"
SHIMS = ROOT / "shims"
CODEMODS = ROOT / "codemods"
COMPONENTS = ("terma", "hermes", "telos", "engram")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# pytest 8.3.4: before it, --import-mode=importlib cannot import a test folder's helper module by a relative import
# (tests/client/test_telemetry.py: from .telemetry_sdk import ...); 8.3.0–8.3.3 fail there with ModuleNotFoundError.
DEV = ("pytest>=8.3.4", "pytest-asyncio>=0.25")
# The telemetry tests' in-memory span exporter and metric reader. A test dependency only: the [otel] extra brings the
# API, and the SDK is the application's choice. Its floor is the [otel] extra's (the SDK pins the API exactly).
OTEL_TEST = ("opentelemetry-sdk>=1.30",)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "lint", "typecheck", "tests-client", "tests-codemods", "tests-shims", "lowest", "build", "components", "js"
]


def _works(exe: str) -> bool:
    try:
        return subprocess.run([exe, "-c", "import sys"], capture_output=True, timeout=20, check=False).returncode == 0
    except OSError:
        return False


def _find_interpreters() -> tuple[list[str], list[str]]:
    """Pythons 3.10–3.13 on this machine (pyenv versions, then PATH); their folders go first on PATH so nox and uv
    find them (a pyenv shim for an inactive version is on PATH but does not run, so each candidate is tried)."""
    found: list[str] = []
    missing: list[str] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for version in PYTHONS:
        candidates = sorted(glob.glob(str(pyenv_root / "versions" / f"{version}.*" / "bin" / f"python{version}")))
        on_path = shutil.which(f"python{version}")
        exe = next((c for c in [*reversed(candidates), on_path] if c and _works(c)), None)
        if exe is None:
            missing.append(version)
            continue
        found.append(version)
        os.environ["PATH"] = f"{Path(exe).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return found, missing


# Interpreters come from this machine only: uv must never try to download one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
os.environ.setdefault("UV_PYTHON_PREFERENCE", "only-system")
AVAILABLE, MISSING = _find_interpreters()
DEFAULT_PYTHON = "3.11" if "3.11" in AVAILABLE else (AVAILABLE[-1] if AVAILABLE else None)


def _install_client(session: nox.Session, *extras: str, editable: bool = True) -> None:
    spec = f"{CLIENT}[{','.join(extras)}]" if extras else str(CLIENT)
    if editable:
        session.install("-e", spec)
    else:
        session.install(spec)


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("pytest", *paths, *session.posargs)


# fastapi 0.142 and later require opentelemetry-api and import it with fastapi itself, so the test server (fastapi)
# would bring OpenTelemetry into every test environment. The plain sessions hold fastapi below that (the floor
# session tests 0.110, the otel sessions the newest), so "OpenTelemetry absent" is really absent there.
PLAIN_PINS = ("fastapi<0.142",)
_OTEL_DISTRIBUTIONS = (
    "from importlib import metadata; print(' '.join(sorted({d.metadata['Name'] for d in metadata.distributions() "
    "if (d.metadata['Name'] or '').lower().startswith('opentelemetry')})))"
)
_OTEL_ABSENT = (
    "import importlib.util, sys; sys.exit("
    "'opentelemetry is still importable in this plain session: recreate it with nox -r' "
    "if importlib.util.find_spec('opentelemetry') else 0)"
)


def _install_suite(session: nox.Session, otel: bool, *specs: str) -> tuple[str, ...]:
    """Install ``specs`` (pip arguments) for one telemetry state; return its pytest marker selection (contract 3).

    ``otel``: with opentelemetry-sdk (the specs name the ``[otel]`` extras); every test but the ``no_otel`` ones.
    plain: no OpenTelemetry at all — fastapi held below the release that requires it, and any ``opentelemetry-*``
    left in a reused venv by an earlier fastapi removed, then checked; every test but the ``otel`` ones.
    """
    if otel:
        session.install(*specs, *OTEL_TEST)
        return ("-m", "not no_otel")
    session.install(*specs, *PLAIN_PINS)
    leftovers = str(session.run("python", "-c", _OTEL_DISTRIBUTIONS, silent=True) or "").split()
    uv = _uv()
    if leftovers and uv and session.venv_backend == "uv":
        session.run(uv, "pip", "uninstall", "--python", str(Path(session.bin) / "python"), *leftovers, external=True)
    elif leftovers:
        session.run("python", "-m", "pip", "uninstall", "--yes", *leftovers)
    session.run("python", "-c", _OTEL_ABSENT, silent=True)
    return ("-m", "not otel")


CI_SCRIPTS = ROOT / ".ci"
WORKFLOWS = ROOT / ".github" / "workflows"


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the workspace; the GitHub Actions workflow against GitHub's schema (check-jsonschema, vendored) and
    zizmor's audits; the CI scripts' tests (the matrix generation among them)."""
    session.install("ruff>=0.8", "check-jsonschema>=0.33", "zizmor>=1.10", "nox>=2025.2.9", "packaging>=24",
                    "trove-classifiers>=2024.10", *DEV)
    session.run("ruff", "check", ".")
    workflows = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    if not workflows:
        session.error(f"no workflow in {WORKFLOWS}")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("zizmor", "--offline", "--min-severity", "low", *workflows)
    session.run("pytest", "-q", "-p", "no:cacheprovider", str(CI_SCRIPTS / "tests"), *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the three distributions (OpenTelemetry's API installed: telemetry is checked on its types)."""
    session.install("mypy>=1.13", *DEV)
    _install_client(session, "testing", "yaml", "otel")
    session.install("-e", str(SHIMS) + "[service,otel]", "-e", str(CODEMODS))
    session.run("mypy")


OTEL_STATES = nox.parametrize("otel", [False, True], ids=["plain", "otel"])


@nox.session(name="tests-client", python=DEFAULT_PYTHON)
@OTEL_STATES
def tests_client(session: nox.Session, otel: bool) -> None:
    """The client's own suite (real sockets against the Rhetor test server), plain / with OpenTelemetry.

    ``(plain)``: no OpenTelemetry installed, ``-m "not otel"``; ``(otel)``: the [otel] extra and opentelemetry-sdk
    (in-memory span exporter and metric reader), ``-m "not no_otel"``.
    """
    extras = "testing,yaml,tokens,otel" if otel else "testing,yaml,tokens"
    selection = _install_suite(session, otel, *DEV, "-e", f"{CLIENT}[{extras}]")
    _pytest(session, *selection, str(CLIENT / "tests"))


@nox.session(name="tests-codemods", python=DEFAULT_PYTHON)
def tests_codemods(session: nox.Session) -> None:
    """The codemods' suite (before/after pairs on real files, stdlib corpus)."""
    session.install(*DEV)
    session.install("-e", str(CODEMODS))
    _pytest(session, str(CODEMODS / "tests"))


@nox.session(name="tests-shims", python=DEFAULT_PYTHON)
@OTEL_STATES
def tests_shims(session: nox.Session, otel: bool) -> None:
    """The shims' suite and the LLM Adapter service app, end to end against the test server, plain / with OpenTelemetry.

    ``(plain)`` and ``(otel)`` as for tests-client; the otel run checks the shim-call counter and span attributes.
    """
    client, shims = (f"{CLIENT}[testing,yaml,otel]", f"{SHIMS}[service,otel]") if otel else (
        f"{CLIENT}[testing,yaml]", f"{SHIMS}[service]"
    )
    # tekton-codemods too: the shims' names are checked against `tekton-migrate inventory --json`'s.
    selection = _install_suite(session, otel, *DEV, "-e", client, "-e", shims, "-e", str(CODEMODS))
    _pytest(session, *selection, str(SHIMS / "tests"))


# Direct dependencies at their floors (the otel extra's too); the DEV and OTEL_TEST floors as well, since the
# documented test setup installs them.
LOWEST_SPECS = ("tekton-llm-client[testing,yaml,tokens,otel]", "tekton-llm-shims[service,otel]", "tekton-codemods")
LOWEST = (f"{CLIENT}[testing,yaml,tokens,otel]", f"{SHIMS}[service,otel]", str(CODEMODS))


@nox.session(python=PYTHONS[0], reuse_venv=False)
def lowest(session: nox.Session) -> None:
    """The three distributions at the lowest versions their pyprojects allow (uv --resolution lowest-direct), on
    the oldest Python: each floor is checked to be reachable, then the client, codemods and shims suites run with
    UserWarnings as errors (a floor that warns at import is not a floor). OpenTelemetry is in, at its floor (the
    [otel] extra's API and the SDK the tests use), so the suites run their ``otel`` tests, not the ``no_otel`` ones."""
    if session.venv_backend != "uv":
        session.error("the lowest session needs nox's uv backend (--resolution lowest-direct): pip install 'nox[uv]'")
    editable = [arg for spec in LOWEST for arg in ("-e", spec)]
    session.install("--resolution", "lowest-direct", *editable, *DEV, *OTEL_TEST)
    session.run("python", str(CI_SCRIPTS / "check_floors.py"), *LOWEST_SPECS)
    for suite in (CLIENT / "tests", CODEMODS / "tests", SHIMS / "tests"):
        session.run(
            "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::UserWarning", "-m", "not no_otel", str(suite),
            *session.posargs,
        )


@nox.session(python=DEFAULT_PYTHON, reuse_venv=False)  # fresh: same-version wheels from an earlier run must not stay
def build(session: nox.Session) -> None:
    """sdist + wheel of the three distributions (the wheel built from the sdist), twine check --strict, and the
    contents and metadata each must have (.ci/check_dists.py: py.typed, LICENSE, no tests or benchmarks); then the
    wheels installed together, imported, and their command lines run."""
    session.install("build[uv]>=1.2", "twine>=6.1", "trove-classifiers>=2024.10", "packaging>=24")
    with tempfile.TemporaryDirectory(prefix="tekton-dist-") as out:
        for project in (CLIENT, SHIMS, CODEMODS):
            session.run("python", "-m", "build", "--installer", "uv", "--outdir", out, str(project), silent=True)
        dists = sorted(str(path) for path in Path(out).iterdir())
        session.run("twine", "check", "--strict", *dists)
        session.run("python", str(CI_SCRIPTS / "check_dists.py"), *dists)
        # The wheels as a user gets them: installed together (not editable), imported, the CLIs answering.
        wheels = [Path(path) for path in dists if path.endswith(".whl")]
        session.install(*(
            f"tekton-llm-client[testing,otel] @ {wheel.as_uri()}" if wheel.name.startswith("tekton_llm_client-")
            else str(wheel)
            for wheel in wheels
        ))
        session.run(
            "python", "-c", "import tekton_llm_client.telemetry, tekton_llm_shims.hermes, tekton_codemods.cli"
        )
        session.run("tekton-migrate", "--help", silent=True)
        session.run("python", "-m", "tekton_llm_client.testing", "--help", silent=True)


def _component_source(name: str) -> tuple[Path, str] | None:
    """(tree, folder) of a component: ``Hermes`` in the ``TEKTON_ROOT`` checkout, else the sample ``hermes``."""
    tekton_root = os.environ.get("TEKTON_ROOT")
    if tekton_root:
        tree = Path(tekton_root).expanduser().resolve()
        return (tree, name.capitalize()) if (tree / name.capitalize()).is_dir() else None
    return ROOT / "components", name


def _uv() -> str | None:
    """The uv nox itself uses (``nox[uv]``), else one on PATH."""
    found = getattr(nox.virtualenv, "UV", None) if getattr(nox.virtualenv, "HAS_UV", False) else None
    return found or shutil.which("uv")


def migrate_copy(session: nox.Session, name: str, workdir: Path) -> None:
    """Test one component before and after ``tekton-migrate`` on a scratch copy of its whole tree, in ``workdir``.

    The work is ``python -m tekton_codemods.matrix run`` inside the session's virtualenv (install plan, parity per
    test id, the closing table row; see MIGRATION.md §2.2). ``workdir`` is kept: failures name files in it.
    """
    found = _component_source(name)
    if found is None:
        session.skip(f"{name}: no {name.capitalize()} folder under TEKTON_ROOT={os.environ.get('TEKTON_ROOT')}")
    tree, folder = found
    uv = _uv()
    if uv is None:
        session.error("the component matrix needs uv (install nox[uv], or put uv on PATH)")
    session.install("-e", str(CODEMODS))  # editable: uv's cache could hold a wheel older than the source
    shutil.rmtree(workdir, ignore_errors=True)  # the session's own tmp: the last run's copy and logs
    provide = [f"tekton-llm-client[testing,yaml]={CLIENT}", f"tekton-llm-shims={SHIMS}", f"tekton-codemods={CODEMODS}"]
    session.run(
        "python", "-m", "tekton_codemods.matrix", "run", "--tree", str(tree), "--component", folder,
        "--workdir", str(workdir), "--uv", uv, "--python-label", str(session.python),
        *(f"--provide={item}" for item in provide), *(f"--with={item}" for item in DEV),
        *([] if os.environ.get("TEKTON_ROOT") else ["--strict"]),  # the samples must pass in full after migration
        "--", *session.posargs,
    )


def _matrix_banner() -> str:
    return f"component matrix on Python {', '.join(AVAILABLE) or 'none'}" + (
        f"; skipped (not on this machine): {', '.join(MISSING)}" if MISSING else "; none skipped"
    )


@nox.session(python=AVAILABLE or None)
@nox.parametrize("component", COMPONENTS)
def components(session: nox.Session, component: str) -> None:
    """Per component × Python: its tests before and after tekton-migrate (rewrite + cleanup --write) on a copy of
    the whole tree, parity per test id, one table row. Samples by default; ``TEKTON_ROOT`` for a real checkout."""
    session.log(_matrix_banner())
    migrate_copy(session, component, Path(session.create_tmp()) / "matrix")


@nox.session(python=DEFAULT_PYTHON)
def js(session: nox.Session) -> None:
    """The JavaScript client's node:test suites and the headless-Chromium test, against the Python test server."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        session.error("node and npm are required for the js session (Node.js >= 20)")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(node.lstrip("v").split(".")[0] or 0) < 20:
        session.error(f"the JS client supports Node.js >= 20 (package.json engines); this is {node or 'unknown'}")
    session.log(f"js: Node.js {node}")
    _install_client(session, "testing")
    python = Path(session.virtualenv.location) / "bin" / "python"
    # The browser test drives this binary; test/browser.test.js reads the same variable with the same default.
    chromium = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    missing = None if Path(chromium).exists() else (
        f"the headless-Chromium test is SKIPPED: {chromium} does not exist "
        "(apt-get install chromium, or set CHROMIUM_PATH to a Chromium or Chrome binary)"
        + ("; under CI=true it fails instead" if os.environ.get("CI") else "")
    )
    if missing:
        session.warn(f"js: {missing}")
    session.chdir(str(JS))
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("npm", "test", external=True, env={"TEKTON_PYTHON": str(python), "CHROMIUM_PATH": chromium})
    if missing:
        session.warn(f"js: node suites ran; {missing}")


# The client before issue 14's telemetry hook: the bench's T1 rows compare against it (a temporary git worktree).
BENCH_BASELINE_REF = "391e426"


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks P1–P5, telemetry cost (T1, T2) and the rate limit at concurrency 50 (R1): tables of ratios
    measured in one run. ``BENCH_BASELINE_REF`` (default 391e426) is the client the telemetry-absent rows compare
    with; ``BENCH_BASELINE_REF=`` (empty) skips that comparison."""
    session.install("rich>=13.7", "libcst>=1.4", *OTEL_TEST)
    _install_client(session, "testing", "otel")
    session.install("-e", str(SHIMS), "-e", str(CODEMODS))
    # Bytecode as a pip install leaves it: uv does not compile on install, and where PYTHONDONTWRITEBYTECODE is set
    # nothing is ever cached, so every timed run would include compiling libcst, pydantic and httpx from source.
    site = session.run("python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", silent=True)
    sources = [str(path / "src") for path in (CLIENT, SHIMS, CODEMODS)]
    session.run("python", "-m", "compileall", "-q", "-j", "0", str(site).strip(), *sources, silent=True)
    baseline = os.environ.get("BENCH_BASELINE_REF", BENCH_BASELINE_REF)
    session.env["BENCH_BASELINE_REF"] = baseline
    if not baseline:
        session.log("bench: BENCH_BASELINE_REF is empty: no comparison with the client before the telemetry hook")
    for script in (
        CLIENT / "benchmarks" / "bench_client.py",
        CODEMODS / "benchmarks" / "bench_rewrite.py",
        SHIMS / "benchmarks" / "bench_shims.py",
    ):
        if script.is_file():
            session.run("python", str(script), *session.posargs)
        else:
            session.warn(f"benchmark {script.relative_to(ROOT)} is missing")


@nox.session(python=DEFAULT_PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: migrate the sample components onto the shims and test them against a live Rhetor test server.
    ``nox -s demo -- --keep`` keeps the scratch folder (it is always kept when something failed)."""
    # opentelemetry-sdk: the demo counts the legacy calls the migrated samples still make (tekton.shim.calls).
    session.install(*DEV, "rich>=13.7", *OTEL_TEST)
    # Editable: uv's cache keys a local build on pyproject.toml only, so a plain install could run stale code.
    session.install("-e", f"{CLIENT}[testing,yaml,otel]", "-e", f"{SHIMS}[otel]", "-e", str(CODEMODS))
    session.run("python", str(ROOT / "codemods" / "demo" / "migration_demo.py"), *session.posargs,
                env={"PYTHONUNBUFFERED": "1", "TEKTON_DEMO_SOURCE": str(ROOT / "components")})


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run with: nox")
