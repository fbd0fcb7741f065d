"""``cleanup`` and attributes named like the legacy module: ``llm_endpoints.llm_adapter`` is a variable of
``hermes.api.llm_endpoints``, not ``hermes.core.llm_adapter``, so it does not keep the module; the same
spelling on the legacy module's parent package (under any name), or on an owner the file cannot resolve
through its imports, still does.
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


# The same spellings where the owner is (or may be) hermes.core, or is not known: the adapter is kept.
# ``why`` is the doubt line after ``PATH:``; ``None`` means a plain reference (no doubt line).
KEPT = {
    "parent-package-attribute": ("from hermes import core\n\nx = core.llm_adapter\n", None),
    "parent-package-monkeypatch": (
        "from hermes import core\n\n\ndef f(monkeypatch):\n    monkeypatch.setattr(core, 'llm_adapter', 1)\n",
        "5: string 'llm_adapter' may name it",
    ),
    "parent-package-patch-object": (
        "from unittest import mock\n\nimport hermes.core as c\n\nmock.patch.object(c, 'llm_adapter')\n",
        "5: string 'llm_adapter' may name it",
    ),
    "parent-package-hasattr": (
        "import hermes.core\n\nhasattr(hermes.core, 'llm_adapter')\n",
        "3: string 'llm_adapter' may name it",
    ),
    "parent-target-string": ("def f(monkeypatch):\n    monkeypatch.setattr('hermes.core.llm_adapter', 1)\n", None),
    "parent-under-a-shorter-name": (
        "import core\n\nx = core.llm_adapter\n",
        "3: core.llm_adapter: cannot tell whether 'core' is a package containing llm_adapter",
    ),
    "parent-under-a-longer-name": (
        "import src.hermes.core as c\n\nx = c.llm_adapter\n",
        "3: c.llm_adapter: cannot tell whether 'c' is a package containing llm_adapter",
    ),
    "shorter-name-target-string": (
        "from unittest import mock\n\nmock.patch('core.llm_adapter.LLMAdapter')\n",
        "3: string 'core.llm_adapter.LLMAdapter' may name it",
    ),
    "bare-target-string": (
        "def f(monkeypatch):\n    monkeypatch.setattr('llm_adapter.LLMAdapter', 1)\n",
        "2: string 'llm_adapter.LLMAdapter' may name it",
    ),
    "owner-is-a-parameter": (
        "def f(llm_endpoints):\n    return getattr(llm_endpoints, 'llm_adapter')\n",
        "2: string 'llm_adapter' may name it",
    ),
    "owner-rebound": (
        "from hermes.api import llm_endpoints\n\nllm_endpoints = load()\nx = llm_endpoints.llm_adapter\n",
        "4: llm_endpoints.llm_adapter: cannot tell whether 'llm_endpoints' is a package containing llm_adapter",
    ),
    "owner-from-a-call": (
        "import importlib\n\nx = importlib.import_module('hermes.api').llm_adapter\n",
        "3: importlib.import_module('hermes.api').llm_adapter: cannot tell whether the owner is a package",
    ),
    "star-import-may-rebind-the-owner": (
        "from hermes.api import llm_endpoints\nfrom hermes.compat import *\n\nx = llm_endpoints.llm_adapter\n",
        "4: llm_endpoints.llm_adapter: cannot tell whether 'llm_endpoints' is a package containing llm_adapter",
    ),
    "getattr-rebound": (
        "from hermes.api import llm_endpoints\n\ngetattr = load()\ngetattr(llm_endpoints, 'llm_adapter')\n",
        "4: string 'llm_adapter' may name it",
    ),
    "unknown-callee": (
        "from hermes.api import llm_endpoints\n\nregister(llm_endpoints, 'llm_adapter')\n",
        "3: string 'llm_adapter' may name it",
    ),
    "mock-not-imported": (
        "from hermes.api import llm_endpoints\n\nmock.patch.object(llm_endpoints, 'llm_adapter')\n",
        "3: string 'llm_adapter' may name it",
    ),
    "patch-target-mock-not-imported": (
        "mock.patch('hermes.api.llm_endpoints.llm_adapter')\n",
        "1: string 'hermes.api.llm_endpoints.llm_adapter' may name it",
    ),
    "keyword-attribute-name": (
        "from hermes.api import llm_endpoints\n\n\n"
        "def f(monkeypatch):\n    monkeypatch.setattr(llm_endpoints, name='llm_adapter', value=1)\n",
        "5: string 'llm_adapter' may name it",
    ),
    "dotted-string-outside-a-patch-call": (
        "TARGET = 'hermes.api.llm_endpoints.llm_adapter'\n",
        "1: string 'hermes.api.llm_endpoints.llm_adapter' may name it",
    ),
}


@pytest.mark.parametrize(("source", "why"), list(KEPT.values()), ids=list(KEPT))
def test_parent_or_unknown_owner_keeps_it(tree, cli, source, why) -> None:
    rel = "tests/test_a.py"
    root = _component(tree, rel, source)
    result = cli("cleanup", root, "--write")
    adapter = root / "hermes/core/llm_adapter.py"
    assert adapter.read_text() == ADAPTER
    lines = result.out.splitlines()
    assert lines[0] == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}"
    if why is None:
        assert lines[1:] == []
    else:
        assert len(lines) == 2
        assert lines[1].startswith(f"           {root / rel}:{why}")
    assert result.code == 0


def test_unresolvable_relative_binding_of_the_owner_keeps_it(tree, cli) -> None:
    # tools/ is not a package: ``from .. import llm_endpoints`` may bind anything, even hermes.core.
    source = "from hermes.api import llm_endpoints\nfrom .. import llm_endpoints\n\nx = llm_endpoints.llm_adapter\n"
    root = _component(tree, "tools/a.py", source)
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").read_text() == ADAPTER
    assert result.out.splitlines()[1:] == [
        f"           {root / 'tools/a.py'}:4: llm_endpoints.llm_adapter: cannot tell whether 'llm_endpoints' "
        "is a package containing llm_adapter"
    ]


def test_one_doubtful_spelling_keeps_it_even_next_to_explained_ones(tree, cli) -> None:
    source = (
        "from hermes import core\nfrom hermes.api import llm_endpoints\n\n\n"
        "def f(monkeypatch):\n"
        "    monkeypatch.setattr(llm_endpoints, 'llm_adapter', 1)\n"
        "    monkeypatch.setattr(core, 'llm_adapter', 1)\n"
    )
    root = _component(tree, "tests/test_a.py", source)
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").exists()
    assert result.out.splitlines()[1:] == [f"           {root / 'tests/test_a.py'}:7: string 'llm_adapter' may name it"]


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
