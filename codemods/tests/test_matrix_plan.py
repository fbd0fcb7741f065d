"""The install plan on a tiny Tekton-shaped monorepo: shared includes, a tree-local tekton-core, the workspace's
client standing in for the tree's, heavy stacks kept out (also when a dependency pulls them), settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from tekton_codemods.matrix import (
    ComponentSettings,
    MatrixConfigError,
    PlanError,
    Provided,
    build_plan,
    find_local_packages,
    load_settings,
    parse_provide,
)

NEVER = "sys_platform == 'never'"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


SETUP = 'from setuptools import setup, find_packages\n\nsetup(\n    name="{name}",\n    install_requires={deps},\n)\n'


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "Tekton", {
        "setup.py": SETUP.format(name="tekton-core", deps='["torch>=1.10"]'),  # the root repeats tekton-core's
        "tekton-core/setup.py": SETUP.format(name="tekton-core", deps='["faiss-cpu", "torch>=1.10"]'),
        "tekton-llm-client/setup.py": SETUP.format(name="tekton-llm-client", deps="[]"),  # the tree's legacy one
        "Hermes/setup.py": SETUP.format(name="hermes", deps='["sentence-transformers"]'),
        "shared/requirements/base.txt": "python-dotenv>=1.0.0\n",
        "shared/requirements/vector.txt": "numpy>=1.26.0\nsentence-transformers>=2.2.2  # embeddings\ntorch>=2.0.0\n",
        "Hermes/requirements.txt": (
            "-r ../shared/requirements/base.txt\n-r ../shared/requirements/vector.txt\n"
            "tekton-llm-client>=1.0.0\ntekton-core>=0.1.0\nwebsockets>=11.0.3,<12.0.0\n"
        ),
    })


@pytest.fixture
def client(tmp_path: Path) -> Provided:
    path = write_tree(tmp_path / "workspace" / "client", {"pyproject.toml": (
        '[project]\nname = "tekton-llm-client"\nversion = "0.3.0"\n'
        'dependencies = ["httpx>=0.27", "websockets>=14.1", "async-timeout>=4; python_version<\'3.11\'"]\n'
        '[project.optional-dependencies]\ntesting = ["uvicorn>=0.39"]\n'
    )})
    return Provided("tekton-llm-client", path, ("testing",))


def test_local_packages_prefer_the_folder_named_like_the_distribution(monorepo: Path) -> None:
    assert find_local_packages(monorepo) == {
        "tekton-core": monorepo / "tekton-core",
        "tekton-llm-client": monorepo / "tekton-llm-client",
        "hermes": monorepo / "Hermes",
    }


def test_tekton_component_plan(monorepo: Path, client: Provided) -> None:
    component = monorepo / "Hermes"

    plan = build_plan(component, monorepo, ComponentSettings(), provided=[client], workspace=["pytest>=8.3"])

    client_line = f"tekton-llm-client[testing] @ {client.path.as_uri()}"
    core_line = f"tekton-core @ {(monorepo / 'tekton-core').as_uri()}"
    assert plan.requirements == [
        "python-dotenv>=1.0.0", "numpy>=1.26.0", client_line, core_line, "websockets>=11.0.3,<12.0.0", "pytest>=8.3",
    ]
    assert [(d.name, d.origin) for d in plan.dropped] == [
        ("sentence-transformers", "shared/requirements/vector.txt:2"), ("torch", "shared/requirements/vector.txt:3"),
    ]
    # Whoever pulls them (tekton-core's own install_requires names torch): overridden away in every resolution.
    assert f"torch ; {NEVER}" in plan.overrides and f"sentence-transformers ; {NEVER}" in plan.overrides
    assert client_line in plan.overrides and core_line in plan.overrides
    assert not any(line.startswith("hermes") for line in plan.overrides)  # the component itself is not overridden
    assert plan.local == {"tekton-core": monorepo / "tekton-core"}
    assert plan.python_path == [component.resolve(), monorepo.resolve()]  # as shared/utils/setup_env.sh
    assert plan.declared_in == "requirements.txt"


def test_superseding_overrides_name_only_what_the_component_declares(monorepo: Path, client: Provided) -> None:
    plan = build_plan(monorepo / "Hermes", monorepo, ComponentSettings(), provided=[client], workspace=[])

    assert plan.superseding == ["websockets>=14.1"]
    assert plan.superseded == [
        "websockets: Hermes/requirements.txt:5 asks >=11.0.3,<12.0.0; the workspace needs >=14.1, which wins"
    ]


def test_allowing_a_heavy_stack_in_pyproject_keeps_it(monorepo: Path, client: Provided) -> None:
    write_tree(monorepo, {"pyproject.toml": (
        "[tool.tekton-migrate.matrix]\nexclude = [\"numpy\"]\n"
        "[tool.tekton-migrate.matrix.components.hermes]\nallow = [\"torch\"]\nadd = [\"requests>=2.31\"]\n"
        "tests = [\"tests/unit\"]\ntimeout = 60\n"
    )})
    settings = load_settings("Hermes", tree=monorepo)

    plan = build_plan(monorepo / "Hermes", monorepo, settings, provided=[client], workspace=[])

    assert "torch>=2.0.0" in plan.requirements and f"torch ; {NEVER}" not in plan.overrides
    assert [d.name for d in plan.dropped] == ["numpy", "sentence-transformers"]
    assert plan.requirements[-1] == "requests>=2.31"
    assert settings.tests == ("tests/unit",) and settings.timeout == 60.0
    assert settings.source == str(monorepo / "pyproject.toml")
    # Another component of the same tree gets the tree-wide settings only.
    assert load_settings("Engram", tree=monorepo).is_excluded("torch")


def test_allow_from_the_environment_and_the_cuda_guard(monorepo: Path) -> None:
    everything = load_settings("Hermes", tree=monorepo, env_allow=("*",))
    default = load_settings("Hermes", tree=monorepo)

    assert not everything.is_excluded("torch") and not everything.is_guarded("nvidia-cudnn-cu12")
    assert default.is_guarded("nvidia-cudnn-cu12") and default.is_guarded("Sentence_Transformers")
    assert not default.is_guarded("numpy")


def test_config_file_outside_the_tree(monorepo: Path, tmp_path: Path) -> None:
    config = write_tree(tmp_path, {"matrix.toml": "[tool.tekton-migrate.matrix]\nallow = [\"torch\"]\n"})

    assert not load_settings("Hermes", tree=monorepo, config=config / "matrix.toml").is_excluded("torch")


@pytest.mark.parametrize("body, message", [
    ("[tool.tekton-migrate.matrix]\nexclude = \"torch\"\n", "exclude must be a list of strings"),
    ("[tool.tekton-migrate.matrix]\ntimeout = -1\n", "timeout must be a positive number"),
    ("[tool.tekton-migrate.matrix]\ncomponents = 3\n", "components must be a table"),
    ("[tool.tekton-migrate.matrix\n", "cannot read matrix settings"),
])
def test_bad_settings_are_typed_errors(monorepo: Path, body: str, message: str) -> None:
    write_tree(monorepo, {"pyproject.toml": body})

    with pytest.raises(MatrixConfigError, match=message):
        load_settings("Hermes", tree=monorepo)


def test_pyproject_component_is_installed_editable_with_its_test_extra(tmp_path: Path, client: Provided) -> None:
    tree = write_tree(tmp_path / "components", {
        "terma/pyproject.toml": (
            '[project]\nname = "terma"\nversion = "0.1.0"\n'
            '[project.optional-dependencies]\ntest = ["tekton-llm-client[testing]>=0.3.0"]\n'
        ),
        "hermes/pyproject.toml": '[project]\nname = "hermes"\nversion = "0.1.0"\n',
    })

    plan = build_plan(tree / "terma", tree, ComponentSettings(), provided=[client], workspace=[])
    bare = build_plan(tree / "hermes", tree, ComponentSettings(), provided=[], workspace=[])

    assert plan.requirements[0] == f"-e {(tree / 'terma').resolve()}[test]"
    assert plan.declared_in == "pyproject.toml" and plan.python_path == []
    assert bare.requirements == [f"-e {(tree / 'hermes').resolve()}"]


def test_a_component_that_declares_nothing_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Telos").mkdir()

    with pytest.raises(PlanError, match="declares no dependencies"):
        build_plan(tmp_path / "Telos", tmp_path, ComponentSettings(), provided=[], workspace=[])


def test_provide_option(tmp_path: Path) -> None:
    provided = parse_provide(f"tekton-llm-client[testing,yaml]={tmp_path}")

    assert (provided.name, provided.extras, provided.path) == ("tekton-llm-client", ("testing", "yaml"), tmp_path)
    assert provided.line() == f"tekton-llm-client[testing,yaml] @ {tmp_path.as_uri()}"
    for bad in ("tekton-llm-client", "tekton-llm-client>=1=/x", "=/x"):
        with pytest.raises(PlanError):
            parse_provide(bad)
