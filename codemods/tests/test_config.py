"""The mapping as data: defaults, ``[tool.tekton-migrate]`` in the target tree, ``--map`` on the command line."""

from __future__ import annotations

import pytest
from tekton_codemods import DEFAULT_MAPPING, MappingError, MigrationMap


def test_defaults_cover_the_four_components() -> None:
    assert dict(DEFAULT_MAPPING) == {
        "terma.core.llm_adapter": "tekton_llm_shims.terma",
        "hermes.core.llm_adapter": "tekton_llm_shims.hermes",
        "telos.core.llm_adapter": "tekton_llm_shims.telos",
        "engram.core.llm_adapter": "tekton_llm_shims.engram",
    }
    table = MigrationMap()
    for shim in DEFAULT_MAPPING.values():
        assert table.provides[shim] == frozenset({"LLMAdapter"})


def test_match_is_on_whole_segments() -> None:
    table = MigrationMap()
    assert table.match("terma.core.llm_adapter2") is None
    assert table.match("terma.core") is None
    sub = table.match("terma.core.llm_adapter.sub")
    assert sub is not None
    assert (sub.target, sub.exact) == ("tekton_llm_shims.terma.sub", False)


@pytest.mark.parametrize(
    "mapping",
    [{"a.b": "a.b.c"}, {"a.b": "a.b"}, {"bad name": "x"}, {"x": "1y"}],
    ids=["target-inside-legacy", "identity", "space", "digit"],
)
def test_invalid_mappings_are_rejected(mapping) -> None:
    with pytest.raises(MappingError):
        MigrationMap(mapping, {})


def test_pyproject_mapping_provides_and_exclude(tree, cli) -> None:
    root = tree(
        {
            "pyproject.toml": (
                "[tool.tekton-migrate]\n"
                'exclude = ["generated/**"]\n'
                "[tool.tekton-migrate.mapping]\n"
                '"prometheus.utils.llm_adapter" = "tekton_llm_shims.prometheus"\n'
                "[tool.tekton-migrate.provides]\n"
                '"tekton_llm_shims.prometheus" = ["PrometheusLLMAdapter"]\n'
            ),
            "prometheus/api/llm.py": "from prometheus.utils.llm_adapter import PrometheusLLMAdapter, helper\n",
            "generated/x.py": "from prometheus.utils.llm_adapter import PrometheusLLMAdapter\n",
            "terma_use.py": "from terma.core.llm_adapter import LLMAdapter\n",
        }
    )
    result = cli("rewrite", root)
    assert result.code == 0
    assert (root / "prometheus/api/llm.py").read_text() == (
        "from tekton_llm_shims.prometheus import PrometheusLLMAdapter\n"
        "from prometheus.utils.llm_adapter import helper\n"
    )
    assert (root / "generated/x.py").read_text() == "from prometheus.utils.llm_adapter import PrometheusLLMAdapter\n"
    assert (root / "terma_use.py").read_text() == "from tekton_llm_shims.terma import LLMAdapter\n"  # defaults kept


def test_map_option_adds_and_overrides(tree, cli) -> None:
    root = tree(
        {
            "a.py": "from rhetor.core.llm_client import LLMClient\n",
            "b.py": "from terma.core.llm_adapter import LLMAdapter\n",
        }
    )
    result = cli(
        "rewrite",
        root,
        "--map",
        "rhetor.core.llm_client=tekton_llm_client.compat",
        "--map",
        "terma.core.llm_adapter=terma_next.adapter",
    )
    assert result.code == 0
    # A target without a provides entry provides every name.
    assert (root / "a.py").read_text() == "from tekton_llm_client.compat import LLMClient\n"
    assert (root / "b.py").read_text() == "from terma_next.adapter import LLMAdapter\n"


def test_explicit_config_file(tmp_path, tree, cli) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('[tool.tekton-migrate.mapping]\n"x.llm_adapter" = "y.shim"\n')
    root = tree({"m.py": "import x.llm_adapter as a\n"}, root=tmp_path / "tree")
    assert cli("rewrite", root, "--config", config).code == 0
    assert (root / "m.py").read_text() == "import y.shim as a\n"


@pytest.mark.parametrize(
    "toml",
    [
        "[tool.tekton-migrate]\nmapping = 3\n",
        '[tool.tekton-migrate.mapping]\n"a.b" = 1\n',
        '[tool.tekton-migrate.mapping]\n"a.b" = "a.b.c"\n',
        '[tool.tekton-migrate]\nexclude = "x"\n',
        "not toml at all [",
    ],
    ids=["mapping-not-table", "value-not-string", "target-inside-legacy", "exclude-not-list", "invalid-toml"],
)
def test_bad_pyproject_is_reported_and_nothing_is_touched(tree, cli, toml) -> None:
    root = tree({"pyproject.toml": toml, "m.py": "from terma.core.llm_adapter import LLMAdapter\n"})
    result = cli("rewrite", root)
    assert result.code == 2
    assert "tekton-migrate: error:" in result.err
    assert (root / "m.py").read_text() == "from terma.core.llm_adapter import LLMAdapter\n"
