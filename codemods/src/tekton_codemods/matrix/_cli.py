"""``python -m tekton_codemods.matrix run …``: one component × Python cell of the component matrix."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ._plan import PlanError, parse_provide
from ._run import CellOptions, run_cell

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tekton_codemods.matrix",
        description="Test one component of a tree before and after `tekton-migrate`, in this Python environment, "
        "and print one table row with the parity verdict.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="copy the whole tree, install the component, test, migrate, test again")
    run.add_argument("--tree", type=Path, required=True, help="the tree (a Tekton checkout, or the samples' folder)")
    run.add_argument("--component", required=True, help="the component's folder name in the tree (e.g. Hermes)")
    run.add_argument("--workdir", type=Path, required=True,
                     help="work folder (emptied first, kept afterwards: copy, logs, reports, result.json)")
    run.add_argument("--uv", default=os.environ.get("UV") or shutil.which("uv"),
                     help="uv executable (default: $UV, else uv on PATH)")
    run.add_argument("--provide", action="append", default=[], metavar="NAME[EXTRAS]=PATH",
                     help="a distribution this workspace provides, whatever version the component asks for")
    run.add_argument("--with", dest="workspace", action="append", default=[], metavar="REQUIREMENT",
                     help="an extra requirement every cell needs (the test runner, the shims)")
    run.add_argument("--config", type=Path, default=os.environ.get("TEKTON_MATRIX_CONFIG") or None,
                     help="TOML file with [tool.tekton-migrate.matrix] (default: the tree's pyproject.toml)")
    run.add_argument("--no-install", dest="install", action="store_false",
                     help="install nothing: test in this environment as it is")
    run.add_argument("--strict", action="store_true",
                     help="every test must pass after the migration (not only those that passed before)")
    run.add_argument("--python-label", default=f"{sys.version_info.major}.{sys.version_info.minor}")
    run.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.install and not args.uv:
        print("matrix: uv is required (pip install uv, or nox[uv]); none on PATH and --uv not given", file=sys.stderr)
        return 2
    if not args.tree.is_dir():
        print(f"matrix: --tree {args.tree} is not a folder", file=sys.stderr)
        return 2
    try:
        provided = [parse_provide(text) for text in args.provide]
    except PlanError as error:
        print(f"matrix: {error}", file=sys.stderr)
        return 2
    allow = tuple(n.strip() for n in os.environ.get("TEKTON_MATRIX_ALLOW", "").split(",") if n.strip())
    options = CellOptions(
        tree=args.tree.resolve(), component=args.component, workdir=args.workdir.resolve(), uv=args.uv or "uv",
        provided=provided, workspace=list(args.workspace), config=args.config, env_allow=allow,
        pytest_args=tuple(args.pytest_args), python=args.python_label, strict=args.strict,
        install=args.install,
    )
    return run_cell(options).exit_code
