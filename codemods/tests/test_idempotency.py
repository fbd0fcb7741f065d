"""A second run over a migrated tree changes nothing, for every form the codemod rewrites."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tekton_codemods import rewrite_source

EVERY_FORM = {
    "terma/api/app.py": (
        "async def providers():\n    from ..core.llm_adapter import LLMAdapter, Config\n    return LLMAdapter()\n"
    ),
    "terma/core/service.py": "from . import llm_adapter as m\nfrom .llm_adapter import *\nm.LLMAdapter()\n",
    "hermes/api/app.py": (
        "import os\nfrom hermes.core.llm_adapter import (\n    LLMAdapter,  # c\n    logger,\n)\n"
        "import hermes.core.llm_adapter\nx = hermes.core.llm_adapter.LLMAdapter()\n"
    ),
    "engram/tests/test_x.py": (
        "import importlib\nfrom unittest import mock\n"
        "mock.patch('engram.core.llm_adapter.LLMAdapter.chat')\n"
        "import engram.core.llm_adapter as e\ne.LLMAdapter\n"
    ),
    "telos/api/app.py": "from telos.core import llm_adapter as llm, requirements\nllm.LLMAdapter()\n",
}


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.py"))}


def test_second_run_changes_nothing(tree, cli) -> None:
    root = tree(EVERY_FORM)
    for package in ("terma.api", "terma.core", "hermes.api", "engram.tests", "telos.api"):
        tree({}, package=package, root=root)
    first = cli("rewrite", root)
    assert first.code == 0
    assert first.summary[2] == len(EVERY_FORM)
    after_first = _digest(root)
    second = cli("rewrite", root)
    assert second.code == 0
    assert second.summary[2] == 0
    assert _digest(root) == after_first
    check = cli("rewrite", "--check", root)
    assert check.code == 0


def test_rewrite_source_is_a_fixed_point() -> None:
    for source in EVERY_FORM.values():
        once = rewrite_source(source, package="hermes.api").new_source
        twice = rewrite_source(once, package="hermes.api")
        assert not twice.changed
        assert twice.new_source == once
