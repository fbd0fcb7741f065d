"""One matrix cell end to end on a tiny Tekton-shaped monorepo (real files, the real pytest and tekton-migrate):
the whole tree copied, code importing ``shared.*``/``tekton.*`` from the tree root, tests before and after the
migration, parity per test id, the closing row; and the install step's guard against heavy stacks."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from tekton_codemods.matrix import ComponentSettings, InstallPlan, MatrixError, locked_names
from tekton_codemods.matrix._cli import main
from tekton_codemods.matrix._run import CellOptions, install

ROW = "| {:<10} | {:<6} | {:<16} | {:<13} | {:<15} | {:<12} | {:<9} |"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


MONOREPO = {
    # Tekton's root is a package whose __init__ cannot be imported in a test run: pytest must not collect it.
    "__init__.py": "import tekton.core.vector_store_that_is_not_there\n",
    "shared/utils/helpers.py": "def greet():\n    return 'hello'\n",
    "shared/requirements/base.txt": "# the essentials\n",
    "tekton/__init__.py": "",
    "tekton/core.py": "VALUE = 42\n",
    "Hermes/requirements.txt": "-r ../shared/requirements/base.txt\n",
    "Hermes/hermes/__init__.py": "",
    "Hermes/hermes/core/__init__.py": "",
    "Hermes/hermes/core/llm_adapter.py": "class LLMAdapter:\n    adapter_url = 'http://localhost:8300'\n",
    "Hermes/hermes/api.py": (
        "from shared.utils.helpers import greet\nfrom tekton.core import VALUE\n\n\n"
        "def make_adapter():\n    from hermes.core.llm_adapter import LLMAdapter\n\n    return LLMAdapter()\n"
    ),
    "Hermes/tests/__init__.py": "",
    "Hermes/tests/test_api.py": (
        "from hermes import api\n\n\n"
        "def test_uses_the_tree_roots_packages():\n    assert (api.greet(), api.VALUE) == ('hello', 42)\n\n\n"
        "def test_broken_before_and_after():\n    assert api.VALUE == 0\n"
    ),
    "Hermes/examples/test_demo.py": "def test_needs_a_live_service():\n    raise ConnectionError('no Hermes')\n",
    # Like Tekton's Rhetor/rhetor/utils/hermes_helper.py: mentions llm_adapter and does not parse.
    "Rhetor/rhetor/utils/hermes_helper.py": 'HELPER = {"replaces": "llm_adapter"}\n    stray line\n',
    "Telos/requirements.txt": "-r ../shared/requirements/base.txt\n",
    "Telos/telos/__init__.py": "",
    "Telos/telos/core/__init__.py": "",
    "Telos/telos/core/llm_adapter.py": "class LLMAdapter:\n    pass\n",
    "Telos/examples/test_fastmcp.py": "def test_against_a_running_server():\n    raise ConnectionError\n",
}


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "Tekton", MONOREPO)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A work folder inside a checkout (``.git``) whose own pytest configuration would break the component's run
    and whose own code imports the legacy module (as this workspace's codemods and tests do)."""
    return write_tree(tmp_path / "workspace", {
        ".git/HEAD": "ref: refs/heads/main\n",
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--option-of-the-workspace-only"\n',
        "tools/mapping.py": "from hermes.core.llm_adapter import LLMAdapter\n",
    })


def run(tree: Path, component: str, workdir: Path, *extra: str) -> int:
    return main(["run", "--tree", str(tree), "--component", component, "--workdir", str(workdir),
                 "--no-install", "--python-label", "3.x", *extra])


def test_parity_holds_on_a_copy_of_the_whole_tree(
    monorepo: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = workspace / ".nox" / "components" / "tmp" / "matrix"

    code = run(monorepo, "Hermes", workdir)

    out = capsys.readouterr().out
    assert code == 0
    assert ROW.format("Hermes", "3.x", 2, 1, 2, 1, "holds") in out
    assert ("failed before the migration, not blamed on it (1): tests.test_api::test_broken_before_and_after "
            "(after: failed)") in out
    assert "rewrite: rewrote hermes/api.py" in out and "cleanup: deleted hermes/core/llm_adapter.py" in out
    # cleanup searched the whole copy and could not read Rhetor's broken file: not this component's failure.
    assert "cleanup: exit 2 for files outside Hermes it could not read (not this component's migration): " \
        "Rhetor/rhetor/utils/hermes_helper.py" in out
    # The copy was migrated, the original was not; every file a message names still exists.
    copy = workdir / "tree" / "Hermes"
    assert "from tekton_llm_shims.hermes import LLMAdapter" in (copy / "hermes" / "api.py").read_text()
    assert not (copy / "hermes" / "core" / "llm_adapter.py").exists()
    assert (monorepo / "Hermes" / "hermes" / "core" / "llm_adapter.py").exists()
    assert (monorepo / "Hermes" / "hermes" / "api.py").read_text() == MONOREPO["Hermes/hermes/api.py"]
    for name in ("before.log", "after.log", "migrate.log", "before.xml", "after.xml"):
        assert (workdir / name).is_file(), name
    result = json.loads((workdir / "result.json").read_text())
    assert result["verdict"] == "holds" and result["parity"]["passed_after"] == 1


def test_a_test_that_passed_before_and_fails_after_breaks_parity(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(monorepo, {"Hermes/tests/test_adapter.py": (  # a test of the tree, not an import of the module
        "from pathlib import Path\n\nimport hermes\n\n\n"
        "def test_reaches_the_legacy_module():\n"
        "    assert (Path(hermes.__file__).parent / 'core' / 'llm_adapter.py').is_file()\n"
    )})

    code = run(monorepo, "Hermes", tmp_path / "work")

    out = capsys.readouterr().out
    assert code == 1
    assert ROW.format("Hermes", "3.x", 3, 2, 3, 1, "BROKEN") in out
    assert "REGRESSION: tests.test_adapter::test_reaches_the_legacy_module passed before, after: failed" in out


def test_a_file_of_the_component_that_cannot_be_migrated_breaks_it(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(monorepo, {"Hermes/hermes/broken.py": "from hermes.core.llm_adapter import LLMAdapter\ndef f(:\n"})

    code = run(monorepo, "Hermes", tmp_path / "work")

    out = capsys.readouterr().out
    assert code == 1
    assert ROW.format("Hermes", "3.x", 2, 1, 2, 1, "BROKEN") in out
    assert f"migration failed: tekton-migrate rewrite exited 2; see {tmp_path / 'work' / 'migrate.log'}" in out


def test_a_component_without_tests_says_so(monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(monorepo, "Telos", tmp_path / "work")

    out = capsys.readouterr().out
    assert code == 0
    assert ROW.format("Telos", "3.x", 0, 0, 0, 0, "no tests") in out
    assert "no tests: pytest collects no test in Telos (examples/ not counted as tests)" in out
    assert "cleanup: deleted telos/core/llm_adapter.py" in out


def test_strict_mode_wants_every_test_green_after(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monorepo, "Hermes", tmp_path / "work", "--strict") == 1
    assert "--strict: every test must pass after the migration" in capsys.readouterr().out


def test_a_read_only_checkout_gives_a_writable_copy(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = sorted(monorepo.rglob("*"), reverse=True)
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        code = run(monorepo, "Hermes", tmp_path / "work")
    finally:
        for path in [monorepo, *paths]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    assert code == 0, capsys.readouterr().out
    copied = tmp_path / "work" / "tree" / "Hermes" / "hermes" / "api.py"
    assert copied.stat().st_mode & stat.S_IWUSR
    assert "tekton_llm_shims.hermes" in copied.read_text()


def test_unknown_component_is_an_error_row(monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monorepo, "Apollo", tmp_path / "work") == 2
    assert "error: no folder 'Apollo' in" in capsys.readouterr().out


# -- the install step -------------------------------------------------------------------------------------------

FAKE_UV = """#!{python}
import json, pathlib, sys
args = sys.argv[1:]
with open("calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] == ["pip", "compile"]:
    overrides = pathlib.Path("overrides.txt").read_text()
    if "websockets>=14.1" not in overrides:
        sys.exit("error: websockets>=11,<12 conflicts with the client's websockets>=14.1")
    pathlib.Path(args[args.index("-o") + 1]).write_text({lock!r})
"""


def fake_uv(folder: Path, lock: str) -> str:
    path = folder / "uv"
    path.write_text(FAKE_UV.format(python=sys.executable, lock=lock), encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def calls(workdir: Path) -> list[list[str]]:
    return [json.loads(line) for line in (workdir / "calls.jsonl").read_text().splitlines()]


def plan_for(tmp_path: Path) -> InstallPlan:
    return InstallPlan(
        requirements=["websockets>=11,<12", f"tekton-core @ {tmp_path.as_uri()}"],
        overrides=["torch ; sys_platform == 'never'"],
        superseding=["websockets>=14.1"],
        superseded=["websockets: Terma/requirements.txt:3 asks >=11,<12; the workspace needs >=14.1, which wins"],
        local={"tekton-core": tmp_path},
        provided={"tekton-llm-client": tmp_path},
    )


def test_heavy_packages_in_a_resolution_stop_the_install(tmp_path: Path) -> None:
    lock = "numpy==2.0\n    # via tekton-core\nnvidia-cudnn-cu12==9.1\n    # via\n    #   torch-like-thing\n"
    options = CellOptions(tree=tmp_path, component="Engram", workdir=tmp_path, uv=fake_uv(tmp_path, lock))

    with pytest.raises(MatrixError, match=r"would download heavy packages: nvidia-cudnn-cu12 \(via torch-like-thing\)"):
        install(plan_for(tmp_path), ComponentSettings(), options)

    assert [call[:2] for call in calls(tmp_path)] == [["pip", "compile"], ["pip", "compile"]]  # never "pip sync"


def test_pins_give_way_to_the_workspace_only_when_they_cannot_be_resolved(tmp_path: Path) -> None:
    options = CellOptions(tree=tmp_path, component="Terma", workdir=tmp_path, uv=fake_uv(tmp_path, "numpy==2.0\n"))

    notes = install(plan_for(tmp_path), ComponentSettings(), options)

    compile_first, _, sync = calls(tmp_path)
    assert compile_first[-4:] == ["--python", sys.executable, "-o", "lock.txt"]
    assert sync == ["pip", "sync", "--python", sys.executable, "lock.txt", "--reinstall-package", "tekton-core",
                    "--reinstall-package", "tekton-llm-client"]
    assert (tmp_path / "overrides.txt").read_text() == "torch ; sys_platform == 'never'\nwebsockets>=14.1\n"
    assert len(notes) == 1 and "they gave way: websockets: Terma/requirements.txt:3 asks >=11,<12" in notes[0]


def test_locked_names_with_their_via_annotations(tmp_path: Path) -> None:
    (tmp_path / "lock.txt").write_text(
        "# This file was autogenerated by uv\n-e /abs/tekton-core\n    # via -r requirements.in\n"
        "faiss-cpu==1.15.1\n    # via tekton-core\nnumpy==2.4.6\n    # via\n    #   faiss-cpu\n    #   tekton-core\n"
        f"tekton-llm-client @ {tmp_path.as_uri()}\n",
        encoding="utf-8",
    )

    assert locked_names(tmp_path / "lock.txt") == {
        "/abs/tekton-core": ["-r requirements.in"],
        "faiss-cpu": ["tekton-core"],
        "numpy": ["faiss-cpu", "tekton-core"],
        "tekton-llm-client": [],
    }


def test_without_uv_the_cli_says_what_is_missing(monorepo: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("UV", raising=False)

    code = main(["run", "--tree", str(monorepo), "--component", "Hermes", "--workdir", str(tmp_path / "w")])

    assert code == 2
    assert "uv is required" in capsys.readouterr().err


def test_a_folder_the_matrix_did_not_make_is_never_emptied(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = write_tree(tmp_path / "notes", {"thesis.txt": "years of work\n"})

    assert run(monorepo, "Telos", precious) == 2

    assert "refusing to empty" in capsys.readouterr().out
    assert (precious / "thesis.txt").read_text() == "years of work\n"
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.txt"]


def test_a_second_run_replaces_the_first(monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workdir = tmp_path / "work"
    assert run(monorepo, "Telos", workdir) == 0
    (workdir / "leftover.txt").write_text("from the first run\n")

    assert run(monorepo, "Telos", workdir) == 0

    assert not (workdir / "leftover.txt").exists() and (workdir / "result.json").is_file()
