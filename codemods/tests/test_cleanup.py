"""``tekton-migrate cleanup``: legacy adapter modules nothing references are listed, and deleted on --write."""

from __future__ import annotations

import os

import pytest

ADAPTER = "import logging\n\nlogger = logging.getLogger('hermes.core.llm_adapter')\n\n\nclass LLMAdapter:\n    pass\n"


def _component(tree, **extra: str):
    files = {"hermes/core/llm_adapter.py": ADAPTER, "hermes/core/registry.py": "REGISTRY = {}\n"}
    files.update(extra)
    root = tree(files, package="hermes.core")
    tree({}, package="hermes.api", root=root)
    return root


def _snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_migrated_component_has_a_dead_adapter_listed_not_deleted(tree, cli) -> None:
    root = _component(tree, **{"hermes/api/app.py": "from tekton_llm_shims.hermes import LLMAdapter\n"})
    before = _snapshot(root)
    result = cli("cleanup", root)
    assert result.code == 0
    assert result.out == f"unused   {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    assert _snapshot(root) == before


def test_write_deletes_only_the_dead_adapter(tree, cli, read_report) -> None:
    root = _component(tree, **{"hermes/api/app.py": "from tekton_llm_shims.hermes import LLMAdapter\n"})
    before = _snapshot(root)
    report = root.parent / "cleanup.json"
    result = cli("cleanup", root, "--write", "--report", report)
    assert result.code == 0
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    assert _snapshot(root) == [p for p in before if p != "hermes/core/llm_adapter.py"]
    doc = read_report(report)
    assert doc["command"] == "cleanup" and doc["mode"] == "write" and doc["version"] == 1
    assert doc["modules"] == [
        {
            "module": "hermes.core.llm_adapter",
            "path": str(root / "hermes/core/llm_adapter.py"),
            "status": "deleted",
            "referenced_by": [],
        }
    ]
    assert doc["summary"]["changed"] == 1
    assert result.summary[2] == 1


REFERENCES = {
    "absolute-import": ("hermes/api/app.py", "from hermes.core.llm_adapter import LLMAdapter\n"),
    "relative-import": ("hermes/api/app.py", "def f():\n    from ..core.llm_adapter import LLMAdapter\n"),
    "module-import": ("hermes/api/app.py", "from hermes.core import llm_adapter\n"),
    "package-reexport": ("hermes/core/__init__.py", "from .llm_adapter import LLMAdapter\n"),
    "mock-patch-string": ("tests/test_x.py", "mock.patch('hermes.core.llm_adapter.LLMAdapter.chat')\n"),
    "dotted-use": ("tests/test_y.py", "import hermes\nhermes.core.llm_adapter.LLMAdapter\n"),
}


@pytest.mark.parametrize(("rel", "source"), list(REFERENCES.values()), ids=list(REFERENCES))
def test_any_reference_keeps_the_adapter(tree, cli, rel, source) -> None:
    root = _component(tree, **{rel: source})
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").read_text() == ADAPTER
    adapter = root / "hermes/core/llm_adapter.py"
    assert result.out == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}\n"


def test_unparsable_file_naming_it_keeps_it_with_the_doubt_and_fails_the_run(tree, cli) -> None:
    root = _component(tree, **{"tests/test_z.py": "import hermes.core.llm_adapter\nx = = 1\n"})
    result = cli("cleanup", root, "--write")
    adapter = root / "hermes/core/llm_adapter.py"
    assert adapter.read_text() == ADAPTER
    assert result.out.splitlines() == [
        f"in use   {adapter}  (hermes.core.llm_adapter) by {root / 'tests/test_z.py'}",
        f"           {root / 'tests/test_z.py'}:1: does not parse (syntax error at line 2, column 5: invalid syntax) "
        "and spells hermes.core.llm_adapter",
    ]
    assert f"{root / 'tests/test_z.py'}: error: syntax error at line 2, column 5: invalid syntax" in result.err
    assert result.code == 2


def test_self_reference_does_not_keep_it_alive_and_other_modules_are_never_deleted(tree, cli) -> None:
    # A file *named* llm_adapter.py outside a mapped module path is not a legacy module.
    root = _component(tree, **{"tools/llm_adapter.py": "x = 1\n", "hermes/llm_adapter.py": "y = 2\n"})
    result = cli("cleanup", root, "--write")
    assert result.code == 0
    assert not (root / "hermes/core/llm_adapter.py").exists()
    assert (root / "tools/llm_adapter.py").exists()
    assert (root / "hermes/llm_adapter.py").exists()


def test_nothing_to_clean(tree, cli) -> None:
    root = tree({"m.py": "x = 1\n"})
    result = cli("cleanup", root, "--write")
    assert result.code == 0
    assert result.out == "no legacy adapter modules found\n"


def test_deletion_failure_is_reported(tree, cli, monkeypatch) -> None:
    root = _component(tree)

    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "unlink", refuse)
    result = cli("cleanup", root, "--write")
    assert result.code == 2
    assert "cannot delete: Permission denied" in result.out
    assert (root / "hermes/core/llm_adapter.py").exists()


# Reached without any import statement naming the legacy module: each resolves to it (``why`` None: a plain
# reference) or may resolve to it (``why``: the doubt line after ``PATH:``). Either keeps it.
REACHED = {
    "from-parent-import-package": (
        "hermes/api/a.py",
        "from hermes import core\n\n\ndef f():\n    return core.llm_adapter.LLMAdapter()\n",
        None,
    ),
    "import-package-as": ("hermes/api/a.py", "import hermes.core as c\nc.llm_adapter.LLMAdapter()\n", None),
    "star-import-of-the-parent": ("hermes/api/a.py", "from hermes.core import *\nllm_adapter.LLMAdapter()\n", None),
    "import-module-relative-string": (
        "hermes/api/a.py",
        'import importlib\nm = importlib.import_module(".llm_adapter", package="hermes.core")\n',
        None,
    ),
    "getattr-on-the-package": ("hermes/api/a.py", "from hermes import core\nm = getattr(core, 'llm_adapter')\n", None),
    "package-from-a-dynamic-import": (
        "hermes/api/a.py",
        "import importlib\npkg = importlib.import_module('hermes.core')\npkg.llm_adapter.LLMAdapter()\n",
        None,
    ),
    "attribute-of-a-call-result": ("hermes/api/a.py", "import sys\nsys.modules.get('hermes.core').llm_adapter\n", None),
    "name-in-the-parent-package": (
        "hermes/core/__init__.py",
        "llm_adapter = None\n\n\ndef get():\n    return llm_adapter\n",
        None,
    ),
    "all-of-the-parent-package": ("hermes/core/__init__.py", "__all__ = ['llm_adapter']\n", None),
    "script-next-to-it": (
        "hermes/core/script.py",
        "import llm_adapter\n",
        "1: import llm_adapter: llm_adapter is this module when {root}/hermes/core is on sys.path",
    ),
    "f-string-building-the-name": (
        "hermes/api/a.py",
        "import importlib\nname = 'x'\nimportlib.import_module(f'hermes.core.llm_adapter{name}')\n",
        "3: f-string 'hermes.core.llm_adapter'… may build its name",
    ),
    "re-export-from-another-module": (
        "hermes/api/compat.py",
        "from hermes.core import llm_adapter\n",
        None,
    ),
    "dunder-import-then-attribute": (
        "hermes/api/a.py",
        "class A:\n    def f(self):\n        self = __import__('hermes.core')\n        return self.llm_adapter\n",
        None,
    ),
}


@pytest.mark.parametrize(("rel", "source", "why"), list(REACHED.values()), ids=list(REACHED))
def test_a_module_reached_without_an_import_is_kept(tree, cli, rel, source, why) -> None:
    root = _component(tree, **{rel: source})
    result = cli("cleanup", root, "--write")
    adapter = root / "hermes/core/llm_adapter.py"
    assert adapter.read_text() == ADAPTER
    lines = result.out.splitlines()
    assert lines[0] == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}"
    if why is None:
        assert lines[1:] == []
    else:
        assert lines[1:] == [f"           {root / rel}:{why.format(root=root)}"]
    assert result.code == 0


def test_unresolvable_relative_import_keeps_the_module(tree, cli) -> None:
    # The Terma layout without __init__.py files.
    root = tree(
        {
            "terma/core/llm_adapter.py": "class LLMAdapter: ...\n",
            "terma/api/app.py": "async def f():\n    from ..core.llm_adapter import LLMAdapter\n",
        }
    )
    result = cli("cleanup", root, "--write")
    assert (root / "terma/core/llm_adapter.py").exists()
    # Without --source-root nothing is a legacy module (no package names it terma.core.llm_adapter) ...
    assert result.out == "no legacy adapter modules found\n"
    # ... and with it the import resolves and keeps the module.
    result = cli("cleanup", root, "--write", "--source-root", root)
    assert result.out == (
        f"in use   {root / 'terma/core/llm_adapter.py'}  (terma.core.llm_adapter) by {root / 'terma/api/app.py'}\n"
    )


def test_unresolvable_relative_import_in_a_partial_package_is_a_doubt(tree, cli) -> None:
    # core/ is a package, api/ is not: the module is found, the importer cannot be resolved.
    root = tree({"hermes/core/llm_adapter.py": ADAPTER}, package="hermes.core")
    tree({"api/app.py": "from ..core.llm_adapter import LLMAdapter\n"}, root=root)
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").read_text() == ADAPTER
    assert result.out.splitlines()[1:] == [
        f"           {root / 'api/app.py'}:1: cannot resolve relative import `from ..core.llm_adapter import "
        "LLMAdapter`; pass --source-root"
    ]


MIGRATED = '''\
"""Uses the llm_adapter only by name: nothing here reaches the legacy module."""

from tekton_llm_shims import hermes as llm_adapter  # was: from hermes.core import llm_adapter
from tekton_llm_shims.hermes import LLMAdapter

SHARED = llm_adapter.LLMAdapter()
llm_adapter_url = "http://localhost:8003"
PATCH_TARGET = "terma.core.llm_adapter.LLMAdapter.chat"  # another component's legacy module
RAW = b"llm_adapter"


def get_llm_adapter(llm_adapter: LLMAdapter = SHARED) -> LLMAdapter:
    """Return the llm_adapter."""
    return llm_adapter


class Handler:
    def __init__(self) -> None:
        self.llm_adapter = LLMAdapter()

    def run(self, app):
        app.state.llm_adapter = self.llm_adapter
        return make(llm_adapter=self.llm_adapter)


def make(llm_adapter):
    for llm_adapter in [llm_adapter]:
        pass
    return llm_adapter
'''


def test_explained_spellings_do_not_keep_it(tree, cli, read_report) -> None:
    root = _component(tree, **{"hermes/api/app.py": MIGRATED})
    report = root.parent / "cleanup.json"
    result = cli("cleanup", root, "--write", "--report", report)
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    assert not (root / "hermes/core/llm_adapter.py").exists()
    assert read_report(report)["modules"][0]["status"] == "deleted"
    assert result.code == 0


def test_doubts_are_in_the_report(tree, cli, read_report) -> None:
    root = _component(tree, **{"hermes/core/script.py": "import llm_adapter\n"})
    report = root.parent / "cleanup.json"
    cli("cleanup", root, "--report", report)
    (module,) = read_report(report)["modules"]
    assert module["status"] == "in-use"
    assert module["doubts"] == [
        {
            "path": str(root / "hermes/core/script.py"),
            "line": 1,
            "reason": f"import llm_adapter: llm_adapter is this module when {root / 'hermes/core'} is on sys.path",
        }
    ]


# Hermes' tests/conftest.py after the rewrite: ``llm_endpoints.llm_adapter`` is the module-level singleton of
# hermes.api.llm_endpoints, not the legacy module, so it must not keep hermes/core/llm_adapter.py alive.
HERMES_ENDPOINTS = "from tekton_llm_shims.hermes import LLMAdapter\n\nllm_adapter = LLMAdapter()\n"
HERMES_CONFTEST = '''\
"""Shared fixtures: a fresh LLM adapter per test."""

import pytest
from hermes.api import llm_endpoints


@pytest.fixture
def rhetor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_adapter = type(llm_endpoints.llm_adapter)()
    monkeypatch.setattr(llm_endpoints, "llm_adapter", fresh_adapter)
'''


def _hermes(tree, **extra: str):
    files = {"hermes/api/llm_endpoints.py": HERMES_ENDPOINTS, "tests/conftest.py": HERMES_CONFTEST, **extra}
    return _component(tree, **files)


def test_hermes_conftest_pattern_lets_write_delete_the_adapter(tree, cli, read_report) -> None:
    root = _hermes(tree)
    before = {rel: (root / rel).read_bytes() for rel in _snapshot(root)}
    report = root.parent / "cleanup.json"
    result = cli("cleanup", root, "--write", "--report", report)
    assert result.out == f"deleted  {root / 'hermes/core/llm_adapter.py'}  (hermes.core.llm_adapter)\n"
    after = {rel: (root / rel).read_bytes() for rel in _snapshot(root)}
    assert after == {rel: data for rel, data in before.items() if rel != "hermes/core/llm_adapter.py"}
    assert after["tests/conftest.py"] == HERMES_CONFTEST.encode()
    (module,) = read_report(report)["modules"]
    assert (module["status"], module["referenced_by"], "doubts" in module) == ("deleted", [], False)
    assert result.code == 0


@pytest.mark.parametrize(("rel", "source", "why"), list(REACHED.values()), ids=list(REACHED))
def test_every_doubt_still_keeps_it_next_to_the_hermes_conftest(tree, cli, rel, source, why) -> None:
    root = _hermes(tree, **{rel: source})
    result = cli("cleanup", root, "--write")
    adapter = root / "hermes/core/llm_adapter.py"
    assert adapter.read_text() == ADAPTER
    lines = result.out.splitlines()
    # Only the doubtful file keeps it: the conftest is neither a reference nor a doubt.
    assert lines[0] == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}"
    assert lines[1:] == ([] if why is None else [lines[1]])
    if why is not None:
        assert lines[1] == f"           {root / rel}:{why.format(root=root)}"
