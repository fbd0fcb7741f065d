"""``cleanup`` on the shapes found in the real Tekton tree: what is evidence that keeps a legacy module, and
what is not (plain words, foreign or look-alike dotted paths, logger names, unrelated packages' own
``llm_adapter`` modules, an unparseable file that only says the word). Every tree is small, synthetic and
written to real files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

LEGACY = {
    "Terma/terma/core/llm_adapter.py": "import logging\nlogger = logging.getLogger('terma.llm_adapter')\n",
    "Telos/telos/core/llm_adapter.py": "import logging\nlogger = logging.getLogger('telos.llm_adapter')\n",
    "Engram/engram/core/llm_adapter.py": "import logging\nlogger = logging.getLogger('engram.llm_adapter')\n",
    "Hermes/hermes/core/llm_adapter.py": "class LLMAdapter:\n    pass\n",
}
ADAPTERS = sorted(LEGACY)

# Unrelated components with adapters of their own, and the strings that mention them.
FOREIGN = {
    "Metis/metis/core/llm_adapter.py": "import logging\nlogger = logging.getLogger('metis.llm_adapter')\n",
    "Metis/metis/core/tasks.py": "from . import llm_adapter\nfrom .llm_adapter import X\n",
    "Prometheus/prometheus/utils/llm_adapter.py": (
        "import logging\nlog = logging.getLogger('prometheus.utils.llm_adapter')\n"
    ),
    "Sophia/sophia/core/llm_adapter.py": "import logging\nlogger = logging.getLogger('sophia.llm_adapter')\n",
    "Sophia/sophia/api/metrics.py": "from ..core import llm_adapter\n\nllm_adapter.get()\n",
    "Budget/budget/adapters/llm_adapter.py": (
        "class BudgetLLMAdapter:\n    def __init__(self, debug_log):\n"
        + "".join(f'        debug_log.info("llm_adapter", "step {n}")\n' for n in range(20))
    ),
    "Terma/terma/api/fastmcp_endpoints.py": (
        "CAPABILITIES = {'components': ['hermes', 'engram', 'llm_adapter']}\n\n\n"
        "def describe():\n    return {'name': 'llm_adapter', 'role': 'llm_adapter'}\n"
    ),
    "Terma/terma/core/mcp/capabilities.py": "TARGETS = ['hermes', 'hephaestus', 'engram', 'llm_adapter']\n",
    "Rhetor/rhetor/utils/hermes_helper.py": 'REG = {\n    "replaces": "llm_adapter",\n}\n)\n',
    "Hermes/hermes/api/app.py": "from tekton_llm_shims.hermes import LLMAdapter\n\nllm_adapter = LLMAdapter()\n",
}

PACKAGES = [
    "Terma/terma/core/mcp",
    "Terma/terma/api",
    "Telos/telos/core",
    "Engram/engram/core",
    "Engram/engram/api",
    "Hermes/hermes/core",
    "Hermes/hermes/api",
    "Metis/metis/core",
    "Prometheus/prometheus/utils",
    "Sophia/sophia/core",
    "Sophia/sophia/api",
    "Budget/budget/adapters",
    "Rhetor/rhetor/utils",
]


def _monorepo(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A tree shaped like Tekton after ``rewrite``: component folders (no ``__init__.py``) holding packages."""
    for package in PACKAGES:
        component, *parts = package.split("/")
        for depth in range(1, len(parts) + 1):
            init = root.joinpath(component, *parts[:depth], "__init__.py")
            init.parent.mkdir(parents=True, exist_ok=True)
            init.touch()
    for rel, text in {**LEGACY, **FOREIGN, **(extra or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_whole_tree_deletes_exactly_the_four_legacy_adapters(tmp_path, cli) -> None:
    root = _monorepo(tmp_path / "tree")
    before = _files(root)
    result = cli("cleanup", root, "--write")
    assert result.out.splitlines() == [
        f"deleted  {root / rel}  ({rel.split('/', 1)[1].removesuffix('.py').replace('/', '.')})" for rel in ADAPTERS
    ]
    assert _files(root) == {rel: data for rel, data in before.items() if rel not in LEGACY}
    # The unparseable Rhetor file only says the word: an error for the run, no doubt for any adapter.
    assert f"{root / 'Rhetor/rhetor/utils/hermes_helper.py'}: error: syntax error at line 4" in result.err
    assert result.code == 2


@pytest.mark.parametrize("component", ["Terma", "Hermes", "Telos", "Engram"])
def test_each_component_cleaned_alone_deletes_its_adapter_and_nothing_else(tmp_path, cli, component) -> None:
    root = _monorepo(tmp_path / "tree")
    before = _files(root)
    (adapter,) = [rel for rel in LEGACY if rel.startswith(component + "/")]
    result = cli("cleanup", root / component, "--write", "--root", root)
    assert result.out.splitlines()[0].startswith(f"deleted  {root / adapter}  (")
    assert len(result.out.splitlines()) == 1
    assert _files(root) == {rel: data for rel, data in before.items() if rel != adapter}


def test_a_use_in_another_component_keeps_it_when_the_tree_is_known(tmp_path, cli) -> None:
    user = {"Hermes/hermes/api/bridge.py": "from terma.core.llm_adapter import LLMAdapter\n"}
    root = _monorepo(tmp_path / "tree", user)
    adapter = root / "Terma/terma/core/llm_adapter.py"
    # Given the tree with --root, the use in Hermes keeps Terma's adapter.
    result = cli("cleanup", root / "Terma", "--write", "--root", root)
    assert result.out == f"in use   {adapter}  (terma.core.llm_adapter) by {root / 'Hermes/hermes/api/bridge.py'}\n"
    # Found by itself from a .git folder above the component.
    (root / ".git").mkdir()
    result = cli("cleanup", root / "Terma")
    assert result.out == f"in use   {adapter}  (terma.core.llm_adapter) by {root / 'Hermes/hermes/api/bridge.py'}\n"
    assert "note:" not in result.err
    # Without either, only the folder is searched, and the run says so.
    (root / ".git").rmdir()
    result = cli("cleanup", root / "Terma")
    assert result.out == f"unused   {adapter}  (terma.core.llm_adapter)\n"
    assert f"no .git above {root / 'Terma'}, so uses were searched for in it alone as the whole tree" in result.err
    assert "pass --root TREE" in result.err
    assert adapter.exists()


# Evidence kinds, each keeping hermes.core.llm_adapter (file, source, doubt line or None for a reference).
EVIDENCE = {
    "absolute-import": ("Hermes/hermes/api/x.py", "import hermes.core.llm_adapter\n", None),
    "relative-import": ("Hermes/hermes/api/x.py", "from ..core.llm_adapter import LLMAdapter\n", None),
    "relative-module-import": ("Hermes/hermes/api/x.py", "from ..core import llm_adapter\n", None),
    "sibling-relative": ("Hermes/hermes/core/y.py", "from . import llm_adapter\n", None),
    "init-re-export": ("Hermes/hermes/__init__.py", "from .core import llm_adapter\n", None),
    "package-then-attribute": ("tests/t.py", "from hermes import core\n\ncore.llm_adapter.LLMAdapter()\n", None),
    "mock-patch-string": ("tests/t.py", "from unittest import mock\nmock.patch('hermes.core.llm_adapter.X')\n", None),
    "import-module-string": (
        "tests/t.py",
        "import importlib\nimportlib.import_module('hermes.core.llm_adapter')\n",
        None,
    ),
    "dunder-import-string": ("tests/t.py", "__import__('hermes.core.llm_adapter')\n", None),
    "unparseable-relative-import": (
        "Hermes/hermes/api/broken.py",
        "from ..core.llm_adapter import LLMAdapter\ndef f(:\n",
        "1: does not parse (syntax error at line 2, column 7: invalid syntax) and spells hermes.core.llm_adapter",
    ),
    "unparseable-dotted-string": (
        "tests/broken.py",
        "x = = 1\nPATCH = 'hermes.core.llm_adapter.LLMAdapter'\n",
        "2: does not parse (syntax error at line 1, column 5: invalid syntax) and spells "
        "hermes.core.llm_adapter.LLMAdapter",
    ),
}


@pytest.mark.parametrize(("rel", "source", "why"), list(EVIDENCE.values()), ids=list(EVIDENCE))
def test_each_kind_of_evidence_keeps_the_module(tmp_path, cli, rel, source, why) -> None:
    root = _monorepo(tmp_path / "tree", {rel: source})
    result = cli("cleanup", root, "--write")
    adapter = root / "Hermes/hermes/core/llm_adapter.py"
    assert adapter.read_text() == LEGACY["Hermes/hermes/core/llm_adapter.py"]
    kept = [line for line in result.out.splitlines() if "(hermes.core.llm_adapter)" in line]
    assert kept == [f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}"]
    doubts = [line.strip() for line in result.out.splitlines() if line.startswith("   ")]
    assert doubts == ([] if why is None else [f"{root / rel}:{why}"])
    # The other three are still deleted: evidence for one module is not evidence for all.
    assert sum(line.startswith("deleted") for line in result.out.splitlines()) == 3


# Not evidence: each leaves the Hermes adapter deleted.
NOT_EVIDENCE = {
    "plain-word": ("tests/t.py", "NAME = 'llm_adapter'\n"),
    "look-alike-path": ("tests/t.py", "X = 'hermes.core.llm_adapter2'\nY = 'hermes.llm_adapter'\n"),
    "foreign-path": ("tests/t.py", "from unittest import mock\nmock.patch('sophia.core.llm_adapter.get')\n"),
    "logger-name-of-the-legacy-module": (
        "tests/t.py",
        "import logging\nlog = logging.getLogger('hermes.core.llm_adapter')\n",
    ),
    "docstring": ("tests/t.py", '"""hermes.core.llm_adapter"""\n'),
    "attribute-of-an-object": ("tests/t.py", "def f(app):\n    return app.state.llm_adapter.chat()\n"),
    "unparseable-plain-word": ("tests/broken.py", "x = = 'llm_adapter'\n"),
}


@pytest.mark.parametrize(("rel", "source"), list(NOT_EVIDENCE.values()), ids=list(NOT_EVIDENCE))
def test_false_alarm_shapes_do_not_keep_it(tmp_path, cli, rel, source) -> None:
    root = _monorepo(tmp_path / "tree", {rel: source})
    result = cli("cleanup", root, "--write")
    assert f"deleted  {root / 'Hermes/hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)" in result.out
    assert not (root / "Hermes/hermes/core/llm_adapter.py").exists()
    assert (root / rel).read_text() == source
