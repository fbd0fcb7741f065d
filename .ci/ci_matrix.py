"""Turn ``nox -l --json`` (the default sessions) into a GitHub Actions matrix: one job per session × Python.

    nox -l --json | python .ci/ci_matrix.py --exclude js --expect-python 3.10 --expect-python 3.13

prints ``{"include": [{"session": ..., "python": ..., "name": ...}, ...]}``; with ``--github-output FILE`` (the
workflow passes ``$GITHUB_OUTPUT``) it also appends ``matrix=<that JSON>`` to FILE. A session nox lists without a
Python (``python=None``) runs on ``--default-python``. It fails, rather than handing CI a smaller matrix, when nox
listed nothing, when a Python given with ``--expect-python`` is missing (the generating runner lacked that
interpreter, so its sessions silently vanished), or when an ``--exclude``d session does not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


class MatrixError(ValueError):
    """The session listing cannot become a complete matrix."""


def build_matrix(
    sessions: list[dict[str, Any]],
    *,
    exclude: Sequence[str] = (),
    expect_pythons: Sequence[str] = (),
    default_python: str = "3.12",
) -> dict[str, list[dict[str, str]]]:
    """The ``include`` list for ``strategy.matrix``, in nox's order."""
    if not isinstance(sessions, list) or not sessions:
        raise MatrixError("nox listed no sessions (is this the workspace root, with noxfile.py?)")
    names = {entry["name"] for entry in sessions}
    unknown = sorted(set(exclude) - names)
    if unknown:
        raise MatrixError(f"--exclude names sessions nox does not list: {', '.join(unknown)}")
    include: list[dict[str, str]] = []
    for entry in sessions:
        if entry["name"] in exclude:
            continue
        python = entry.get("python")
        if isinstance(python, list):  # nox lists one entry per Python; a list here means the noxfile changed shape
            raise MatrixError(f"session {entry['session']!r} lists several Pythons {python}; expected one per entry")
        python = str(python) if python else default_python
        include.append({"session": entry["session"], "python": python, "name": f"{entry['session']} · py{python}"})
    seen = {item["python"] for item in include}
    missing = [version for version in expect_pythons if version not in seen]
    if missing:
        raise MatrixError(
            f"no session runs on Python {', '.join(missing)}: the runner that listed the sessions lacks it "
            "(install every Python the noxfile tests before running nox -l --json)"
        )
    return {"include": include}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ci_matrix.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=argparse.FileType("r"), default=sys.stdin, help="nox -l --json output")
    parser.add_argument("--exclude", action="append", default=[], metavar="SESSION", help="leave a session out")
    parser.add_argument("--expect-python", action="append", default=[], metavar="X.Y", help="must appear")
    parser.add_argument("--default-python", default="3.12", metavar="X.Y")
    parser.add_argument("--github-output", metavar="FILE", help="append matrix=<json> to this file")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        sessions = json.load(args.input)
    except json.JSONDecodeError as exc:
        parser.error(f"the input is not nox -l --json output: {exc}")
    try:
        matrix = build_matrix(
            sessions, exclude=args.exclude, expect_pythons=args.expect_python, default_python=args.default_python
        )
    except (MatrixError, KeyError, TypeError) as exc:
        print(f"ci_matrix: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(matrix, separators=(",", ":"))
    print(text, file=stdout)
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as out:
            out.write(f"matrix={text}\n")
    print(f"ci_matrix: {len(matrix['include'])} jobs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
