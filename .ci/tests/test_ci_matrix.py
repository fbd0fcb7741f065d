"""The matrix the GitHub Actions workflow runs: generated from nox's own listing, never smaller than it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ci_matrix import MatrixError, build_matrix, main

ROOT = Path(__file__).resolve().parents[2]

# The shape nox -l --json prints (captured from this workspace's noxfile, trimmed).
LISTING = [
    {"session": "lint", "name": "lint", "description": "ruff", "python": "3.11", "tags": [], "call_spec": {}},
    {"session": "lowest", "name": "lowest", "description": "floors", "python": "3.10", "tags": [], "call_spec": {}},
    {
        "session": "components-3.10(component='terma')",
        "name": "components",
        "description": "a component",
        "python": "3.10",
        "tags": [],
        "call_spec": {"component": "terma"},
    },
    {
        "session": "components-3.13(component='terma')",
        "name": "components",
        "description": "a component",
        "python": "3.13",
        "tags": [],
        "call_spec": {"component": "terma"},
    },
    {"session": "js", "name": "js", "description": "node", "python": "3.11", "tags": [], "call_spec": {}},
]


def test_one_job_per_session_and_python_in_nox_order() -> None:
    matrix = build_matrix(LISTING, exclude=["js"], expect_pythons=["3.10", "3.11", "3.13"])
    assert matrix == {
        "include": [
            {"session": "lint", "python": "3.11", "name": "lint · py3.11"},
            {"session": "lowest", "python": "3.10", "name": "lowest · py3.10"},
            {
                "session": "components-3.10(component='terma')",
                "python": "3.10",
                "name": "components-3.10(component='terma') · py3.10",
            },
            {
                "session": "components-3.13(component='terma')",
                "python": "3.13",
                "name": "components-3.13(component='terma') · py3.13",
            },
        ]
    }


def test_a_session_without_a_python_runs_on_the_default() -> None:
    listing = [{**LISTING[0], "python": None}]
    assert build_matrix(listing, default_python="3.12")["include"] == [
        {"session": "lint", "python": "3.12", "name": "lint · py3.12"}
    ]


def test_a_python_missing_on_the_listing_runner_fails_instead_of_shrinking_the_matrix() -> None:
    with pytest.raises(MatrixError, match=r"no session runs on Python 3\.12"):
        build_matrix(LISTING, expect_pythons=["3.10", "3.12"])


def test_an_unknown_exclusion_and_an_empty_listing_fail() -> None:
    with pytest.raises(MatrixError, match="does not list: browser"):
        build_matrix(LISTING, exclude=["browser"])
    with pytest.raises(MatrixError, match="no sessions"):
        build_matrix([])


def test_main_writes_the_github_output_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(LISTING)))
    printed = io.StringIO()
    assert main(["--exclude", "js", "--github-output", str(output)], stdout=printed) == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=1"
    assert lines[1].startswith("matrix=")
    assert json.loads(lines[1].removeprefix("matrix=")) == json.loads(printed.getvalue())
    assert len(json.loads(printed.getvalue())["include"]) == 4


def test_main_reports_errors_with_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(LISTING))
    assert main(["--input", str(listing), "--expect-python", "3.9"]) == 1
    assert "no session runs on Python 3.9" in capsys.readouterr().err
    listing.write_text("nox: not json")
    with pytest.raises(SystemExit) as exited:
        main(["--input", str(listing)])
    assert exited.value.code == 2


def test_the_real_noxfile_listing_becomes_the_workflow_matrix() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-l", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    matrix = build_matrix(json.loads(listed.stdout), exclude=["js"])["include"]
    by_session = {item["session"]: item["python"] for item in matrix}
    for session in ("lint", "typecheck", "tests-codemods", "build"):
        assert session in by_session
    # The client and shims suites each run twice: without OpenTelemetry and with the [otel] extra and the SDK.
    for suite in ("tests-client", "tests-shims"):
        assert {name for name in by_session if name.startswith(suite)} == {f"{suite}(plain)", f"{suite}(otel)"}
    assert by_session["lowest"] == "3.10", "the floors are tested on the oldest supported Python"
    assert any(name.startswith("components-") for name in by_session)
    assert "js" not in by_session and "demo" not in by_session and "bench" not in by_session
