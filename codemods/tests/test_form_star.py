"""Star imports move whole: what the shim exports is what the legacy module exported (``LLMAdapter``)."""

from __future__ import annotations

import pytest

CASES = {
    "absolute": ("from hermes.core.llm_adapter import *\n", "from tekton_llm_shims.hermes import *\n", "app.sub"),
    "relative": (
        "from .llm_adapter import *  # re-export\n",
        "from tekton_llm_shims.telos import *  # re-export\n",
        "telos.core",
    ),
    "nested-in-function": (
        "def f():\n    from engram.core.llm_adapter import *\n",
        "def f():\n    from tekton_llm_shims.engram import *\n",
        "app.sub",
    ),
}


@pytest.mark.parametrize(("before", "after", "package"), list(CASES.values()), ids=list(CASES))
def test_star_import_is_rewritten(migrate, before: str, after: str, package: str) -> None:
    result = migrate(before, package)
    assert result.text == after
    assert result.run.code == 0


def test_star_from_a_non_legacy_module_is_untouched(migrate) -> None:
    source = "from .llm_adapter_helpers import *\nfrom . import llm_adapter_tools\n"
    assert migrate(source, "terma.core").text == source
