"""Static inventory and live counters join: every (component, class, method) that ``tekton-migrate inventory
--json`` reports under ``calls`` is the key the shims count in ``tekton.shim.calls`` for that call.

The inventory runs as a user runs it (the CLI, in a subprocess) on real files: the sample components, and a tree
that calls every legacy method of every shim once.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tekton_llm_shims._shim_calls import LEGACY_CALL_ATTRIBUTE, legacy_call_names

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
SHIMS = ("terma", "hermes", "telos", "engram")


def inventory(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tekton_codemods", "inventory", "--json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["failed"] == []
    return document


def recorded_key(target: str, legacy_class: str, method: str) -> tuple[str, str, str] | None:
    """What the shim module ``target`` counts when ``legacy_class.method`` is called (``None``: not recorded)."""
    cls = getattr(importlib.import_module(target), legacy_class)
    key: tuple[str, str, str] | None = getattr(getattr(cls, method, None), LEGACY_CALL_ATTRIBUTE, None)
    return key


def joined(document: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str, str, str] | None]:
    """Each (component, class, method) of the inventory -> the key its shim records for that call."""
    return {
        (component["component"], legacy_class, method): recorded_key(component["target"], legacy_class, method)
        for component in document["components"]
        for legacy_class, methods in component["calls"].items()
        for method in methods
    }


def test_every_call_the_sample_components_make_is_counted_under_the_same_names() -> None:
    document = inventory(COMPONENTS)

    join = joined(document)

    assert {component["component"] for component in document["components"]} == set(SHIMS)
    assert {key: value for key, value in join.items() if key != value} == {}
    # The shapes that matter are there: a private legacy method, a sync one, a streaming one.
    assert {
        ("engram", "LLMAdapter", "_stream_chat"),
        ("engram", "LLMAdapter", "_get_client"),
        ("hermes", "LLMAdapter", "set_provider_and_model"),
        ("hermes", "LLMAdapter", "streaming_chat"),
        ("terma", "LLMAdapter", "analyze_output"),
        ("telos", "LLMAdapter", "analyze_requirement"),
    } <= set(join)


def test_a_tree_calling_every_legacy_method_joins_one_to_one(tmp_path: Path) -> None:
    expected = set()
    for shim in SHIMS:
        methods = sorted(legacy_call_names(importlib.import_module(f"tekton_llm_shims.{shim}").LLMAdapter))
        package = tmp_path / shim / shim
        (package / "core").mkdir(parents=True)
        (package / "api").mkdir()
        for folder in (package, package / "core", package / "api"):
            (folder / "__init__.py").write_text("")
        (package / "core" / "llm_adapter.py").write_text("class LLMAdapter:\n    pass\n")
        calls = "".join(f"    adapter.{method}()\n" for method in methods)
        (package / "api" / "routes.py").write_text(
            f"from {shim}.core.llm_adapter import LLMAdapter as Adapter\n\n\ndef use() -> None:\n"
            f"    adapter = Adapter()\n{calls}"
        )
        expected |= {(shim, "LLMAdapter", method) for method in methods}

    join = joined(inventory(tmp_path))

    assert set(join) == expected  # the inventory names the class as defined, not as aliased
    assert {key: value for key, value in join.items() if key != value} == {}
