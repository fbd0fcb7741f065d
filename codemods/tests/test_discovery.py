"""Which files a run touches: tool and dependency directories are skipped, symlinks never followed out."""

from __future__ import annotations

import os

import pytest
from tekton_codemods._discovery import discover

LEGACY = "from terma.core.llm_adapter import LLMAdapter\n"
MIGRATED = "from tekton_llm_shims.terma import LLMAdapter\n"


@pytest.mark.parametrize(
    "skipped_dir", [".git", ".venv", ".nox", ".tox", "node_modules", "build", "dist", "__pycache__", ".mypy_cache"]
)
def test_tool_directories_are_skipped(tree, cli, skipped_dir) -> None:
    root = tree({f"{skipped_dir}/inner/m.py": LEGACY, "src/m.py": LEGACY})
    result = cli("rewrite", root)
    assert result.summary == (1, 1, 1, 0)
    assert (root / skipped_dir / "inner/m.py").read_text() == LEGACY
    assert (root / "src/m.py").read_text() == MIGRATED


def test_a_virtualenv_is_recognised_by_pyvenv_cfg_whatever_its_name(tree, cli) -> None:
    root = tree({"env/pyvenv.cfg": "home = /usr\n", "env/lib/site.py": LEGACY, "venv/__init__.py": LEGACY})
    result = cli("rewrite", root)
    # ``venv`` without pyvenv.cfg is an ordinary package (the stdlib has one) and is migrated.
    assert result.summary == (1, 1, 1, 0)
    assert (root / "env/lib/site.py").read_text() == LEGACY
    assert (root / "venv/__init__.py").read_text() == MIGRATED


def test_only_python_sources_are_read(tree, cli) -> None:
    root = tree({"notes.md": LEGACY, "data.json": LEGACY, "stub.pyi": LEGACY, "m.py": LEGACY})
    result = cli("rewrite", root)
    assert result.summary == (2, 2, 2, 0)
    assert (root / "notes.md").read_text() == LEGACY
    assert (root / "stub.pyi").read_text() == MIGRATED


def test_symlink_out_of_the_tree_is_reported_and_not_followed(tmp_path, tree, cli) -> None:
    outside = tree({"lib/m.py": LEGACY, "single.py": LEGACY}, root=tmp_path / "outside")
    root = tree({"m.py": LEGACY}, root=tmp_path / "tree")
    os.symlink(outside / "lib", root / "lib_link")
    os.symlink(outside / "single.py", root / "single_link.py")
    result = cli("rewrite", root)
    assert result.code == 0
    assert (outside / "lib/m.py").read_text() == LEGACY
    assert (outside / "single.py").read_text() == LEGACY
    assert f"{root / 'lib_link'}: skipped: symlink leads out of the tree" in result.err
    assert f"{root / 'single_link.py'}: skipped: symlink leads out of the tree" in result.err
    assert result.summary == (1, 1, 1, 0)


def test_symlink_inside_the_tree_is_not_processed_twice_and_stays_a_link(tmp_path, tree, cli) -> None:
    root = tree({"real/m.py": LEGACY})
    os.symlink(root / "real", root / "alias_dir")
    os.symlink(root / "real" / "m.py", root / "alias.py")
    os.symlink(root, root / "real" / "loop")  # a cycle must not hang the walk
    result = cli("rewrite", root)
    assert result.code == 0
    assert result.summary == (1, 1, 1, 0)
    assert (root / "alias.py").is_symlink()
    assert (root / "real/m.py").read_text() == MIGRATED


def test_exclude_globs_match_relative_paths_and_names(tree, cli) -> None:
    root = tree({"legacy/a.py": LEGACY, "pkg/tests/b.py": LEGACY, "pkg/c.py": LEGACY, "pkg/gen_d.py": LEGACY})
    result = cli("rewrite", root, "--exclude", "legacy/**", "--exclude", "tests", "--exclude", "gen_*.py")
    assert result.summary == (1, 1, 1, 0)
    assert (root / "pkg/c.py").read_text() == MIGRATED
    assert (root / "legacy/a.py").read_text() == LEGACY
    assert (root / "pkg/tests/b.py").read_text() == LEGACY
    assert (root / "pkg/gen_d.py").read_text() == LEGACY


def test_overlapping_roots_list_each_file_once(tree) -> None:
    root = tree({"a/b/m.py": "x = 1\n", "a/n.py": "y = 2\n"})
    found = discover([root / "a", root / "a" / "b", root / "a" / "n.py"])
    assert found.files == [str(root / "a/b/m.py"), str(root / "a/n.py")]


def test_order_is_stable_and_sorted(tree) -> None:
    root = tree({"b.py": "", "a/z.py": "", "a/y.py": "", "c/x.py": ""})
    rel = [os.path.relpath(p, root) for p in discover([root]).files]
    assert rel == ["a/y.py", "a/z.py", "b.py", "c/x.py"]
