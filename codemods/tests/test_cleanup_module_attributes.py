"""``cleanup`` and attributes named like the legacy module: ``llm_endpoints.llm_adapter`` is a variable of
``hermes.api.llm_endpoints``, not ``hermes.core.llm_adapter``, so it does not keep the module; the same
spelling on an owner that resolves to the legacy module's parent package does. An owner that resolves to
nothing (a parameter, a rebound name) is not evidence: only what can reach the module at run time keeps it.
"""

from __future__ import annotations

import pytest
from tekton_codemods import MigrationMap

ADAPTER = "class LLMAdapter:\n    pass\n"
ENDPOINTS = "from tekton_llm_shims.hermes import LLMAdapter\n\nllm_adapter = LLMAdapter()\n"


def _component(tree, rel: str, source: str):
    files = {"hermes/core/llm_adapter.py": ADAPTER, "hermes/api/llm_endpoints.py": ENDPOINTS, rel: source}
    root = tree(files, package="hermes.core")
    tree({}, package="hermes.api", root=root)
    return root


def _snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# Attributes of modules that cannot be hermes.core (under any name): the adapter is deleted.
EXPLAINED = {
    "from-import-module": (
        "tests/test_a.py",
        "from hermes.api import llm_endpoints\n\nfresh = type(llm_endpoints.llm_adapter)()\n",
    ),
    "from-import-module-as": (
        "tests/test_a.py",
        "from hermes.api import llm_endpoints as ep\n\n\nasync def f():\n    return await ep.llm_adapter.chat('hi')\n",
    ),
    "import-module-as": ("tests/test_a.py", "import hermes.api.llm_endpoints as ep\n\nep.llm_adapter.chat('hi')\n"),
    "plain-import-chain": (
        "tests/test_a.py",
        "import hermes.api.llm_endpoints\n\nx = hermes.api.llm_endpoints.llm_adapter\n",
    ),
    "chain-through-an-imported-package": (
        "tests/test_a.py",
        "from hermes import api\n\nx = api.llm_endpoints.llm_adapter\n",
    ),
    "relative-import": ("hermes/api/app.py", "from . import llm_endpoints\n\nx = llm_endpoints.llm_adapter\n"),
    "builtins": (
        "tests/test_a.py",
        "from hermes.api import llm_endpoints\n\n"
        "if hasattr(llm_endpoints, 'llm_adapter'):\n"
        "    old = getattr(llm_endpoints, 'llm_adapter', None)\n"
        "    setattr(llm_endpoints, 'llm_adapter', old)\n"
        "    delattr(llm_endpoints, 'llm_adapter')\n",
    ),
    "monkeypatch-setattr-object": (
        "tests/conftest.py",
        "from hermes.api import llm_endpoints\n\n\n"
        "def fresh(monkeypatch):\n"
        "    monkeypatch.setattr(llm_endpoints, 'llm_adapter', object(), raising=True)\n",
    ),
    "mock-patch-object": (
        "tests/test_a.py",
        "from unittest import mock\n\nfrom hermes.api import llm_endpoints\n\n\n"
        "@mock.patch.object(llm_endpoints, 'llm_adapter')\n"
        "def test(fake):\n"
        "    pass\n",
    ),
    "patch-object-imported": (
        "tests/test_a.py",
        "from unittest.mock import patch\n\nimport hermes.api.llm_endpoints as ep\n\n"
        "with patch.object(ep, 'llm_adapter'):\n"
        "    pass\n",
    ),
    "unittest-mock-patch-object-on-a-chain": (
        "tests/test_a.py",
        "import unittest.mock\n\nimport hermes.api.llm_endpoints\n\n"
        "with unittest.mock.patch.object(hermes.api.llm_endpoints, 'llm_adapter'):\n"
        "    pass\n",
    ),
    "monkeypatch-setattr-target": (
        "tests/conftest.py",
        "def fresh(monkeypatch):\n    monkeypatch.setattr('hermes.api.llm_endpoints.llm_adapter', object())\n",
    ),
    "mock-patch-target": (
        "tests/test_a.py",
        "from unittest import mock\n\n\n"
        "@mock.patch('hermes.api.llm_endpoints.llm_adapter.chat')\n"
        '@mock.patch("hermes.api.llm_endpoints.llm_adapter")\n'
        "def test(fake, chat):\n"
        "    pass\n",
    ),
    "patch-target-imported": (
        "tests/test_a.py",
        "from unittest.mock import patch\n\nwith patch('hermes.api.llm_endpoints.llm_adapter'):\n    pass\n",
    ),
}


@pytest.mark.parametrize(("rel", "source"), list(EXPLAINED.values()), ids=list(EXPLAINED))
def test_attribute_of_another_module_does_not_keep_it(tree, cli, rel, source) -> None:
    root = _component(tree, rel, source)
    before = _snapshot(root)
    result = cli("cleanup", root, "--write")
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    after = _snapshot(root)
    # Only the adapter is gone; the file that spells the attribute is byte for byte what it was.
    assert after == {path: data for path, data in before.items() if path != "hermes/core/llm_adapter.py"}
    assert after[rel] == source.encode()
    assert result.code == 0


# Spellings that cannot reach hermes.core.llm_adapter at run time: an owner the file cannot resolve (a
# parameter, a rebound name, an unknown call), foreign dotted strings, names under a package path no
# sys.path entry above the file gives. Not evidence: the adapter is deleted and the file left as it was.
NOT_EVIDENCE = {
    "parent-under-a-shorter-name-elsewhere": "import core\n\nx = core.llm_adapter\n",
    "parent-under-a-longer-name": "import src.hermes.core as c\n\nx = c.llm_adapter\n",
    "shorter-name-target-string": "from unittest import mock\n\nmock.patch('core.llm_adapter.LLMAdapter')\n",
    "bare-target-string": "def f(monkeypatch):\n    monkeypatch.setattr('llm_adapter.LLMAdapter', 1)\n",
    "owner-is-a-parameter": "def f(llm_endpoints):\n    return getattr(llm_endpoints, 'llm_adapter')\n",
    "owner-rebound": "from hermes.api import llm_endpoints\n\nllm_endpoints = load()\nx = llm_endpoints.llm_adapter\n",
    "owner-from-a-call-of-another-module": (
        "import importlib\n\nx = importlib.import_module('hermes.api').llm_adapter\n"
    ),
    "star-import-of-another-package": (
        "from hermes.api import llm_endpoints\nfrom hermes.compat import *\n\nx = llm_endpoints.llm_adapter\n"
    ),
    "getattr-rebound": (
        "from hermes.api import llm_endpoints\n\ngetattr = load()\ngetattr(llm_endpoints, 'llm_adapter')\n"
    ),
    "unknown-callee": "from hermes.api import llm_endpoints\n\nregister(llm_endpoints, 'llm_adapter')\n",
    "mock-not-imported": "from hermes.api import llm_endpoints\n\nmock.patch.object(llm_endpoints, 'llm_adapter')\n",
    "patch-target-mock-not-imported": "mock.patch('hermes.api.llm_endpoints.llm_adapter')\n",
    "keyword-attribute-name": (
        "from hermes.api import llm_endpoints\n\n\n"
        "def f(monkeypatch):\n    monkeypatch.setattr(llm_endpoints, name='llm_adapter', value=1)\n"
    ),
    "dotted-string-outside-a-patch-call": "TARGET = 'hermes.api.llm_endpoints.llm_adapter'\n",
    "unknown-owner-attribute": "def f(app):\n    return app.state.llm_adapter\n",
}


@pytest.mark.parametrize("source", list(NOT_EVIDENCE.values()), ids=list(NOT_EVIDENCE))
def test_a_spelling_that_cannot_reach_it_does_not_keep_it(tree, cli, source) -> None:
    root = _component(tree, "tests/test_a.py", source)
    before = _snapshot(root)
    result = cli("cleanup", root, "--write")
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    assert _snapshot(root) == {path: data for path, data in before.items() if path != "hermes/core/llm_adapter.py"}
    assert result.code == 0


# The same spellings where the owner resolves to hermes.core, the legacy module's parent: a reference.
KEPT = {
    "parent-package-attribute": "from hermes import core\n\nx = core.llm_adapter\n",
    "parent-package-monkeypatch": (
        "from hermes import core\n\n\ndef f(monkeypatch):\n    monkeypatch.setattr(core, 'llm_adapter', 1)\n"
    ),
    "parent-package-patch-object": (
        "from unittest import mock\n\nimport hermes.core as c\n\nmock.patch.object(c, 'llm_adapter')\n"
    ),
    "parent-package-hasattr": "import hermes.core\n\nhasattr(hermes.core, 'llm_adapter')\n",
    "parent-package-keyword-name": (
        "from hermes import core\n\n\ndef f(monkeypatch):\n    monkeypatch.setattr(core, name='llm_adapter', value=1)\n"
    ),
    "parent-target-string": "def f(monkeypatch):\n    monkeypatch.setattr('hermes.core.llm_adapter', 1)\n",
    "owner-from-import-module": "import importlib\n\nx = importlib.import_module('hermes.core').llm_adapter\n",
    "owner-from-sys-modules": "import sys\n\ncore = sys.modules['hermes.core']\nx = core.llm_adapter\n",
    "rebound-to-the-parent": "from hermes.api import llm_endpoints\n\nfrom hermes import core as llm_endpoints\n"
    "x = llm_endpoints.llm_adapter\n",
    "nested-scope-import": "def f():\n    from hermes import core\n\n    return core.llm_adapter.LLMAdapter\n",
}


@pytest.mark.parametrize("source", list(KEPT.values()), ids=list(KEPT))
def test_parent_owner_keeps_it(tree, cli, source) -> None:
    rel = "tests/test_a.py"
    root = _component(tree, rel, source)
    result = cli("cleanup", root, "--write")
    adapter = root / "hermes/core/llm_adapter.py"
    assert adapter.read_text() == ADAPTER
    assert result.out == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}\n"
    assert result.code == 0


def test_parent_under_a_shorter_name_next_to_it_keeps_it_with_its_reason(tree, cli) -> None:
    # hermes/tool.py run as a script puts hermes/ on sys.path: ``import core`` is then hermes.core.
    root = _component(tree, "hermes/tool.py", "import core\n\nx = core.llm_adapter\n")
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").read_text() == ADAPTER
    assert result.out.splitlines()[1:] == [
        f"           {root / 'hermes/tool.py'}:3: core.llm_adapter: core.llm_adapter is this module when "
        f"{root / 'hermes'} is on sys.path"
    ]


def test_unresolvable_relative_binding_of_the_owner_is_not_evidence(tree, cli) -> None:
    # tools/ is not a package: Python refuses ``from .. import llm_endpoints``, so it binds nothing.
    source = "from hermes.api import llm_endpoints\nfrom .. import llm_endpoints\n\nx = llm_endpoints.llm_adapter\n"
    root = _component(tree, "tools/a.py", source)
    result = cli("cleanup", root, "--write")
    assert not (root / "hermes/core/llm_adapter.py").exists()
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"


def test_one_reaching_spelling_keeps_it_even_next_to_harmless_ones(tree, cli) -> None:
    source = (
        "from hermes import core\nfrom hermes.api import llm_endpoints\n\n\n"
        "def f(monkeypatch):\n"
        "    monkeypatch.setattr(llm_endpoints, 'llm_adapter', 1)\n"
        "    monkeypatch.setattr(core, 'llm_adapter', 1)\n"
    )
    root = _component(tree, "tests/test_a.py", source)
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").exists()
    assert result.out == (
        f"in use   {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter) by {root / 'tests/test_a.py'}\n"
    )


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("hermes.core", True),  # the parent itself
        ("core", True),  # the parent under a shorter name (a sys.path entry inside hermes/)
        ("src.hermes.core", True),  # ... or a longer one (a namespace package above it)
        ("hermes", False),
        ("hermes.api.llm_endpoints", False),
        ("hermes.core.registry", False),
        ("xcore", False),
    ],
)
def test_may_hold(package, expected) -> None:
    table = MigrationMap({"hermes.core.llm_adapter": "tekton_llm_shims.hermes"})
    assert table.may_hold(package, "llm_adapter") is expected
    assert table.may_hold(package, "llm_client") is False


def test_a_key_without_a_parent_package_may_be_held_by_anything() -> None:
    table = MigrationMap({"llm_adapter": "tekton_llm_shims.hermes"})
    assert table.may_hold("hermes.api.llm_endpoints", "llm_adapter") is True
