"""Test outcomes per test id from pytest's JUnit XML, and the before/after comparison (parity).

Parity is judged per test id, never on totals: a test that passed before the migration must pass after it; a
test that already failed before is listed as such and never counted against the migration.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Parity", "ResultsError", "TestResult", "compare", "missing_modules", "read_junit"]

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
COLLECTION = "<collection> "
"""Prefix of the id of a module that could not be collected (pytest's junit reports it as a test case)."""


class ResultsError(ValueError):
    """A JUnit report that is missing or not pytest's format."""


@dataclass(frozen=True)
class TestResult:
    """One test case: its outcome and, for a failure, the first line of pytest's message."""

    __test__ = False  # not a pytest test class

    outcome: str
    message: str = ""
    detail: str = ""
    """pytest's traceback text (for a module that failed to import, the ``ModuleNotFoundError`` is only here)."""


def _outcome(case: ET.Element) -> TestResult:
    for tag, outcome in (("failure", FAILED), ("error", ERROR), ("skipped", SKIPPED)):
        child = case.find(tag)
        if child is not None:
            text = (child.get("message") or child.text or "").strip()
            return TestResult(outcome, text.splitlines()[0] if text else tag, child.text or "")
    return TestResult(PASSED)


def _case_id(case: ET.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    if not classname:  # a module that failed to import at collection
        return COLLECTION + name
    return f"{classname}::{name}"


def read_junit(path: Path) -> dict[str, TestResult]:
    """``{test id: result}`` from a pytest ``--junitxml`` report (a test reported twice keeps its worst outcome)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        raise ResultsError(f"no readable JUnit report at {path}: {error}") from error
    if root.tag not in ("testsuites", "testsuite"):
        raise ResultsError(f"{path} is not a JUnit report (root element <{root.tag}>)")
    results: dict[str, TestResult] = {}
    order = (PASSED, SKIPPED, FAILED, ERROR)
    for case in root.iter("testcase"):
        key, result = _case_id(case), _outcome(case)
        previous = results.get(key)
        if previous is None or order.index(result.outcome) > order.index(previous.outcome):
            results[key] = result
    return results


_NO_MODULE = re.compile(r"No module named '([A-Za-z0-9_]+)")


def missing_modules(results: Mapping[str, TestResult]) -> dict[str, list[str]]:
    """Top-level module → ids of tests (or modules) that failed because it is not installed."""
    found: dict[str, list[str]] = {}
    for key, result in results.items():
        match = _NO_MODULE.search(result.message) or _NO_MODULE.search(result.detail)
        if result.outcome in (FAILED, ERROR) and match:
            found.setdefault(match.group(1), []).append(key)
    return found


def _counts(results: Mapping[str, TestResult]) -> tuple[int, int, int]:
    """(tests collected, tests passed, modules that failed collection)."""
    collected = [r for k, r in results.items() if not k.startswith(COLLECTION)]
    broken = sum(1 for k in results if k.startswith(COLLECTION))
    return len(collected), sum(1 for r in collected if r.outcome == PASSED), broken


@dataclass
class Parity:
    """The comparison of one component's test results before and after the migration."""

    collected_before: int
    passed_before: int
    collected_after: int
    passed_after: int
    uncollectable_before: int = 0
    uncollectable_after: int = 0
    regressions: dict[str, str] = field(default_factory=dict)
    """Passed before, not after: id → what happened after (the migration's fault until shown otherwise)."""
    failing_before: dict[str, str] = field(default_factory=dict)
    """Failed (or could not be collected) before the migration: id → outcome after. Not the migration's fault."""
    new_after: dict[str, str] = field(default_factory=dict)
    """Ids seen only after the migration, with their outcome."""

    @property
    def holds(self) -> bool:
        return not self.regressions

    @property
    def fixed(self) -> list[str]:
        return [key for key, after in self.failing_before.items() if after == PASSED]


def compare(before: Mapping[str, TestResult], after: Mapping[str, TestResult]) -> Parity:
    """Per test id: passed before ⇒ must pass after; failed before ⇒ listed, never blamed on the migration."""
    collected_before, passed_before, broken_before = _counts(before)
    collected_after, passed_after, broken_after = _counts(after)
    parity = Parity(collected_before, passed_before, collected_after, passed_after, broken_before, broken_after)
    for key, result in before.items():
        later = after.get(key)
        later_text = later.outcome if later is not None else "missing"
        if result.outcome == PASSED and later_text != PASSED:
            detail = f"{later_text}: {later.message}" if later is not None and later.message else later_text
            parity.regressions[key] = detail
        elif result.outcome in (FAILED, ERROR):
            parity.failing_before[key] = later_text
    for key, result in after.items():
        if key not in before:
            parity.new_after[key] = result.outcome
    return parity
