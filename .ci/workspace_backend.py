"""The workspace root's build backend: the root is a uv workspace, not a package, so building it is refused.

Without this, ``pip install -e .`` at the root fell back to setuptools, which failed with "Multiple top-level
packages discovered". uv never calls this backend (the root sets ``tool.uv.package = false``); pip and ``python -m
build`` get one clear message instead of a setuptools traceback.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

MESSAGE = """
The workspace root is not a package: it gathers three distributions (a uv workspace).
  development environment:  uv sync   (all three, editable, plus the dev tools, in .venv)
  with pip instead:          pip install -e "packages/tekton-llm-client[testing,yaml,tokens]" \\
                                         -e "shims[service]" -e codemods
  the checks:                nox       (see README.md)
"""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    print(MESSAGE, file=sys.stderr)
    raise SystemExit("the workspace root cannot be built or installed; see the message above")


get_requires_for_build_wheel = get_requires_for_build_sdist = get_requires_for_build_editable = _refuse
prepare_metadata_for_build_wheel = prepare_metadata_for_build_editable = _refuse
build_wheel = build_sdist = build_editable = _refuse
