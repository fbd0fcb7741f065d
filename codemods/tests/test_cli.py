"""Exit codes, output of --check and --diff, the summary line, and the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LEGACY = "from hermes.core.llm_adapter import LLMAdapter\n"
MIGRATED = "from tekton_llm_shims.hermes import LLMAdapter\n"


def test_nothing_to_do_exits_0(tree, cli) -> None:
    root = tree({"a.py": "import os\n", "b.py": MIGRATED})
    result = cli("rewrite", root)
    assert result.code == 0
    assert result.out == ""
    assert result.summary == (2, 0, 0, 0)


def test_write_mode_rewrites_and_lists_files(tree, cli) -> None:
    root = tree({"a.py": LEGACY, "b.py": "x = 1\n"})
    result = cli("rewrite", root)
    assert result.code == 0
    assert result.out == f"rewrote {root / 'a.py'}\n"
    assert (root / "a.py").read_text() == MIGRATED
    assert result.summary == (2, 1, 1, 0)


def test_check_exits_1_lists_files_and_writes_nothing(tree, cli) -> None:
    root = tree({"a.py": LEGACY, "b.py": LEGACY.replace("hermes", "engram"), "c.py": "x = 1\n"})
    result = cli("rewrite", "--check", root)
    assert result.code == 1
    assert result.out.splitlines() == [f"would rewrite {root / 'a.py'}", f"would rewrite {root / 'b.py'}"]
    assert (root / "a.py").read_text() == LEGACY
    assert result.summary == (3, 2, 2, 0)


def test_check_on_migrated_tree_exits_0(tree, cli) -> None:
    root = tree({"a.py": MIGRATED})
    assert cli("rewrite", "--check", root).code == 0


def test_failure_wins_over_check_changes(tree, cli) -> None:
    root = tree({"a.py": LEGACY, "bad.py": LEGACY + "x = = 1\n"})
    assert cli("rewrite", "--check", root).code == 2


def test_diff_prints_unified_diff_exits_0_and_writes_nothing(tree, cli) -> None:
    source = "import os\n\n" + LEGACY + "\nx = LLMAdapter()\n"
    root = tree({"a.py": source})
    result = cli("rewrite", "--diff", root)
    assert result.code == 0
    assert (root / "a.py").read_text() == source
    path = root / "a.py"
    assert result.out == (
        f"--- a/{path}\n+++ b/{path}\n@@ -1,5 +1,5 @@\n import os\n \n-{LEGACY}+{MIGRATED} \n x = LLMAdapter()\n"
    )


def test_diff_output_applies_with_patch(tree, cli, monkeypatch) -> None:
    source = "a = 1\n" + LEGACY + "b = 2"  # no final newline: the diff must say so, like git
    root = tree({"pkg/a.py": source})
    monkeypatch.chdir(root)
    result = cli("rewrite", "--diff", "pkg")
    assert result.out.startswith("--- a/pkg/a.py\n+++ b/pkg/a.py\n")
    if shutil.which("patch") is None:  # pragma: no cover - depends on the machine
        pytest.skip("patch(1) is not installed")
    subprocess.run(["patch", "-p1", "--quiet"], input=result.out, text=True, cwd=root, check=True)
    assert (root / "pkg/a.py").read_text() == source.replace(LEGACY, MIGRATED)


def test_check_and_diff_are_mutually_exclusive(tree, cli) -> None:
    root = tree({"a.py": LEGACY})
    with pytest.raises(SystemExit) as exc:
        cli("rewrite", "--check", "--diff", root)
    assert exc.value.code == 2


def test_missing_path_is_a_failure(tmp_path, cli) -> None:
    result = cli("rewrite", tmp_path / "nope")
    assert result.code == 2
    assert "no such file or directory" in result.err


def test_bad_map_option_is_a_configuration_error(tree, cli) -> None:
    root = tree({"a.py": LEGACY})
    result = cli("rewrite", root, "--map", "not a module=x")
    assert result.code == 2
    assert "expected OLD=NEW" in result.err
    assert (root / "a.py").read_text() == LEGACY


def test_single_file_argument(tree, cli) -> None:
    root = tree({"a.py": LEGACY, "b.py": LEGACY})
    result = cli("rewrite", root / "a.py")
    assert result.code == 0
    assert (root / "a.py").read_text() == MIGRATED
    assert (root / "b.py").read_text() == LEGACY


def test_jobs_give_the_same_result_as_one_process(tree, cli, read_report) -> None:
    files = {f"pkg{i}/m.py": LEGACY + f"x = {i}\n" for i in range(6)}
    files["bad.py"] = LEGACY + "x = = 1\n"
    serial_root = tree(files, root=Path(tree({}) / "serial"))
    parallel_root = tree(files, root=Path(tree({}) / "parallel"))
    serial = cli("rewrite", serial_root, "--report", serial_root / "r.json")
    parallel = cli("rewrite", parallel_root, "-j", "2", "--report", parallel_root / "r.json")
    assert serial.code == parallel.code == 2
    assert serial.summary == parallel.summary == (7, 7, 6, 1)

    def normalised(root: Path) -> list[tuple[str, str, int]]:
        doc = read_report(root / "r.json")
        return [(Path(f["path"]).relative_to(root).as_posix(), f["status"], len(f["changes"])) for f in doc["files"]]

    assert normalised(serial_root) == normalised(parallel_root)
    for rel in files:
        assert (serial_root / rel).read_bytes() == (parallel_root / rel).read_bytes()


def test_installed_console_script(tree) -> None:
    script = Path(sys.executable).with_name("tekton-migrate")
    if not script.exists():  # pragma: no cover - not installed as a distribution
        pytest.skip("tekton-migrate console script is not installed next to this interpreter")
    root = tree({"a.py": LEGACY})
    done = subprocess.run([script, "rewrite", "--check", root], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout == f"would rewrite {root / 'a.py'}\n"
    assert done.stderr.startswith("tekton-migrate: 1 file scanned, 1 candidate, 1 changed, 0 failed in ")


def test_module_entry_point(tree) -> None:
    root = tree({"a.py": "x = 1\n"})
    done = subprocess.run(
        [sys.executable, "-m", "tekton_codemods", "rewrite", root], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stderr.startswith("tekton-migrate: 1 file scanned, 0 candidates, 0 changed, 0 failed in ")


def test_report_that_cannot_be_written_fails_the_run(tree, cli, tmp_path) -> None:
    root = tree({"a.py": LEGACY})
    result = cli("rewrite", root, "--report", tmp_path / "no-such-dir" / "r.json")
    assert result.code == 2
    assert "cannot write report" in result.err
    assert (root / "a.py").read_text() == MIGRATED  # the rewrite itself happened and is reported as such


def test_clean_tree_never_imports_the_parser_or_rich(tree) -> None:
    root = tree({"a.py": "import os\n", "b.py": MIGRATED})
    probe = (
        "import sys\nfrom tekton_codemods.cli import main\n"
        f"code = main(['rewrite', '--check', {str(root)!r}])\n"
        "print(code, 'libcst' in sys.modules, 'rich' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "0 False False\n"


def test_counts_are_spelled_for_one_and_for_many(tree, cli) -> None:
    one = cli("rewrite", "--check", tree({"one/a.py": LEGACY}) / "one")
    assert one.err.splitlines()[-1].startswith("tekton-migrate: 1 file scanned, 1 candidate, 1 changed, 0 failed in ")
    many = cli("rewrite", "--check", tree({"two/a.py": LEGACY, "two/b.py": LEGACY, "two/c.py": "x = 1\n"}) / "two")
    assert many.err.splitlines()[-1].startswith("tekton-migrate: 3 files scanned, 2 candidates, 2 changed, 0 failed")


def test_help_defines_a_candidate() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tekton_codemods", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(done.stdout.split())
    assert "candidate: a file whose bytes spell the last part of a legacy module name (llm_adapter)" in text


def test_syntax_error_position_is_the_one_python_reports(tree, cli) -> None:
    root = tree({"bad.py": "# llm_adapter\ndef f(:\n    pass\n"})
    try:
        compile("# llm_adapter\ndef f(:\n    pass\n", "bad.py", "exec")
    except SyntaxError as exc:
        expected = f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}"
    assert expected.startswith("syntax error at line 2, ")
    result = cli("rewrite", root)
    assert result.err.splitlines()[0] == f"{root / 'bad.py'}: error: {expected}"
    assert result.code == 2


def test_jobs_default_to_the_cpu_count() -> None:
    from tekton_codemods.cli import build_parser

    args = build_parser().parse_args(["rewrite", "."])
    assert args.jobs == 0  # 0 means one process per CPU; -j 1 forces a single process
