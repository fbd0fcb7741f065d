"""Imports wherever Python allows them: functions, methods, classes, try/except, TYPE_CHECKING, suites."""

from __future__ import annotations

import pytest

CASES = {
    "function": (
        "def f():\n    from terma.core.llm_adapter import LLMAdapter\n    return LLMAdapter()\n",
        "def f():\n    from tekton_llm_shims.terma import LLMAdapter\n    return LLMAdapter()\n",
    ),
    "async-method": (
        "class Handler:\n"
        "    async def _handle_llm_request(self, message):\n"
        "        from hermes.core.llm_adapter import LLMAdapter\n"
        "\n"
        "        return await LLMAdapter().chat(message)\n",
        "class Handler:\n"
        "    async def _handle_llm_request(self, message):\n"
        "        from tekton_llm_shims.hermes import LLMAdapter\n"
        "\n"
        "        return await LLMAdapter().chat(message)\n",
    ),
    "class-body": (
        "class Service:\n    from engram.core.llm_adapter import LLMAdapter as Adapter\n",
        "class Service:\n    from tekton_llm_shims.engram import LLMAdapter as Adapter\n",
    ),
    "try-except-importerror": (
        "try:\n"
        "    from telos.core.llm_adapter import LLMAdapter\n"
        "except ImportError:  # optional dependency\n"
        "    LLMAdapter = None\n",
        "try:\n"
        "    from tekton_llm_shims.telos import LLMAdapter\n"
        "except ImportError:  # optional dependency\n"
        "    LLMAdapter = None\n",
    ),
    "type-checking-block": (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from engram.core.llm_adapter import LLMAdapter\n\n"
        'def f(a: "LLMAdapter") -> None: ...\n',
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from tekton_llm_shims.engram import LLMAdapter\n\n"
        'def f(a: "LLMAdapter") -> None: ...\n',
    ),
    "type-checking-with-dotted-string-annotation": (
        "import typing\n"
        "if typing.TYPE_CHECKING:\n"
        "    import hermes.core.llm_adapter\n"
        'x: "hermes.core.llm_adapter.LLMAdapter"\n',
        "import typing\n"
        "if typing.TYPE_CHECKING:\n"
        "    import tekton_llm_shims.hermes\n"
        'x: "tekton_llm_shims.hermes.LLMAdapter"\n',
    ),
    "one-line-suite": (
        "if True: from terma.core.llm_adapter import LLMAdapter\n",
        "if True: from tekton_llm_shims.terma import LLMAdapter\n",
    ),
    "semicolon-line": (
        "import os; from terma.core.llm_adapter import LLMAdapter; x = 1\n",
        "import os; from tekton_llm_shims.terma import LLMAdapter; x = 1\n",
    ),
    "deep-nesting": (
        "def outer():\n"
        "    class Inner:\n"
        "        def method(self):\n"
        "            with open('f'):\n"
        "                for _ in range(1):\n"
        "                    from hermes.core.llm_adapter import LLMAdapter\n",
        "def outer():\n"
        "    class Inner:\n"
        "        def method(self):\n"
        "            with open('f'):\n"
        "                for _ in range(1):\n"
        "                    from tekton_llm_shims.hermes import LLMAdapter\n",
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_nested_import_is_rewritten(migrate, before: str, after: str) -> None:
    result = migrate(before)
    assert result.text == after
    assert result.run.code == 0
