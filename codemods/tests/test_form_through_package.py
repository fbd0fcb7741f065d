"""A legacy module reached through its package (``from terma import core`` then ``core.llm_adapter.X``).

No import names the legacy module, so there is nothing the rewrite can move without adding an import;
legacy-adapters.md records no such call site in Tekton. The forms are left as they are and reported, so
that the owner sees them, and inventory counts them like any other use.
"""

from __future__ import annotations

import json

import pytest

REPORTED = {
    "from-parent-import-package": (
        "terma.api",
        "from terma import core\n\n\ndef f():\n    return core.llm_adapter.LLMAdapter()\n",
        "5: left on terma.core.llm_adapter: core.llm_adapter (reached through package terma.core; "
        "not rewritten: import tekton_llm_shims.terma instead)",
    ),
    "import-package-as": (
        "app.sub",
        "import hermes.core as c\n\nc.llm_adapter.LLMAdapter().chat()\n",
        "3: left on hermes.core.llm_adapter: c.llm_adapter (reached through package hermes.core; "
        "not rewritten: import tekton_llm_shims.hermes instead)",
    ),
    "relative-parent-package": (
        "telos.api",
        "from .. import core\nadapter = core.llm_adapter.LLMAdapter\n",
        "2: left on telos.core.llm_adapter: core.llm_adapter (reached through package telos.core; "
        "not rewritten: import tekton_llm_shims.telos instead)",
    ),
    "plain-import-of-the-top-package": (
        "app.sub",
        "import engram\n\nengram.core.llm_adapter.LLMAdapter\n",
        "3: left on engram.core.llm_adapter: engram.core.llm_adapter (reached through package engram; "
        "not rewritten: import tekton_llm_shims.engram instead)",
    ),
    "star-import-of-the-parent-package": (
        "app.sub",
        "from terma.core import *\n\nllm_adapter.LLMAdapter()\n",
        "1: left on terma.core.llm_adapter: llm_adapter ('llm_adapter' may come from this star import of "
        "terma.core; its uses are not rewritten)",
    ),
}


@pytest.mark.parametrize(("package", "source", "reported"), list(REPORTED.values()), ids=list(REPORTED))
def test_use_through_the_package_is_left_and_reported(migrate, package, source, reported) -> None:
    result = migrate(source, package, "mod.py", "--check")
    assert result.text == source
    assert result.run.code == 0
    assert result.run.err.splitlines() == [f"{result.path}:{reported}", result.run.err.splitlines()[-1]]
    assert result.run.summary[2:] == (0, 0)


def test_chain_rewritten_through_the_moved_plain_import_is_not_reported(migrate) -> None:
    source = "import terma\nimport terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter()\n"
    result = migrate(source, "app.sub")
    assert result.text == "import terma\nimport tekton_llm_shims.terma\n\ntekton_llm_shims.terma.LLMAdapter()\n"
    assert "left on" not in result.run.err


def test_other_attributes_of_the_package_are_not_reported(migrate) -> None:
    source = "from terma import core\n\ncore.llm_adapter_settings.load()\ncore.models.Model()\n"
    result = migrate(source, "app.sub")
    assert result.text == source
    assert "left on" not in result.run.err


def test_inventory_counts_uses_through_the_package(tree, cli) -> None:
    source = (
        "from terma import core\n\n\n"
        "def f():\n"
        "    adapter = core.llm_adapter.LLMAdapter()\n"
        "    return adapter.analyze_command('s', 'ls'), core.llm_adapter.LLMAdapter().adapter_url\n"
    )
    root = tree({"terma/api/a.py": source}, package="terma.api")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["module"] == "terma.core.llm_adapter"
    assert [f["path"] for f in component["files"]] == [str(root / "terma/api/a.py")]
    assert component["names"] == {"LLMAdapter": {"call": 2}}
    assert component["methods"] == {"analyze_command": 1}
    assert component["attributes"] == {"adapter_url": 1}
