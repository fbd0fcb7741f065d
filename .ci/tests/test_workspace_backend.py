"""The workspace root is a uv workspace, not a package: building it stops with a message that says what to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import workspace_backend

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("hook", ["get_requires_for_build_editable", "build_editable", "build_wheel", "build_sdist"])
def test_every_build_hook_refuses_with_the_way_out(hook: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="the workspace root cannot be built or installed"):
        getattr(workspace_backend, hook)("unused")
    err = capsys.readouterr().err
    assert "uv sync" in err
    assert 'pip install -e "packages/tekton-llm-client[testing,yaml,tokens]"' in err


def test_the_root_pyproject_uses_it_and_is_a_uv_workspace_of_the_three() -> None:
    # tomllib is 3.11+; the lint session that runs this is on 3.11.
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["build-system"] == {"requires": [], "build-backend": "workspace_backend", "backend-path": [".ci"]}
    assert config["tool"]["uv"]["package"] is False
    members = config["tool"]["uv"]["workspace"]["members"]
    assert members == ["packages/tekton-llm-client", "shims", "codemods"]
    assert all((ROOT / member / "pyproject.toml").is_file() for member in members)


def test_pip_style_hook_call_in_a_subprocess_exits_1_with_the_message() -> None:
    code = "import workspace_backend; workspace_backend.get_requires_for_build_editable()"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / ".ci", capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 1
    assert "The workspace root is not a package" in done.stderr
    assert "Traceback" not in done.stderr
