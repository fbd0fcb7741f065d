"""Check that every direct dependency is installed at exactly the lower bound its distribution declares.

Run inside the environment the ``lowest`` nox session resolved with ``uv pip install --resolution lowest-direct``:

    python .ci/check_floors.py "tekton-llm-client[testing,yaml,tokens]" "tekton-llm-shims[service]" tekton-codemods

A dependency installed above its floor means the floor cannot be reached (another requirement lifts it), so the
declared range is a claim nobody tested: raise the floor. Prints one line per dependency; exits 1 on any mismatch.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def floor(requirement: Requirement) -> Version | None:
    """The lowest version a requirement admits (``>=``, ``==`` or ``~=``), or None when it names no lower bound."""
    bounds = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=", "===")]
    return max(bounds) if bounds else None


def direct_requirements(spec: str) -> list[Requirement]:
    """The requirements of an installed distribution that apply here, for the extras named in ``spec``."""
    wanted = Requirement(spec)
    found: list[Requirement] = []
    for text in metadata.requires(wanted.name) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None:
            found.append(requirement)
            continue
        # A requirement belongs when its marker holds for no extra (a plain environment marker) or for one we asked for.
        if any(marker.evaluate({"extra": extra}) for extra in ("", *sorted(wanted.extras))):
            found.append(requirement)
    return found


def check(specs: list[str]) -> list[str]:
    """One report line per direct dependency; problems start with ``FAIL``."""
    lines: list[str] = []
    for spec in specs:
        for requirement in direct_requirements(spec):
            lowest = floor(requirement)
            try:
                installed = Version(metadata.version(requirement.name))
            except metadata.PackageNotFoundError:
                lines.append(f"FAIL {spec}: {requirement} is not installed")
                continue
            if lowest is None:
                lines.append(f"FAIL {spec}: {requirement} declares no lower bound (installed {installed})")
            elif installed != lowest:
                lines.append(f"FAIL {spec}: {requirement} resolved to {installed}, above its floor {lowest}")
            else:
                name = canonicalize_name(requirement.name)
                lines.append(f"ok   {spec}: {name}=={installed} ({requirement.specifier})")
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    lines = check(argv)
    print("\n".join(lines))
    failures = [line for line in lines if line.startswith("FAIL")]
    if failures:
        print(f"check_floors: {len(failures)} dependency floor(s) not reached", file=sys.stderr)
        return 1
    print(f"check_floors: all {len(lines)} direct dependencies installed at their floors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
