"""The closing line of ``.ci/run``: every test that ran, across pytest and node:test output, skips included.

    python3 .ci/summarize.py LOG

prints the reason of each skipped test, then ``ci: N passed, N failed, N skipped`` as its last line. pytest
errors and node:test cancellations count as failed. Standard library only (it runs before any venv exists).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

# pytest's summary: "== 3 failed, 10 passed, 2 skipped, 1 warning in 4.2s ==" or, with -q, the same without "=".
_PYTEST_SUMMARY = re.compile(r"^=*\s*(\d+ [a-z]+(?:, \d+ [a-z]+)*) in [\d.]+s\b")
_PYTEST_COUNT = re.compile(r"(\d+) ([a-z]+)")
_PYTEST_SKIP = re.compile(r"^SKIPPED \[\d+\] (.+)$")
# node:test's TAP totals ("# pass 12") and a skipped test ("ok 3 - name # SKIP reason").
_NODE_COUNT = re.compile(r"^# (pass|fail|skipped|cancelled) (\d+)$")
_NODE_SKIP = re.compile(r"^\s*ok \d+ - (.+?) # SKIP\s*(.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Totals:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    skip_reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"ci: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


# Which total each runner's word adds to.
_PYTEST_FIELDS = {"passed": "passed", "failed": "failed", "error": "failed", "errors": "failed", "skipped": "skipped"}
_NODE_FIELDS = {"pass": "passed", "fail": "failed", "cancelled": "failed", "skipped": "skipped"}


def _add(totals: Totals, fields: dict[str, str], word: str, number: str) -> None:
    name = fields.get(word)
    if name is not None:
        setattr(totals, name, getattr(totals, name) + int(number))


def summarize(text: str) -> Totals:
    totals = Totals()
    for raw in _ANSI.sub("", text).splitlines():
        line = raw.strip()
        if match := _PYTEST_SUMMARY.match(line):
            for number, word in _PYTEST_COUNT.findall(match.group(1)):
                _add(totals, _PYTEST_FIELDS, word, number)
        elif match := _NODE_COUNT.match(line):
            _add(totals, _NODE_FIELDS, match.group(1), match.group(2))
        elif match := _PYTEST_SKIP.match(line):
            totals.skip_reasons.append(f"pytest: {match.group(1)}")
        elif match := _NODE_SKIP.match(raw):
            totals.skip_reasons.append(f"node: {match.group(1)}: {match.group(2) or 'no reason given'}")
    return totals


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8", errors="replace") as log:
        totals = summarize(log.read())
    for reason in totals.skip_reasons:
        print(f"ci: skipped - {reason}")
    print(totals.line())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
