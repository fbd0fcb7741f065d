"""The run-wide warning for a dotted string moved to a shim while another file keeps importing its legacy module.

Each file is rewritten on its own (in worker processes with ``-j``); only the run sees that a test's
``mock.patch`` now names the shim while the code it patches stays on the legacy module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ADAPTER = (
    "class LLMAdapter:\n"
    "    def analyze_command(self):\n"
    "        return 'legacy-real-chat'\n"
    "\n"
    "def helper():\n"
    "    return 'legacy-helper'\n"
)
TEST = (
    "from unittest import mock\n"
    "\n"
    "from terma.app import prod\n"
    "\n"
    "\n"
    "def run():\n"
    '    with mock.patch("terma.core.llm_adapter.LLMAdapter.analyze_command", return_value="MOCKED"):\n'
    "        return prod.go()\n"
)
# Reads m.helper, which the shim lacks: the import stays on the legacy module.
PROD_STAYS = (
    "import terma.core.llm_adapter as m\n\n\ndef go():\n    return [m.LLMAdapter().analyze_command(), m.helper()]\n"
)
# Reads only what the shim provides: the import moves with the string.
PROD_MOVES = "import terma.core.llm_adapter as m\n\n\ndef go():\n    return [m.LLMAdapter().analyze_command()]\n"
HINT = "(a mock.patch on the shim does not reach code still on the legacy module)"


def _tree(tree, prod: str, extra: dict[str, str] | None = None) -> Path:
    files = {"terma/core/llm_adapter.py": ADAPTER, "terma/app/test_prod.py": TEST, "terma/app/prod.py": prod}
    root = tree({**files, **(extra or {})}, package="terma.app")
    (root / "terma" / "core" / "__init__.py").touch()
    return root


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("tekton-migrate: warning:")]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_warns_once_naming_string_and_import(tree, cli, read_report, tmp_path: Path, jobs: str) -> None:
    root = _tree(tree, PROD_STAYS)
    report = tmp_path / "report.json"
    result = cli("rewrite", "--check", "-j", jobs, "--report", report, root)
    test, prod = root / "terma/app/test_prod.py", root / "terma/app/prod.py"
    message = (
        "1 dotted string now names tekton_llm_shims.terma, but 1 file still imports terma.core.llm_adapter "
        f"{HINT}: {test}:7 (string), {prod}:1 (import)"
    )
    assert _warnings(result.err) == [f"tekton-migrate: warning: {message}"]
    assert result.code == 1  # --check: a file would change; the warning itself does not change the status
    assert result.out == f"would rewrite {test}\n"
    assert read_report(report)["warnings"] == [
        {
            "kind": "split-patch-target",
            "module": "terma.core.llm_adapter",
            "shim": "tekton_llm_shims.terma",
            "message": message,
            "strings": [{"path": str(test), "line": 7}],
            "imports": [{"path": str(prod), "line": 1}],
        }
    ]
    assert test.read_text() == TEST  # --check writes nothing


def test_write_and_diff_warn_and_keep_exit_0(tree, cli) -> None:
    root = _tree(tree, PROD_STAYS)
    diff = cli("rewrite", "--diff", root)
    assert diff.code == 0
    assert len(_warnings(diff.err)) == 1
    written = cli("rewrite", root)
    assert written.code == 0
    assert _warnings(written.err) == _warnings(diff.err)
    assert '"tekton_llm_shims.terma.LLMAdapter.analyze_command"' in (root / "terma/app/test_prod.py").read_text()
    assert (root / "terma/app/prod.py").read_text() == PROD_STAYS
    # The next run has no string to move, so nothing is split by it any more: the run is silent.
    again = cli("rewrite", "--check", root)
    assert again.code == 0
    assert _warnings(again.err) == []


def test_no_warning_when_the_import_moves_too(tree, cli, read_report, tmp_path: Path) -> None:
    root = _tree(tree, PROD_MOVES)
    report = tmp_path / "report.json"
    result = cli("rewrite", "--check", "--report", report, root)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"would rewrite {root / 'terma/app/prod.py'}",
        f"would rewrite {root / 'terma/app/test_prod.py'}",
    ]
    assert _warnings(result.err) == []
    assert "warnings" not in read_report(report)  # present only when the run has some


def test_a_logger_name_left_on_the_legacy_module_does_not_warn(tree, cli) -> None:
    """The shims keep the legacy logger names: nothing is split there."""
    logs = 'import logging\nlog = logging.getLogger("terma.core.llm_adapter")\n'
    root = _tree(tree, PROD_MOVES, {"terma/app/logs.py": logs, "terma/app/test_prod.py": "x = 1\n"})
    result = cli("rewrite", "--check", root)
    assert f"{root / 'terma/app/logs.py'}:2: left on terma.core.llm_adapter" in result.err
    assert _warnings(result.err) == []


def test_a_string_left_on_the_legacy_module_while_imports_moved_warns_the_other_way(tree, cli) -> None:
    """``mock.patch("terma.core.llm_adapter.helper")`` stays (the shim lacks ``helper``) while the code it
    patches moved to the shim: the patch no longer reaches it."""
    logs = 'TARGET = "terma.core.llm_adapter.helper"\n'
    root = _tree(tree, PROD_MOVES, {"terma/app/targets.py": logs, "terma/app/test_prod.py": "x = 1\n"})
    result = cli("rewrite", "--check", root)
    app = root / "terma/app"
    assert f"{app / 'targets.py'}:1: left on terma.core.llm_adapter: helper" in result.err
    assert _warnings(result.err) == [
        "tekton-migrate: warning: 1 dotted string still names terma.core.llm_adapter, but 1 file now imports "
        "tekton_llm_shims.terma instead (a mock.patch on the legacy module does not reach code moved to the shim): "
        f"{app / 'targets.py'}:1 (string), {app / 'prod.py'}:1 (import)"
    ]
    assert result.code == 1


def test_counts_every_site_of_one_module_in_one_warning(tree, cli) -> None:
    """Two strings, two files keeping imports (one of them with two names on one line): one warning."""
    second = 'from unittest import mock\n\nPATCH = mock.patch("terma.core.llm_adapter.LLMAdapter")\n'
    split = "from terma.core.llm_adapter import LLMAdapter, helper, other\n"
    root = _tree(tree, PROD_STAYS, {"terma/app/test_more.py": second, "terma/app/split.py": split})
    result = cli("rewrite", "--check", root)
    app = root / "terma/app"
    assert _warnings(result.err) == [
        "tekton-migrate: warning: 2 dotted strings now name tekton_llm_shims.terma, but 2 files still import "
        f"terma.core.llm_adapter {HINT}: {app / 'test_more.py'}:3 (string), {app / 'test_prod.py'}:7 (string), "
        f"{app / 'prod.py'}:1 (import), {app / 'split.py'}:1 (import)"
    ]
    assert result.code == 1


def test_other_modules_do_not_mix(tree, cli) -> None:
    """A kept import of hermes' legacy module says nothing about strings moved to the terma shim."""
    hermes = "import hermes.core.llm_adapter as h\n\nh.helper()\n"
    root = _tree(tree, PROD_MOVES, {"terma/app/hermes_user.py": hermes})
    result = cli("rewrite", "--check", root)
    assert f"{root / 'terma/app/hermes_user.py'}:1: left on hermes.core.llm_adapter: helper" in result.err
    assert _warnings(result.err) == []


def test_strings_of_a_file_that_failed_do_not_count(tree, cli) -> None:
    """A read-only test file is refused and keeps its legacy string: nothing is split, nothing to warn about."""
    root = _tree(tree, PROD_STAYS)
    test = root / "terma/app/test_prod.py"
    test.chmod(0o444)
    result = cli("rewrite", root)
    assert result.code == 2
    assert f"{test}: error: file is read-only" in result.err
    assert test.read_text() == TEST
    assert _warnings(result.err) == []


def test_use_through_the_package_counts_as_staying_on_the_legacy_module(tree, cli) -> None:
    """``core.llm_adapter.X`` after ``from terma import core`` stays on the legacy module too (reported as
    a use, not an import): the moved patch target no longer reaches it."""
    prod = "from terma import core\n\n\ndef go():\n    return [core.llm_adapter.LLMAdapter().analyze_command()]\n"
    root = _tree(tree, prod)
    result = cli("rewrite", "--check", root)
    test, prod_path = root / "terma/app/test_prod.py", root / "terma/app/prod.py"
    assert _warnings(result.err) == [
        "tekton-migrate: warning: 1 dotted string now names tekton_llm_shims.terma, but 1 file still imports "
        f"terma.core.llm_adapter {HINT}: {test}:7 (string), {prod_path}:5 (import)"
    ]
