"""A read-only file that needs a rewrite is refused, like a formatter refuses it: per-file error, exit 2,
bytes and mode untouched. The check is on the mode bits, so it holds for root too (who may write anyway)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

LEGACY = "from terma.core.llm_adapter import LLMAdapter\n"
MIGRATED = "from tekton_llm_shims.terma import LLMAdapter\n"


def test_read_only_file_is_refused_and_left_alone(tree, cli) -> None:
    root = tree({"ro.py": LEGACY, "rw.py": LEGACY})
    (root / "ro.py").chmod(0o444)
    result = cli("rewrite", root)
    assert result.code == 2
    assert (root / "ro.py").read_text() == LEGACY
    assert stat.S_IMODE((root / "ro.py").stat().st_mode) == 0o444
    assert (root / "rw.py").read_text() == MIGRATED  # the other file is still migrated
    assert result.out == f"rewrote {root / 'rw.py'}\n"
    assert (
        f"{root / 'ro.py'}: error: file is read-only (mode 444); not rewritten — make it writable to migrate it"
        in result.err
    )
    assert result.summary == (2, 2, 1, 1)
    assert sorted(os.listdir(root)) == ["ro.py", "rw.py"]  # no temporary file left behind


def test_check_and_diff_still_report_a_read_only_file(tree, cli) -> None:
    root = tree({"ro.py": LEGACY})
    (root / "ro.py").chmod(0o444)
    assert cli("rewrite", "--check", root).code == 1
    diff = cli("rewrite", "--diff", root)
    assert diff.code == 0
    assert "+from tekton_llm_shims.terma import LLMAdapter" in diff.out
    assert (root / "ro.py").read_text() == LEGACY


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to switch to another user")
def test_read_only_file_is_refused_for_a_user_who_does_not_own_it_either(tree) -> None:
    """As root, run the command as ``nobody`` on a tree it may write into, with one file read-only (pytest's
    own temporary folder is private to root, so this tree lives in a fresh world-writable one)."""
    with tempfile.TemporaryDirectory(prefix="tekton-ro-") as scratch:
        os.chmod(scratch, 0o777)
        root = tree({"ro.py": LEGACY}, root=Path(scratch))
        (root / "ro.py").chmod(0o444)
        _run_as_nobody(root)


def _run_as_nobody(root: Path) -> None:
    probe = f"import sys; from tekton_codemods.cli import main; sys.exit(main(['rewrite', {str(root)!r}]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c"]
    # An interpreter whose files only root may read (a pyenv build under /root links its libpython from there), or
    # a checkout in a folder private to root (``mktemp -d``), cannot even load the codemod as nobody: that is this
    # machine, not the codemod, so there is nothing to test (the mode-bits refusal as root is tested above).
    loads = [*as_nobody, "import tekton_codemods.cli"]
    starts = subprocess.run(loads, capture_output=True, text=True, env=env, check=False)
    if starts.returncode != 0:
        pytest.skip(f"nobody cannot load tekton_codemods with {sys.executable} here: {starts.stderr.strip()[-300:]}")
    done = subprocess.run([*as_nobody, probe], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 2, done.stderr
    assert "file is read-only (mode 444)" in done.stderr
    assert (root / "ro.py").read_text() == LEGACY
