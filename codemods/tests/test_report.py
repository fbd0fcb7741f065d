"""The ``--report`` JSON document: its documented schema, checked field by field."""

from __future__ import annotations

import os
from typing import Any

FILE_KEYS = {"path", "status", "changes", "unmoved_names"}
CHANGE_KEYS = {"line", "end_line", "kind", "old", "new"}
UNMOVED_KEYS = {"line", "module", "name", "reason"}
SUMMARY_KEYS = {"scanned", "candidates", "changed", "failed", "skipped", "seconds"}
KINDS = {
    "import-from",
    "relative-import-from",
    "import-from-split",
    "star-import",
    "import-module-from",
    "import",
    "import-as",
    "attribute",
    "string",
}


def check_schema(doc: dict[str, Any]) -> None:
    """Every rule of the README's schema section, so a change to the format fails here first."""
    assert set(doc) == {"version", "tool", "command", "mode", "mapping", "files", "summary"}
    assert doc["version"] == 1
    assert doc["tool"] == "tekton-migrate"
    assert doc["command"] == "rewrite"
    assert doc["mode"] in {"write", "check", "diff"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in doc["mapping"].items())
    for entry in doc["files"]:
        extra = {"failed": {"error"}, "skipped": {"reason"}}.get(entry["status"], set())
        assert set(entry) == FILE_KEYS | extra, entry
        assert entry["status"] in {"changed", "unchanged", "failed", "skipped"}
        for key in extra:
            assert isinstance(entry[key], str) and entry[key]
        for change in entry["changes"]:
            assert set(change) == CHANGE_KEYS
            assert change["kind"] in KINDS
            assert 1 <= change["line"] <= change["end_line"]
            assert isinstance(change["old"], str) and isinstance(change["new"], str)
        for unmoved in entry["unmoved_names"]:
            assert set(unmoved) == UNMOVED_KEYS
            assert unmoved["line"] >= 1
    assert set(doc["summary"]) == SUMMARY_KEYS
    assert all(isinstance(doc["summary"][k], int) for k in SUMMARY_KEYS - {"seconds"})
    assert isinstance(doc["summary"]["seconds"], float)


def test_report_lists_every_outcome_with_its_details(tmp_path, tree, cli, read_report) -> None:
    outside = tree({"elsewhere/x.py": "from terma.core.llm_adapter import LLMAdapter\n"}, root=tmp_path / "out")
    root = tree(
        {
            "changed.py": "from terma.core.llm_adapter import LLMAdapter, helper\nimport os\n",
            "unchanged.py": "from hermes.core.llm_adapter import logger\n",
            "failed.py": "from terma.core.llm_adapter import LLMAdapter\nx = = 1\n",
            "plain.py": "x = 1\n",
        },
        root=tmp_path / "tree",
    )
    os.symlink(outside / "elsewhere", root / "linked")
    report = tmp_path / "report.json"
    result = cli("rewrite", "--check", root, "--report", report)
    assert result.code == 2
    doc = read_report(report)
    check_schema(doc)
    assert doc["mode"] == "check"
    assert doc["mapping"]["terma.core.llm_adapter"] == "tekton_llm_shims.terma"
    by_name = {os.path.basename(entry["path"]): entry for entry in doc["files"]}
    assert set(by_name) == {"changed.py", "unchanged.py", "failed.py", "linked"}  # plain.py: not a candidate
    changed = by_name["changed.py"]
    assert changed["status"] == "changed"
    assert changed["changes"] == [
        {
            "line": 1,
            "end_line": 1,
            "kind": "import-from-split",
            "old": "from terma.core.llm_adapter import LLMAdapter, helper",
            "new": "from tekton_llm_shims.terma import LLMAdapter\nfrom terma.core.llm_adapter import helper",
        }
    ]
    assert changed["unmoved_names"] == [
        {
            "line": 1,
            "module": "terma.core.llm_adapter",
            "name": "helper",
            "reason": "tekton_llm_shims.terma does not provide it",
        }
    ]
    assert by_name["unchanged.py"]["status"] == "unchanged"
    assert by_name["unchanged.py"]["unmoved_names"][0]["name"] == "logger"
    assert by_name["failed.py"]["status"] == "failed"
    assert "syntax error" in by_name["failed.py"]["error"]
    assert by_name["linked"] == {
        "path": str(root / "linked"),
        "status": "skipped",
        "changes": [],
        "unmoved_names": [],
        "reason": "symlink leads out of the tree",
    }
    assert doc["summary"] | {"seconds": 0.0} == {
        "scanned": 4,
        "candidates": 3,
        "changed": 1,
        "failed": 1,
        "skipped": 1,
        "seconds": 0.0,
    }


def test_report_of_a_write_run_records_every_change_kind(tree, cli, read_report) -> None:
    root = tree(
        {
            "terma/core/a.py": "import terma.core.llm_adapter\nterma.core.llm_adapter.LLMAdapter()\n"
            "import terma.core.llm_adapter as t\nfrom terma.core import llm_adapter\n"
            "x = 'terma.core.llm_adapter.LLMAdapter'\n",
            "terma/core/b.py": "from .llm_adapter import LLMAdapter\n",
            "terma/core/c.py": "from oldpkg.sub import *\n",  # inside a package that moves whole
        },
        package="terma.core",
    )
    report = root / "r.json"
    assert cli("rewrite", root, "--report", report, "--map", "oldpkg=newpkg").code == 0
    doc = read_report(report)
    check_schema(doc)
    kinds = sorted(change["kind"] for entry in doc["files"] for change in entry["changes"])
    assert kinds == [
        "attribute",
        "import",
        "import-as",
        "import-module-from",
        "relative-import-from",
        "star-import",
        "string",
    ]
