"""The wheel/sdist check the build session runs: each rule can fail, on small archives made here."""

from __future__ import annotations

import io
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from check_dists import check_sdist, check_telemetry_optional, check_wheel, main
from check_floors import floor
from packaging.requirements import Requirement
from packaging.version import Version

README = "# tekton-codemods\n\n" + "Rewrites component imports onto the shims. " * 10
METADATA = (
    "Metadata-Version: 2.4\nName: tekton-codemods\nVersion: 0.3.0\n"
    "Project-URL: Repository, https://example.invalid/tekton\nAuthor: The Tekton Project contributors\n"
    "License-Expression: MIT\nLicense-File: LICENSE\n"
    + "".join(
        f"Classifier: {c}\n"
        for c in (
            "License :: OSI Approved :: MIT License",
            "Programming Language :: Python :: 3 :: Only",
            "Programming Language :: Python :: 3.10",
            "Programming Language :: Python :: 3.11",
            "Programming Language :: Python :: 3.12",
            "Programming Language :: Python :: 3.13",
            "Typing :: Typed",
        )
    )
    + "Requires-Python: >=3.10\nDescription-Content-Type: text/markdown\n\n"
    + README
)
GOOD = {
    "tekton_codemods/__init__.py": "",
    "tekton_codemods/py.typed": "",
    "tekton_codemods-0.3.0.dist-info/METADATA": METADATA,
    "tekton_codemods-0.3.0.dist-info/licenses/LICENSE": "MIT License",
}


def _wheel(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "tekton_codemods-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def _sdist(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "tekton_codemods-0.3.0.tar.gz"
    with tarfile.open(path, "w:gz") as sdist:
        for name in names:
            info = tarfile.TarInfo(f"tekton_codemods-0.3.0/{name}")
            sdist.addfile(info, io.BytesIO(b""))
    return path


def test_a_complete_wheel_and_sdist_pass(tmp_path: Path) -> None:
    assert check_wheel(_wheel(tmp_path, GOOD)) == []
    assert check_sdist(_sdist(tmp_path, ["pyproject.toml", "README.md", "LICENSE", "src/tekton_codemods/cli.py"])) == []


def test_tests_benchmarks_caches_and_a_missing_py_typed_are_reported(tmp_path: Path) -> None:
    files = {k: v for k, v in GOOD.items() if not k.endswith("py.typed")}
    files |= {
        "tekton_codemods/tests/test_cli.py": "",
        "benchmarks/bench_rewrite.py": "",
        "tekton_codemods/__pycache__/cli.cpython-311.pyc": "",
    }
    problems = check_wheel(_wheel(tmp_path, files))
    assert "tekton_codemods-0.3.0-py3-none-any.whl: tekton_codemods/py.typed is missing" in problems[1]
    assert problems[0].endswith("top-level entries ['benchmarks', 'tekton_codemods'], expected only 'tekton_codemods'")
    assert sorted(p.split("must not contain ")[1] for p in problems if "must not contain" in p) == [
        "benchmarks/bench_rewrite.py",
        "tekton_codemods/__pycache__/cli.cpython-311.pyc",
        "tekton_codemods/tests/test_cli.py",
    ]


def test_metadata_without_license_classifiers_or_readme_is_reported(tmp_path: Path) -> None:
    metadata = (
        METADATA.replace("License-Expression: MIT\n", "License: MIT\n")
        .replace("Classifier: Typing :: Typed\n", "Classifier: Typing :: Typo\n")
        .split("\n\n")[0]
        + "\n\nshort"
    )
    files = {**GOOD, "tekton_codemods-0.3.0.dist-info/METADATA": metadata}
    del files["tekton_codemods-0.3.0.dist-info/licenses/LICENSE"]
    problems = [p.split(": ", 1)[1] for p in check_wheel(_wheel(tmp_path, files))]
    assert problems == [
        "the LICENSE file is not shipped in .dist-info/licenses/",
        "License-Expression is None, not 'MIT'",
        "the long description (README) is missing or a stub",
        "missing classifier 'Typing :: Typed'",
        "unknown classifier 'Typing :: Typo'",
    ]


def test_an_sdist_without_its_license_or_with_caches_is_reported(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path, ["pyproject.toml", "README.md", "src/x.py", "src/.mypy_cache/3.11/x.json"])
    assert check_sdist(sdist) == [
        "tekton_codemods-0.3.0.tar.gz: LICENSE is missing",
        "tekton_codemods-0.3.0.tar.gz: must not contain src/.mypy_cache/3.11/x.json",
    ]


def test_main_needs_a_wheel_of_every_distribution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_wheel(tmp_path, GOOD))]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["FAIL no wheel of tekton_llm_client was given", "FAIL no wheel of tekton_llm_shims was given"]


def _requires(*lines: str) -> str:
    head, body = METADATA.split("\n\n", 1)
    return head + "\n" + "".join(f"{line}\n" for line in lines) + "\n" + body


def test_opentelemetry_is_the_api_behind_the_otel_extra_and_never_the_sdk() -> None:
    good = HeaderParser().parsestr(
        _requires(
            "Requires-Dist: httpx>=0.27",
            "Provides-Extra: otel",
            'Requires-Dist: opentelemetry-api>=1.30; extra == "otel"',
        )
    )
    assert check_telemetry_optional(good, "client.whl", "tekton_llm_client") == []
    bad = HeaderParser().parsestr(
        _requires("Requires-Dist: opentelemetry-api>=1.30", 'Requires-Dist: opentelemetry-sdk>=1.30; extra == "otel"')
    )
    assert check_telemetry_optional(bad, "client.whl", "tekton_llm_client") == [
        "client.whl: requires 'opentelemetry-api>=1.30' unconditionally; it belongs behind the otel extra",
        "client.whl: requires 'opentelemetry-sdk>=1.30; extra == \"otel\"'; only opentelemetry-api may be required "
        "(the SDK is the user's)",
        "client.whl: no 'otel' extra (Provides-Extra)",
    ]
    # codemods offer no telemetry and need no extra
    assert check_telemetry_optional(HeaderParser().parsestr(METADATA), "codemods.whl", "tekton_codemods") == []


def test_floor_is_the_lowest_admitted_version() -> None:
    assert floor(Requirement("uvicorn>=0.39")) == Version("0.39")
    assert floor(Requirement("tomli>=2.0; python_version < '3.11'")) == Version("2.0")
    assert floor(Requirement("libcst>=1.4,<2")) == Version("1.4")
    assert floor(Requirement("rich<14")) is None
