"""Relative imports, resolved against the file's real package (``__init__.py`` chain or ``--source-root``)."""

from __future__ import annotations

import pytest

CASES = {
    "two-dots-in-async-def": (
        "terma.api",
        "async def get_llm_providers():\n    from ..core.llm_adapter import LLMAdapter\n\n    return LLMAdapter()\n",
        "async def get_llm_providers():\n"
        "    from tekton_llm_shims.terma import LLMAdapter\n\n    return LLMAdapter()\n",
    ),
    "one-dot-sibling": (
        "hermes.core",
        "from .llm_adapter import LLMAdapter as A  # sibling\n",
        "from tekton_llm_shims.hermes import LLMAdapter as A  # sibling\n",
    ),
    "dot-import-module": (
        "engram.core",
        "from . import llm_adapter\n\nllm_adapter.LLMAdapter()\n",
        "from tekton_llm_shims import engram as llm_adapter\n\nllm_adapter.LLMAdapter()\n",
    ),
    "dot-import-module-as-alias-among-siblings": (
        "engram.core",
        "from . import memory, llm_adapter as m\n",
        "from tekton_llm_shims import engram as m\nfrom . import memory\n",
    ),
    "two-dots-import-module": (
        "telos.api",
        "from ..core import llm_adapter as llm\n",
        "from tekton_llm_shims import telos as llm\n",
    ),
    "three-dots-from-deeper-package": (
        "terma.api.routes",
        "from ...core.llm_adapter import LLMAdapter\n",
        "from tekton_llm_shims.terma import LLMAdapter\n",
    ),
}


@pytest.mark.parametrize(("package", "before", "after"), list(CASES.values()), ids=list(CASES))
def test_relative_import_is_resolved_and_rewritten(migrate, package: str, before: str, after: str) -> None:
    result = migrate(before, package)
    assert result.text == after
    assert result.run.code == 0


def test_relative_import_in_the_package_init_resolves_against_the_package_itself(migrate) -> None:
    result = migrate("from .llm_adapter import LLMAdapter\n", "hermes.core", "__init__.py")
    assert result.text == "from tekton_llm_shims.hermes import LLMAdapter\n"


UNTOUCHED = {
    # ``other.core.llm_adapter`` is not a mapped module even though the spelling matches.
    "same-spelling-other-package": ("other.api", "from ..core.llm_adapter import LLMAdapter\n"),
    # Climbing above the top-level package is an ImportError in Python; the codemod does not guess.
    "beyond-top-level": ("terma", "from ...core.llm_adapter import LLMAdapter\n"),
    # A file outside any package has no anchor for a relative import.
    "no-package": (None, "from .core.llm_adapter import LLMAdapter\n"),
}


@pytest.mark.parametrize(("package", "source"), list(UNTOUCHED.values()), ids=list(UNTOUCHED))
def test_relative_import_that_does_not_reach_a_legacy_module_is_untouched(migrate, package, source) -> None:
    result = migrate(source, package)
    assert result.text == source
    assert result.run.code == 0
    assert result.run.summary[1] == 1  # the prefilter let it through; resolution rejected it


def test_namespace_package_needs_source_root(tmp_path, tree, cli) -> None:
    # No __init__.py anywhere: only --source-root tells the codemod this file is terma/api/app.py.
    root = tree({"src/terma/api/app.py": "from ..core.llm_adapter import LLMAdapter\n"})
    target = root / "src/terma/api/app.py"
    assert cli("rewrite", root).code == 0
    assert target.read_text() == "from ..core.llm_adapter import LLMAdapter\n"
    assert cli("rewrite", root, "--source-root", root / "src").code == 0
    assert target.read_text() == "from tekton_llm_shims.terma import LLMAdapter\n"


def test_source_root_from_pyproject(tmp_path, tree, cli) -> None:
    root = tree(
        {
            "pyproject.toml": '[tool.tekton-migrate]\nsource-root = "src"\n',
            "src/telos/core/requirements.py": "from .llm_adapter import LLMAdapter\n",
        }
    )
    assert cli("rewrite", root).code == 0
    assert (root / "src/telos/core/requirements.py").read_text() == "from tekton_llm_shims.telos import LLMAdapter\n"
