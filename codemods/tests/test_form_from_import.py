"""``from <legacy module> import names`` in every layout: only the module part changes."""

from __future__ import annotations

import pytest

CASES = {
    "single-name": (
        "from terma.core.llm_adapter import LLMAdapter\n",
        "from tekton_llm_shims.terma import LLMAdapter\n",
    ),
    "alias": (
        "from hermes.core.llm_adapter import LLMAdapter as HermesAdapter\n",
        "from tekton_llm_shims.hermes import LLMAdapter as HermesAdapter\n",
    ),
    "every-component": (
        "from terma.core.llm_adapter import LLMAdapter as A\n"
        "from hermes.core.llm_adapter import LLMAdapter as B\n"
        "from telos.core.llm_adapter import LLMAdapter as C\n"
        "from engram.core.llm_adapter import LLMAdapter as D\n",
        "from tekton_llm_shims.terma import LLMAdapter as A\n"
        "from tekton_llm_shims.hermes import LLMAdapter as B\n"
        "from tekton_llm_shims.telos import LLMAdapter as C\n"
        "from tekton_llm_shims.engram import LLMAdapter as D\n",
    ),
    "parenthesised-multiline-comments-trailing-comma": (
        "from engram.core.llm_adapter import (  # the adapter\n"
        "    LLMAdapter,  # class used by the endpoints\n"
        "    # a comment on its own line\n"
        ")\n",
        "from tekton_llm_shims.engram import (  # the adapter\n"
        "    LLMAdapter,  # class used by the endpoints\n"
        "    # a comment on its own line\n"
        ")\n",
    ),
    "parenthesised-no-trailing-comma": (
        "from engram.core.llm_adapter import (LLMAdapter)\n",
        "from tekton_llm_shims.engram import (LLMAdapter)\n",
    ),
    "odd-spacing-kept": (
        "from   hermes.core.llm_adapter   import   LLMAdapter   # spaced\n",
        "from   tekton_llm_shims.hermes   import   LLMAdapter   # spaced\n",
    ),
    "mid-file-with-noqa": (
        "import os\n\napp = os.environ\n\n"
        "from hermes.core.llm_adapter import LLMAdapter  # noqa: E402\n\nx = LLMAdapter()\n",
        "import os\n\napp = os.environ\n\n"
        "from tekton_llm_shims.hermes import LLMAdapter  # noqa: E402\n\nx = LLMAdapter()\n",
    ),
    "surrounding-code-untouched": (
        '"""Doc."""\n\n# header comment\nimport os  # os\n\nfrom terma.core.llm_adapter import LLMAdapter\n\n\n'
        "def f( a ,b ):\n    return  'x'  # odd style stays\n",
        '"""Doc."""\n\n# header comment\nimport os  # os\n\nfrom tekton_llm_shims.terma import LLMAdapter\n\n\n'
        "def f( a ,b ):\n    return  'x'  # odd style stays\n",
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_from_import_is_rewritten(migrate, before: str, after: str) -> None:
    result = migrate(before)
    assert result.text == after
    assert result.run.code == 0
    assert result.run.summary[2] == 1  # one file changed


UNTOUCHED = {
    "shared-client-is-not-legacy": "from tekton_llm_client import StreamHandler, LLMSettings, collect_stream\n",
    "hermes-llm-client-is-not-an-adapter": "from hermes.core.llm_client import LLMClient\n",
    "longer-module-name": "from terma.core.llm_adapter2 import LLMAdapter\n",
    "parent-package-only": "from terma.core import config\n",
    "other-component-adapter": "from prometheus.utils.llm_adapter import PrometheusLLMAdapter\n",
    "name-in-a-comment": "# see terma.core.llm_adapter for history\nx = 1\n",
}


@pytest.mark.parametrize("source", list(UNTOUCHED.values()), ids=list(UNTOUCHED))
def test_unrelated_imports_are_left_byte_for_byte(migrate, source: str) -> None:
    result = migrate(source)
    assert result.text == source
    assert result.run.code == 0
    assert result.run.summary[2] == 0
