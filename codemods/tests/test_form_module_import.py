"""``from <parent> import llm_adapter [as m]``: the binding is kept, so ``m.X`` keeps working."""

from __future__ import annotations

import pytest

CASES = {
    "bare-name-keeps-binding": (
        "from terma.core import llm_adapter\n\nadapter = llm_adapter.LLMAdapter()\n",
        "from tekton_llm_shims import terma as llm_adapter\n\nadapter = llm_adapter.LLMAdapter()\n",
    ),
    "as-alias": (
        "from telos.core import llm_adapter as llm\n\nllm.LLMAdapter()\n",
        "from tekton_llm_shims import telos as llm\n\nllm.LLMAdapter()\n",
    ),
    "split-from-sibling-modules": (
        "from engram.core import config, llm_adapter as m, memory  # core bits\n\nm.LLMAdapter()\n",
        "from tekton_llm_shims import engram as m\n"
        "from engram.core import config, memory  # core bits\n\nm.LLMAdapter()\n",
    ),
    "two-legacy-modules-in-one-statement": (
        "from terma.core import llm_adapter as a\nfrom hermes.core import llm_adapter as b\n",
        "from tekton_llm_shims import terma as a\nfrom tekton_llm_shims import hermes as b\n",
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_module_import_is_rewritten(migrate, before: str, after: str) -> None:
    result = migrate(before)
    assert result.text == after
    assert result.run.code == 0


def test_module_import_used_for_a_name_the_shim_lacks_is_left_and_reported(migrate) -> None:
    before = "from terma.core import llm_adapter as m\n\nm.LLMAdapter()\nm.helper()\n"
    result = migrate(before)
    assert result.text == before
    assert result.run.code == 0
    assert "left on terma.core.llm_adapter: helper" in result.run.err
    assert "used as m.helper" in result.run.err


def test_module_import_moves_when_pyproject_says_the_shim_provides_the_name(migrate, tmp_path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "pyproject.toml").write_text(
        '[tool.tekton-migrate.provides]\n"tekton_llm_shims.terma" = ["LLMAdapter", "helper"]\n'
    )
    result = migrate("from terma.core import llm_adapter as m\nm.helper()\n")
    assert result.text == "from tekton_llm_shims import terma as m\nm.helper()\n"


def test_module_object_used_as_a_value_is_left_and_reported(migrate) -> None:
    """Passed on (``reload(m)``, ``getattr(m, …)``, ``register(m)``), the module may have any name read from
    it later, where no analysis follows: the import stays."""
    before = "from hermes.core import llm_adapter\nimport importlib\nimportlib.reload(llm_adapter)\n"
    result = migrate(before)
    assert result.text == before
    assert result.run.code == 0
    assert (
        "left on hermes.core.llm_adapter: llm_adapter "
        "(used as a value (passed on or stored), so any name may be read from it)" in result.run.err
    )
