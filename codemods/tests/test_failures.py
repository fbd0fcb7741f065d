"""Files that cannot be handled are reported and left exactly as they were; the run goes on."""

from __future__ import annotations

import os

import libcst as cst
import pytest
from tekton_codemods import _atomic, _rewrite

GOOD = "from terma.core.llm_adapter import LLMAdapter\n"
GOOD_AFTER = "from tekton_llm_shims.terma import LLMAdapter\n"

BROKEN = {
    "syntax-error": b"from terma.core.llm_adapter import LLMAdapter\nx = = 1\n",
    "undecodable-utf8": b"from terma.core.llm_adapter import LLMAdapter\ns = '\xff\xfe'\n",
    "cookie-names-unknown-codec": b"# -*- coding: no-such-codec -*-\nfrom terma.core.llm_adapter import LLMAdapter\n",
    "bom-contradicts-cookie": b"\xef\xbb\xbf# coding: latin-1\nfrom terma.core.llm_adapter import LLMAdapter\n",
}


@pytest.mark.parametrize("content", list(BROKEN.values()), ids=list(BROKEN))
def test_broken_file_is_reported_and_untouched_while_others_are_rewritten(tree, cli, read_report, content) -> None:
    root = tree({"bad.py": content, "good.py": GOOD})
    report = root / "report.json"
    result = cli("rewrite", root, "--report", report)
    assert result.code == 2
    assert (root / "bad.py").read_bytes() == content
    assert (root / "good.py").read_text() == GOOD_AFTER
    assert result.summary == (2, 2, 1, 1)
    assert f"{root / 'bad.py'}: error: " in result.err
    statuses = {entry["path"]: (entry["status"], entry.get("error")) for entry in read_report(report)["files"]}
    status, error = statuses[str(root / "bad.py")]
    assert status == "failed"
    assert error


def test_syntax_error_message_names_the_line(tree, cli) -> None:
    root = tree({"bad.py": BROKEN["syntax-error"]})
    result = cli("rewrite", root)
    assert "syntax error at line 2" in result.err


def test_syntax_error_without_a_legacy_reference_is_never_parsed(tree, cli) -> None:
    # The prefilter rejects it before any parse, so it is neither a candidate nor a failure.
    root = tree({"bad.py": b"def broken(:\n"})
    result = cli("rewrite", root)
    assert result.code == 0
    assert result.summary == (1, 0, 0, 0)


def test_failure_in_the_middle_of_a_write_leaves_the_original_intact(tree, cli, monkeypatch) -> None:
    root = tree({"pkg/mod.py": GOOD, "pkg/other.py": "x = 1\n"})

    def crash(fd: int) -> None:  # the new bytes are in the temp file, not yet renamed over the original
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "fsync", crash)
    result = cli("rewrite", root)
    assert result.code == 2
    assert (root / "pkg/mod.py").read_text() == GOOD
    assert sorted(os.listdir(root / "pkg")) == ["mod.py", "other.py"]  # no temp file left behind
    assert "cannot write" in result.err
    assert "No space left on device" in result.err


def test_file_changed_between_read_and_write_is_not_overwritten(tree, cli, monkeypatch) -> None:
    root = tree({"mod.py": GOOD})
    real_fsync = os.fsync

    def edit_meanwhile(fd: int) -> None:
        real_fsync(fd)
        (root / "mod.py").write_text(GOOD + "# someone else's edit\n")

    monkeypatch.setattr(_atomic.os, "fsync", edit_meanwhile)
    result = cli("rewrite", root)
    assert result.code == 2
    assert (root / "mod.py").read_text() == GOOD + "# someone else's edit\n"
    assert "changed while it was being migrated" in result.err


class _Vandal(cst.CSTTransformer):
    """A stand-in for a buggy transformer: edits a line no rewrite recorded."""

    def __init__(self, table: object, **decisions: object) -> None:
        super().__init__()
        self.changes: list[object] = []
        self.unmoved: list[object] = []

    def leave_Integer(self, original_node: cst.Integer, updated_node: cst.Integer) -> cst.Integer:
        return updated_node.with_changes(value="2")


class _Breaker(_Vandal):
    """A stand-in for a transformer that emits code which does not parse."""

    def leave_Integer(self, original_node: cst.Integer, updated_node: cst.Integer) -> cst.BaseExpression:
        return cst.Name("import")  # constructs fine, cannot be parsed back


@pytest.mark.parametrize(
    ("transformer", "message"),
    [(_Vandal, "changed outside any rewrite"), (_Breaker, "does not compile")],
    ids=["edit-outside-recorded-changes", "unparsable-output"],
)
def test_output_failing_verification_is_not_written(tree, cli, monkeypatch, transformer, message) -> None:
    # The integer shares a statement with the legacy string (the transformers visit it), not its line.
    before = 'patch(\n    "terma.core.llm_adapter.LLMAdapter",\n    1,\n)\n'
    root = tree({"mod.py": before})
    monkeypatch.setattr(_rewrite, "StringRefRewriter", transformer)
    result = cli("rewrite", root)
    assert result.code == 2
    assert (root / "mod.py").read_text() == before
    assert message in result.err
