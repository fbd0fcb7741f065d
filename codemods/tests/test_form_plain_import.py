"""``import a.b.llm_adapter [as m]`` and the dotted uses the plain form enables."""

from __future__ import annotations

import pytest

CASES = {
    "plain-import-and-dotted-uses": (
        "import terma.core.llm_adapter\n\n"
        "adapter = terma.core.llm_adapter.LLMAdapter()\n"
        "kind: terma.core.llm_adapter.LLMAdapter\n",
        "import tekton_llm_shims.terma\n\n"
        "adapter = tekton_llm_shims.terma.LLMAdapter()\n"
        "kind: tekton_llm_shims.terma.LLMAdapter\n",
    ),
    "dotted-use-before-the-import-and-in-functions": (
        "def make():\n    return hermes.core.llm_adapter.LLMAdapter()\n\nimport hermes.core.llm_adapter\n",
        "def make():\n    return tekton_llm_shims.hermes.LLMAdapter()\n\nimport tekton_llm_shims.hermes\n",
    ),
    "as-alias": (
        "import engram.core.llm_adapter as legacy\n\nlegacy.LLMAdapter()\n",
        "import tekton_llm_shims.engram as legacy\n\nlegacy.LLMAdapter()\n",
    ),
    "one-alias-among-several": (
        "import os, telos.core.llm_adapter as t, sys  # three\n",
        "import os, tekton_llm_shims.telos as t, sys  # three\n",
    ),
    "top-package-still-bound-by-another-import": (
        "import terma.core.llm_adapter\nimport terma.utils.config\n\n"
        "terma.core.llm_adapter.LLMAdapter(terma.utils.config.Config())\n",
        "import tekton_llm_shims.terma\nimport terma.utils.config\n\n"
        "tekton_llm_shims.terma.LLMAdapter(terma.utils.config.Config())\n",
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_plain_import_is_rewritten(migrate, before: str, after: str) -> None:
    result = migrate(before)
    assert result.text == after
    assert result.run.code == 0


def test_plain_import_whose_top_package_is_used_otherwise_is_left_and_reported(migrate) -> None:
    # After the rewrite nothing would bind ``terma`` any more, so ``terma.utils`` would break.
    before = "import terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter(terma.utils.X)\n"
    result = migrate(before)
    assert result.text == before
    assert "left on terma.core.llm_adapter: terma ('terma' is also used for other names" in result.run.err


def test_plain_import_using_a_name_the_shim_lacks_is_left_and_reported(migrate) -> None:
    before = "import hermes.core.llm_adapter\n\nhermes.core.llm_adapter.LLMAdapter()\nhermes.core.llm_adapter.aiohttp\n"
    result = migrate(before)
    assert result.text == before
    assert "left on hermes.core.llm_adapter: aiohttp" in result.run.err


def test_alias_import_using_a_name_the_shim_lacks_is_left_and_reported(migrate) -> None:
    before = "import hermes.core.llm_adapter as h\nh.logger.info('x')\n"
    result = migrate(before)
    assert result.text == before
    assert "left on hermes.core.llm_adapter: logger (used as h.logger" in result.run.err
