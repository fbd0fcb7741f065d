"""Writes replace the file atomically and keep its permission bits."""

from __future__ import annotations

import os
import stat

import pytest
from tekton_codemods._atomic import ConcurrentChangeError, atomic_write


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755, 0o640])
def test_rewrite_keeps_permission_bits(tree, cli, mode) -> None:
    root = tree({"m.py": "from terma.core.llm_adapter import LLMAdapter\n"})
    (root / "m.py").chmod(mode)
    assert cli("rewrite", root).code == 0
    assert stat.S_IMODE((root / "m.py").stat().st_mode) == mode
    assert (root / "m.py").read_text() == "from tekton_llm_shims.terma import LLMAdapter\n"


def test_write_replaces_the_inode_so_readers_never_see_a_partial_file(tmp_path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"old\n")
    with path.open("rb") as reader:  # an open reader keeps the old content
        before_inode = os.fstat(reader.fileno()).st_ino
        atomic_write(path, b"new\n", expected=b"old\n")
        assert reader.read() == b"old\n"
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_ino != before_inode
    assert os.listdir(tmp_path) == ["m.py"]


def test_write_refuses_when_the_file_changed(tmp_path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"edited by someone\n")
    with pytest.raises(ConcurrentChangeError):
        atomic_write(path, b"new\n", expected=b"old\n")
    assert path.read_bytes() == b"edited by someone\n"
    assert os.listdir(tmp_path) == ["m.py"]
