"""Check built distributions before anyone publishes them: what each wheel and sdist contains, and its metadata.

    python .ci/check_dists.py dist/*.whl dist/*.tar.gz

Per wheel: exactly its own top-level package, ``py.typed`` inside it, the LICENSE under ``.dist-info/licenses``,
nothing from tests, benchmarks, demos, caches or bytecode; metadata with the MIT license expression, a Markdown
readme, authors, project URLs, Requires-Python and classifiers that exist (``trove-classifiers``) and name every
Python the workspace tests; telemetry optional (OpenTelemetry's API only behind the ``otel`` extra, its SDK never
required). Per sdist: pyproject.toml, README.md and LICENSE, no caches or node_modules.
twine checks the rest (``twine check --strict``). Exits 1 listing every problem.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

# Distribution name -> its one import package.
PACKAGES = {
    "tekton_llm_client": "tekton_llm_client",
    "tekton_llm_shims": "tekton_llm_shims",
    "tekton_codemods": "tekton_codemods",
}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
REQUIRED_CLASSIFIERS = (
    "License :: OSI Approved :: MIT License",
    "Typing :: Typed",
    "Programming Language :: Python :: 3 :: Only",
    *(f"Programming Language :: Python :: {version}" for version in PYTHONS),
)
# Path parts that never belong in a distribution (sdists keep their tests; wheels keep neither).
NEVER = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules", ".nox", ".venv", ".git"}
NOT_IN_WHEEL = {"tests", "test", "benchmarks", "demo", "conftest.py"}


# Distributions that offer the ``otel`` extra (issue 14: telemetry is optional and the extra brings the API only).
OTEL_EXTRA = {"tekton_llm_client", "tekton_llm_shims"}


def _dist_name(path: Path) -> str:
    return path.name.split("-", 1)[0]


def check_metadata(meta: Message, where: str) -> list[str]:
    problems: list[str] = []
    if meta.get("License-Expression") != "MIT":
        problems.append(f"{where}: License-Expression is {meta.get('License-Expression')!r}, not 'MIT'")
    if "LICENSE" not in meta.get_all("License-File", []):
        problems.append(f"{where}: no License-File: LICENSE")
    if meta.get("Description-Content-Type") != "text/markdown":
        problems.append(f"{where}: the readme is not declared as Markdown")
    body = meta.get_payload()
    if not isinstance(body, str) or len(body.strip()) < 200:
        problems.append(f"{where}: the long description (README) is missing or a stub")
    if not (meta.get("Author") or meta.get("Author-email")):
        problems.append(f"{where}: no author")
    urls = meta.get_all("Project-URL", [])
    if not any(url.startswith(("Repository,", "Homepage,")) for url in urls):
        problems.append(f"{where}: no Homepage/Repository project URL (has {urls})")
    if meta.get("Requires-Python") != f">={PYTHONS[0]}":
        problems.append(f"{where}: Requires-Python is {meta.get('Requires-Python')!r}, not '>={PYTHONS[0]}'")
    classifiers = meta.get_all("Classifier", [])
    problems += [f"{where}: missing classifier {c!r}" for c in REQUIRED_CLASSIFIERS if c not in classifiers]
    try:
        from trove_classifiers import classifiers as known
    except ImportError:  # pragma: no cover - the build session installs it
        problems.append(f"{where}: trove-classifiers is not installed, classifiers cannot be checked")
    else:
        problems += [f"{where}: unknown classifier {c!r}" for c in classifiers if c not in known]
    return problems


def check_telemetry_optional(meta: Message, where: str, dist: str) -> list[str]:
    """OpenTelemetry stays optional: the API only under an extra, the SDK (the application's choice) never."""
    from packaging.requirements import Requirement

    problems: list[str] = []
    for text in meta.get_all("Requires-Dist", []):
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        if not name.startswith("opentelemetry-"):
            continue
        if name != "opentelemetry-api":
            problems.append(
                f"{where}: requires {text!r}; only opentelemetry-api may be required (the SDK is the user's)"
            )
        elif requirement.marker is None or "extra" not in str(requirement.marker):
            problems.append(f"{where}: requires {text!r} unconditionally; it belongs behind the otel extra")
    if dist in OTEL_EXTRA and "otel" not in meta.get_all("Provides-Extra", []):
        problems.append(f"{where}: no 'otel' extra (Provides-Extra)")
    return problems


def check_wheel(path: Path) -> list[str]:
    dist = _dist_name(path)
    package = PACKAGES.get(dist)
    if package is None:
        return [f"{path.name}: unknown distribution {dist!r} (expected one of {sorted(PACKAGES)})"]
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        info = next((n for n in names if re.fullmatch(rf"{dist}-[^/]+\.dist-info/METADATA", n)), None)
        meta = HeaderParser().parsestr(wheel.read(info).decode()) if info else None
    problems: list[str] = []
    tops = {PurePosixPath(n).parts[0] for n in names if not PurePosixPath(n).parts[0].endswith(".dist-info")}
    if tops != {package}:
        problems.append(f"{path.name}: top-level entries {sorted(tops)}, expected only {package!r}")
    if f"{package}/py.typed" not in names:
        problems.append(f"{path.name}: {package}/py.typed is missing (type checkers would ignore the annotations)")
    if not any(re.fullmatch(r"[^/]+\.dist-info/licenses/LICENSE", n) for n in names):
        problems.append(f"{path.name}: the LICENSE file is not shipped in .dist-info/licenses/")
    for name in names:
        parts = set(PurePosixPath(name).parts)
        if parts & (NEVER | NOT_IN_WHEEL) or name.endswith((".pyc", ".pyo")) or PurePosixPath(name).name.startswith(
            "test_"
        ):
            problems.append(f"{path.name}: must not contain {name}")
    if meta is None:
        problems.append(f"{path.name}: no METADATA")
    else:
        problems += check_metadata(meta, path.name)
        problems += check_telemetry_optional(meta, path.name, dist)
    return problems


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as sdist:
        names = [PurePosixPath(m.name) for m in sdist.getmembers()]
    problems: list[str] = []
    roots = {n.parts[0] for n in names}
    if len(roots) != 1:
        return [f"{path.name}: expected one top-level folder, found {sorted(roots)}"]
    relative = {PurePosixPath(*n.parts[1:]).as_posix() for n in names if len(n.parts) > 1}
    required = ("pyproject.toml", "README.md", "LICENSE")
    problems += [f"{path.name}: {name} is missing" for name in required if name not in relative]
    for name in sorted(relative):
        if set(PurePosixPath(name).parts) & NEVER or name.endswith((".pyc", ".pyo")):
            problems.append(f"{path.name}: must not contain {name}")
    return problems


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    wheels = [p for p in paths if p.suffix == ".whl"]
    sdists = [p for p in paths if p.name.endswith(".tar.gz")]
    problems = [f"{p}: neither a wheel nor an sdist" for p in paths if p not in wheels and p not in sdists]
    for wheel in wheels:
        problems += check_wheel(wheel)
    for sdist in sdists:
        problems += check_sdist(sdist)
    built = {_dist_name(p) for p in wheels}
    problems += [f"no wheel of {dist} was given" for dist in sorted(set(PACKAGES) - built)]
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print(f"check_dists: {len(wheels)} wheels and {len(sdists)} sdists have the expected contents and metadata")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
