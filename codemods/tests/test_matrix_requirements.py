"""Requirement files read as pip reads them, every line with the file and line it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from tekton_codemods.matrix import RequirementFileError, normalize, read_requirements


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_includes_are_followed_relative_to_the_including_file_with_origins(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "shared/requirements/base.txt": "# base\npython-dotenv>=1.0.0        # env\nPydantic_Settings>=2.9\n",
        "shared/requirements/web.txt": "-r base.txt\nfastapi>=0.105 ; python_version >= '3.10'\n",
        "Comp/requirements.txt": (
            "# Include shared requirements\n-r ../shared/requirements/web.txt\n\n"
            "uvicorn[standard]>=0.24 \\\n    ,<1.0\n--index-url https://pypi.org/simple\n"
        ),
    })

    found = read_requirements(tree / "Comp" / "requirements.txt", display_root=tree)

    assert [(r.name, r.spec, r.origin) for r in found.requirements] == [
        ("python-dotenv", ">=1.0.0", "shared/requirements/base.txt:2"),
        ("pydantic-settings", ">=2.9", "shared/requirements/base.txt:3"),
        ("fastapi", ">=0.105 ; python_version >= '3.10'", "shared/requirements/web.txt:2"),
        ("uvicorn", ">=0.24      ,<1.0", "Comp/requirements.txt:4"),
    ]
    assert found.requirements[3].extras == ("standard",)
    assert found.options == ["--index-url https://pypi.org/simple"]
    assert found.files == [(tree / p).resolve() for p in (
        "Comp/requirements.txt", "shared/requirements/web.txt", "shared/requirements/base.txt")]


def test_constraints_paths_and_editables(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {
        "pins.txt": "numpy<2\n",
        "Comp/requirements.txt": "-c ../pins.txt\n-e ../tekton-core\n./vendored\nrequests\n",
    })

    found = read_requirements(tree / "Comp" / "requirements.txt", display_root=tree)

    assert [(c.name, c.spec) for c in found.constraints] == [("numpy", "<2")]
    assert [(r.name, r.line) for r in found.requirements] == [
        ("", str((tree / "tekton-core").resolve())),
        ("", str((tree / "Comp" / "vendored").resolve())),
        ("requests", "requests"),
    ]
    assert found.requirements[0].is_path


def test_missing_include_names_the_line_that_includes_it(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"Comp/requirements.txt": "fastapi\n-r ../shared/requirements/gone.txt\n"})

    with pytest.raises(RequirementFileError, match=r"Comp/requirements.txt:2: included file .*gone.txt does not exist"):
        read_requirements(tree / "Comp" / "requirements.txt", display_root=tree)


def test_include_cycle_is_an_error_not_a_hang(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"a.txt": "-r b.txt\n", "b.txt": "-r a.txt\n"})

    with pytest.raises(RequirementFileError, match="includes itself"):
        read_requirements(tree / "a.txt")


def test_a_line_that_is_not_a_requirement_is_reported_with_its_origin(tmp_path: Path) -> None:
    tree = write_tree(tmp_path, {"Comp/requirements.txt": "fastapi\n%%%\n"})

    with pytest.raises(RequirementFileError, match=r"Comp/requirements.txt:2: not a requirement: '%%%'"):
        read_requirements(tree / "Comp" / "requirements.txt", display_root=tree)


def test_names_are_normalized_as_pep_503_says() -> None:
    assert normalize("Sentence_Transformers") == "sentence-transformers"
    assert normalize("zope.interface") == "zope-interface"
    assert normalize("A__b--C") == "a-b-c"
