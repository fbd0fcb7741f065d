"""Mixed imports: only names the shim provides move; the rest stays on the legacy module and is reported."""

from __future__ import annotations

import json

import pytest

CASES = {
    "one-line": (
        "from terma.core.llm_adapter import LLMAdapter, helper_not_in_shim\n",
        "from tekton_llm_shims.terma import LLMAdapter\nfrom terma.core.llm_adapter import helper_not_in_shim\n",
    ),
    "trailing-comment-stays-with-the-original": (
        "from terma.core.llm_adapter import helper, LLMAdapter  # noqa: F401\n",
        "from tekton_llm_shims.terma import LLMAdapter\nfrom terma.core.llm_adapter import helper  # noqa: F401\n",
    ),
    "parenthesised-multiline-trailing-comma": (
        "from hermes.core.llm_adapter import (\n    LLMAdapter,  # the class\n    PROMPT_MESSAGE_ANALYSIS,\n)\n",
        "from tekton_llm_shims.hermes import (\n"
        "    LLMAdapter,  # the class\n"
        ")\n"
        "from hermes.core.llm_adapter import (\n"
        "    PROMPT_MESSAGE_ANALYSIS,\n"
        ")\n",
    ),
    "parenthesised-no-trailing-comma": (
        "from hermes.core.llm_adapter import (LLMAdapter, logger, aiohttp)\n",
        "from tekton_llm_shims.hermes import (LLMAdapter)\nfrom hermes.core.llm_adapter import (logger, aiohttp)\n",
    ),
    "provided-name-last": (
        "from engram.core.llm_adapter import (\n    logger,\n    LLMAdapter as Adapter,\n)\n",
        "from tekton_llm_shims.engram import (\n    LLMAdapter as Adapter,\n)\n"
        "from engram.core.llm_adapter import (\n    logger,\n)\n",
    ),
    "indented-inside-function": (
        "def f():\n    from telos.core.llm_adapter import LLMAdapter, _parse\n    return LLMAdapter, _parse\n",
        "def f():\n    from tekton_llm_shims.telos import LLMAdapter\n    from telos.core.llm_adapter import _parse\n"
        "    return LLMAdapter, _parse\n",
    ),
    "relative": (
        "from ..core.llm_adapter import LLMAdapter, Config\n",
        "from tekton_llm_shims.terma import LLMAdapter\nfrom ..core.llm_adapter import Config\n",
    ),
    "shares-a-line-with-other-statements": (
        "x = 1; from terma.core.llm_adapter import LLMAdapter, helper\n",
        "x = 1; from tekton_llm_shims.terma import LLMAdapter; from terma.core.llm_adapter import helper\n",
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_mixed_import_is_split(migrate, before: str, after: str) -> None:
    package = "terma.api" if "..core" in before else "app.sub"
    result = migrate(before, package)
    assert result.text == after
    assert result.run.code == 0
    assert "left on " in result.run.err


def test_nothing_movable_leaves_the_statement_and_reports_every_name(migrate, tmp_path) -> None:
    before = "from hermes.core.llm_adapter import logger, PROMPT_SERVICE_ANALYSIS\n"
    report = tmp_path / "report.json"
    result = migrate(before, "app.sub", "mod.py", "--report", str(report))
    assert result.text == before
    assert result.run.code == 0
    (entry,) = json.loads(report.read_text())["files"]
    assert entry["status"] == "unchanged"
    assert [(u["name"], u["module"]) for u in entry["unmoved_names"]] == [
        ("PROMPT_SERVICE_ANALYSIS", "hermes.core.llm_adapter"),
        ("logger", "hermes.core.llm_adapter"),
    ]
    assert all(u["line"] == 1 and "does not provide" in u["reason"] for u in entry["unmoved_names"])


def test_provides_option_moves_extra_names(migrate) -> None:
    result = migrate(
        "from terma.core.llm_adapter import LLMAdapter, Config\n",
        "app.sub",
        "mod.py",
        "--provides",
        "tekton_llm_shims.terma=LLMAdapter,Config",
    )
    assert result.text == "from tekton_llm_shims.terma import LLMAdapter, Config\n"
    assert "left on" not in result.run.err
