"""Results per test id from real pytest JUnit reports, and parity: passed before ⇒ must pass after; failed before
⇒ listed, never blamed on the migration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tekton_codemods.matrix import ResultsError, TestResult, compare, missing_modules, read_junit

SUITE = {
    "tests/__init__.py": "",
    "tests/test_mixed.py": (
        "import pytest\n\n"
        "def test_passes():\n    assert 1 + 1 == 2\n\n"
        "def test_fails():\n    assert 'before' == 'after'\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture broke')\n\n"
        "def test_errors(broken):\n    pass\n\n"
        "@pytest.mark.skip(reason='not here')\ndef test_skipped():\n    pass\n\n"
        "class TestGroup:\n    @pytest.mark.parametrize('n', [1, 2])\n"
        "    def test_param(self, n):\n        assert n == 1\n"
    ),
    "tests/test_needs_torch.py": "import torch_is_not_installed_here as torch\n\ndef test_tensor():\n    pass\n",
}


def junit_of(tmp_path: Path, files: dict[str, str]) -> Path:
    """Run the real pytest on ``files`` and return its JUnit report."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--continue-on-collection-errors",
         f"--junitxml={report}", "-q", "tests"],
        cwd=tmp_path, capture_output=True, check=False,
    )
    return report


def test_outcomes_per_test_id_from_a_real_report(tmp_path: Path) -> None:
    results = read_junit(junit_of(tmp_path, SUITE))

    assert {key: r.outcome for key, r in results.items()} == {
        "tests.test_mixed::test_passes": "passed",
        "tests.test_mixed::test_fails": "failed",
        "tests.test_mixed::test_errors": "error",
        "tests.test_mixed::test_skipped": "skipped",
        "tests.test_mixed.TestGroup::test_param[1]": "passed",
        "tests.test_mixed.TestGroup::test_param[2]": "failed",
        "<collection> tests.test_needs_torch": "error",
    }
    assert results["tests.test_mixed::test_fails"].message.startswith("AssertionError: assert 'before' == 'after'")
    assert missing_modules(results) == {"torch_is_not_installed_here": ["<collection> tests.test_needs_torch"]}


def test_parity_per_test_id(tmp_path: Path) -> None:
    passed, failed = TestResult("passed"), TestResult("failed", "AssertionError")
    before = {"a": passed, "b": passed, "c": failed, "d": failed, "e": passed, "<collection> m": TestResult("error")}
    after = {"a": passed, "b": TestResult("failed", "ImportError: no shim"), "c": failed, "d": passed,
             "n": failed, "<collection> m": TestResult("error")}

    parity = compare(before, after)

    assert parity.regressions == {"b": "failed: ImportError: no shim", "e": "missing"}
    assert parity.failing_before == {"c": "failed", "d": "passed", "<collection> m": "error"}
    assert parity.fixed == ["d"]
    assert parity.new_after == {"n": "failed"}
    assert (parity.collected_before, parity.passed_before, parity.collected_after, parity.passed_after) == (5, 3, 5, 2)
    assert (parity.uncollectable_before, parity.uncollectable_after) == (1, 1)
    assert not parity.holds


def test_a_test_failing_before_and_after_does_not_break_parity() -> None:
    parity = compare({"a": TestResult("passed"), "b": TestResult("failed")},
                     {"a": TestResult("passed"), "b": TestResult("failed")})

    assert parity.holds and parity.failing_before == {"b": "failed"}


def test_missing_or_foreign_report_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no readable JUnit report"):
        read_junit(tmp_path / "absent.xml")
    (tmp_path / "other.xml").write_text("<html/>", encoding="utf-8")
    with pytest.raises(ResultsError, match="not a JUnit report"):
        read_junit(tmp_path / "other.xml")
