"""The closing line of .ci/run counts skips as well as passes and failures, and says why each test was skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from summarize import main, summarize

LOG = """\
nox > Running session tests-client
........s.                                                               [100%]
=========================== short test summary info ============================
SKIPPED [1] packages/tekton-llm-client/tests/test_tokens.py:12: tiktoken has no encoding offline
\x1b[32m630 passed, 1 skipped, 2 warnings in 61.20s (0:01:01)\x1b[0m
nox > Session tests-client was successful in 1 minute.
nox > Running session components-3.12(component='terma')
2 failed, 14 passed, 1 error in 3.01s
================= 3 skipped, 1 deselected in 0.10s =================
nox > Running session js
# Subtest: headless Chromium streams an answer into the page
ok 21 - headless Chromium streams an answer into the page # SKIP /usr/bin/chromium not installed
    ok 2 - nested test # SKIP
# tests 107
# pass 106
# fail 0
# cancelled 1
# skipped 2
no tests ran in 0.01s
"""


def test_counts_every_runner_and_lists_skip_reasons() -> None:
    totals = summarize(LOG)
    assert (totals.passed, totals.failed, totals.skipped) == (630 + 14 + 106, 2 + 1 + 1, 1 + 3 + 2)
    assert totals.skip_reasons == [
        "pytest: packages/tekton-llm-client/tests/test_tokens.py:12: tiktoken has no encoding offline",
        "node: headless Chromium streams an answer into the page: /usr/bin/chromium not installed",
        "node: nested test: no reason given",
    ]
    assert totals.line() == "ci: 750 passed, 4 failed, 6 skipped"


def test_the_closing_line_is_last_and_has_the_plain_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    log.write_text("5 passed in 0.2s\n# pass 3\n# skipped 0\n")
    assert main([str(log)]) == 0
    assert capsys.readouterr().out == "ci: 8 passed, 0 failed, 0 skipped\n"


def test_without_a_log_it_is_a_usage_error() -> None:
    assert main([]) == 2
