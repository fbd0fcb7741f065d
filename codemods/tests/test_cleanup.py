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
    "unparsable-file-naming-it": ("tests/test_z.py", "import hermes.core.llm_adapter\nx = = 1\n"),
}


@pytest.mark.parametrize(("rel", "source"), list(REFERENCES.values()), ids=list(REFERENCES))
def test_any_reference_keeps_the_adapter(tree, cli, rel, source) -> None:
    root = _component(tree, **{rel: source})
    result = cli("cleanup", root, "--write")
    assert (root / "hermes/core/llm_adapter.py").read_text() == ADAPTER
    adapter = root / "hermes/core/llm_adapter.py"
    assert result.out == f"in use   {adapter}  (hermes.core.llm_adapter) by {root / rel}\n"


def test_unparsable_reference_makes_the_run_fail(tree, cli) -> None:
    root = _component(tree, **{"tests/test_z.py": "import hermes.core.llm_adapter\nx = = 1\n"})
    assert cli("cleanup", root, "--write").code == 2


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
