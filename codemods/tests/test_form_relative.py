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
    # A relative import naming nothing legacy is none of the codemod's business, resolvable or not.
    "unrelated-beyond-top-level": ("terma", "from ...core.models import Model\n# llm_adapter\n"),
}


@pytest.mark.parametrize(("package", "source"), list(UNTOUCHED.values()), ids=list(UNTOUCHED))
def test_relative_import_that_does_not_reach_a_legacy_module_is_untouched(migrate, package, source) -> None:
    result = migrate(source, package)
    assert result.text == source
    assert result.run.code == 0
    assert result.run.summary[1] == 1  # the prefilter let it through; resolution rejected it
    assert result.run.err.count("\n") == 1  # the summary line only: nothing reported


UNRESOLVED = {
    # Climbing above the top-level package is an ImportError in Python, or a sign that the package
    # chain on disk is incomplete (a namespace package): either way the file cannot be analysed.
    "beyond-top-level": ("terma", "from ...core.llm_adapter import LLMAdapter\n", "package terma is not that deep"),
    # A file outside any package has no anchor for a relative import.
    "no-package": (None, "from .core.llm_adapter import LLMAdapter\n", "the file is not inside a package"),
    "no-package-module-import": (None, "from . import llm_adapter\n", "the file is not inside a package"),
    "no-package-parent-import": (
        None,
        "def f():\n    from ..core import llm_adapter\n",
        "the file is not inside a package",
    ),
}


@pytest.mark.parametrize(("package", "source", "why"), list(UNRESOLVED.values()), ids=list(UNRESOLVED))
def test_unresolvable_relative_import_naming_a_legacy_segment_fails_the_file(migrate, package, source, why) -> None:
    result = migrate(source, package, "mod.py", "--check")
    assert result.text == source
    assert result.run.code == 2
    assert result.run.summary[3] == 1
    line = source.splitlines().index(next(s for s in source.splitlines() if "import" in s)) + 1
    statement = source.splitlines()[line - 1].strip()
    expected = f"{result.path}: error: line {line}: cannot resolve relative import `{statement}` ({why}"
    assert expected in result.run.err
    assert "pass --source-root" in result.run.err


def test_namespace_package_needs_source_root(tmp_path, tree, cli) -> None:
    # No __init__.py anywhere: only --source-root tells the codemod this file is terma/api/app.py.
    # Without it the file cannot be analysed, and --check must not pass on the unmigrated tree.
    source = "async def get_llm_providers():\n    from ..core.llm_adapter import LLMAdapter\n    return LLMAdapter()\n"
    root = tree({"src/terma/api/app.py": source, "src/terma/core/llm_adapter.py": "class LLMAdapter: ...\n"})
    target = root / "src/terma/api/app.py"
    check = cli("rewrite", "--check", root)
    assert check.code == 2
    assert f"{target}: error: line 2: cannot resolve relative import `from ..core.llm_adapter import LLMAdapter`" in (
        check.err
    )
    assert cli("rewrite", root).code == 2
    assert target.read_text() == source
    assert cli("rewrite", root, "--source-root", root / "src").code == 0
    assert target.read_text() == source.replace("..core.llm_adapter", "tekton_llm_shims.terma")
    assert cli("rewrite", "--check", root, "--source-root", root / "src").code == 0


def test_relative_import_resolving_to_a_shortened_legacy_name_is_reported(tree, cli) -> None:
    # ``terma/`` lacks its __init__.py, so the package chain of core/x.py stops at ``core``: the import
    # resolves to ``core.llm_adapter``, which is what terma.core.llm_adapter looks like from there.
    root = tree({"terma/core/x.py": "from .llm_adapter import LLMAdapter\n"}, package="terma.core")
    (root / "terma/__init__.py").unlink()
    result = cli("rewrite", "--check", root)
    assert result.code == 0
    assert (root / "terma/core/x.py").read_text() == "from .llm_adapter import LLMAdapter\n"
    keys = " or ".join(f"{name}.core.llm_adapter" for name in ("engram", "hermes", "telos", "terma"))
    assert result.err.splitlines()[0] == (
        f"{root / 'terma/core/x.py'}:1: left on core.llm_adapter: LLMAdapter "
        f"(if this is {keys}, the package chain stops early; pass --source-root)"
    )


def test_source_root_from_pyproject(tmp_path, tree, cli) -> None:
    root = tree(
        {
            "pyproject.toml": '[tool.tekton-migrate]\nsource-root = "src"\n',
            "src/telos/core/requirements.py": "from .llm_adapter import LLMAdapter\n",
        }
    )
    assert cli("rewrite", root).code == 0
    assert (root / "src/telos/core/requirements.py").read_text() == "from tekton_llm_shims.telos import LLMAdapter\n"
