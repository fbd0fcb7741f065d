"""``tekton-migrate inventory``: per component, the files, import forms, and what of the legacy API they use."""

from __future__ import annotations

import json

import pytest

ENGRAM_ENDPOINTS = """\
from fastapi import Depends

from engram.core.llm_adapter import LLMAdapter


def get_llm_adapter() -> LLMAdapter:
    return LLMAdapter()


async def chat(req, llm_adapter: LLMAdapter = Depends(get_llm_adapter)):
    model = req.model or llm_adapter.default_model
    return await llm_adapter.chat(messages=req.messages, model=model)


async def stream(req, llm_adapter: LLMAdapter = Depends(get_llm_adapter)):
    async for chunk in llm_adapter._stream_chat(messages=req.messages, model=llm_adapter.default_model):
        yield chunk


def models(llm_adapter: LLMAdapter = Depends(get_llm_adapter)):
    return llm_adapter.get_available_models()
"""

TERMA_APP = """\
async def providers():
    from ..core.llm_adapter import LLMAdapter

    adapter = LLMAdapter()
    url = adapter.adapter_url
    return await adapter.get_available_providers(), url


class Handler:
    def __init__(self):
        from ..core.llm_adapter import LLMAdapter

        self.adapter = LLMAdapter()

    async def handle(self, sid, cmd):
        return await self.adapter.analyze_command(sid, cmd)
"""

TERMA_TEST = "from unittest import mock\nmock.patch('terma.core.llm_adapter.LLMAdapter.analyze_command')\n"


def _tree(tree):
    root = tree({"engram/api/llm_endpoints.py": ENGRAM_ENDPOINTS}, package="engram.api")
    tree({"terma/api/app.py": TERMA_APP, "tests/test_terma.py": TERMA_TEST}, package="terma.api", root=root)
    tree(
        {"terma/core/llm_adapter.py": "import logging\nlog = logging.getLogger('terma.core.llm_adapter')\n"},
        package="terma.core",
        root=root,
    )
    tree({"hermes/api/app.py": "from hermes.core.llm_client import LLMClient\n"}, package="hermes.api", root=root)
    return root


def test_inventory_json(tree, cli) -> None:
    root = _tree(tree)
    result = cli("inventory", root, "--json")
    assert result.code == 0
    doc = json.loads(result.out)
    assert doc["version"] == 1 and doc["command"] == "inventory"
    by_module = {c["module"]: c for c in doc["components"]}
    assert set(by_module) == {"engram.core.llm_adapter", "terma.core.llm_adapter"}  # hermes uses llm_client only

    engram = by_module["engram.core.llm_adapter"]
    assert engram["component"] == "engram"
    assert engram["target"] == "tekton_llm_shims.engram"
    assert [f["path"] for f in engram["files"]] == [str(root / "engram/api/llm_endpoints.py")]
    assert engram["forms"] == {"import-from": 1}
    assert engram["files"][0]["imports"] == [
        {"line": 3, "form": "import-from", "code": "from engram.core.llm_adapter import LLMAdapter"}
    ]
    # One import, one constructor call, one return annotation + three parameter annotations.
    assert engram["names"] == {"LLMAdapter": {"annotation": 4, "call": 1, "import": 1}}
    assert engram["methods"] == {"_stream_chat": 1, "chat": 1, "get_available_models": 1}
    assert engram["attributes"] == {"default_model": 2}
    assert engram["calls"] == {"LLMAdapter": {"_stream_chat": 1, "chat": 1, "get_available_models": 1}}

    terma = by_module["terma.core.llm_adapter"]
    assert terma["forms"] == {"relative-import-from": 2}
    assert [f["path"] for f in terma["files"]] == [str(root / "terma/api/app.py"), str(root / "tests/test_terma.py")]
    assert terma["files"][1]["strings"] == [{"line": 2, "value": "terma.core.llm_adapter.LLMAdapter.analyze_command"}]
    assert terma["names"] == {"LLMAdapter": {"call": 2, "import": 2, "string": 1}}
    assert terma["methods"] == {"analyze_command": 1, "get_available_providers": 1}
    assert terma["attributes"] == {"adapter_url": 1}
    assert terma["calls"] == {"LLMAdapter": {"analyze_command": 1, "get_available_providers": 1}}
    assert doc["failed"] == []


def test_inventory_text(tree, cli) -> None:
    root = _tree(tree)
    result = cli("inventory", root)
    assert result.code == 0
    lines = result.out.splitlines()
    assert "engram.core.llm_adapter -> tekton_llm_shims.engram  [engram]" in lines
    assert "  names: LLMAdapter (annotation 4, call 1, import 1)" in lines
    assert "  calls: LLMAdapter._stream_chat x1, LLMAdapter.chat x1, LLMAdapter.get_available_models x1" in lines
    assert not any(line.startswith("  methods:") for line in lines)  # the class-less view is JSON-only
    assert "  attributes: adapter_url x1" in lines
    assert any(line.strip().startswith("2  relative-import-from  from ..core.llm_adapter import") for line in lines)
    assert result.summary[3] == 0


def test_inventory_reports_unparsable_candidates(tree, cli) -> None:
    root = tree({"bad.py": "from terma.core.llm_adapter import LLMAdapter\nx = = 1\n"})
    result = cli("inventory", root, "--json")
    assert result.code == 2
    doc = json.loads(result.out)
    assert doc["failed"][0]["path"] == str(root / "bad.py")
    assert "syntax error" in doc["failed"][0]["error"]


def test_inventory_of_a_clean_tree(tree, cli) -> None:
    root = tree({"m.py": "import os\n"})
    result = cli("inventory", root)
    assert result.code == 0
    assert result.out == "no legacy adapter references found\n"


TELOS_REQUIREMENTS = """\
async def analyze(requirement, context=None):
    from telos.core.llm_adapter import LLMAdapter

    result = await LLMAdapter().analyze_requirement(requirement.to_dict(), context=context)
    return result, LLMAdapter().default_model
"""


def test_members_of_an_adapter_that_is_never_assigned_are_counted(tree, cli) -> None:
    root = tree({"telos/core/requirements.py": TELOS_REQUIREMENTS}, package="telos.core")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["methods"] == {"analyze_requirement": 1}
    assert component["attributes"] == {"default_model": 1}
    assert component["names"] == {"LLMAdapter": {"call": 2, "import": 1}}


def test_unresolvable_relative_import_is_listed_as_a_failure(tree, cli) -> None:
    # The Terma layout without __init__.py files: the relative import cannot be resolved, so the
    # inventory cannot say what it reaches; it must not report the tree as clean.
    source = "async def f():\n    from ..core.llm_adapter import LLMAdapter\n    return LLMAdapter()\n"
    root = tree({"terma/api/app.py": source, "terma/core/llm_adapter.py": "class LLMAdapter: ...\n"})
    result = cli("inventory", root)
    assert result.code == 2
    assert result.out == (
        f"{root / 'terma/api/app.py'}: error: line 2: cannot resolve relative import "
        "`from ..core.llm_adapter import LLMAdapter` (the file is not inside a package); pass --source-root\n"
    )
    assert result.summary[3] == 1
    fixed = cli("inventory", root, "--source-root", root, "--json")
    assert fixed.code == 0
    (component,) = json.loads(fixed.out)["components"]
    assert component["forms"] == {"relative-import-from": 1}


STRING_ANNOTATIONS = """\
from typing import Optional

from terma.core import llm_adapter as m


def run(adapter: "m.LLMAdapter", spare: "Optional[m.LLMAdapter]" = None):
    spare.set_provider_and_model("p", "m")
    return adapter.analyze_command("x")


def other(client: "Optional[str]"):
    return client.analyze_output("y")
"""


def test_string_annotations_are_resolved_in_their_scope(tree, cli) -> None:
    # ``"m.LLMAdapter"`` is parsed and its names resolved where the string sits, so both parameters are
    # adapters; ``other``'s parameter is typed ``str`` and its member is not counted.
    root = tree({"terma/api/run.py": STRING_ANNOTATIONS}, package="terma.api")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["forms"] == {"import-module-from": 1}
    assert component["methods"] == {"analyze_command": 1, "set_provider_and_model": 1}
    assert component["names"] == {}


SHADOWED = """\
def make():
    from terma.core.llm_adapter import LLMAdapter

    return LLMAdapter()


def wrap(LLMAdapter):
    return LLMAdapter().chat()
"""


def test_names_are_resolved_by_scope_not_by_spelling(tree, cli) -> None:
    # ``wrap``'s parameter shadows nothing imported in its scope: it is not the legacy class.
    root = tree({"terma/api/make.py": SHADOWED}, package="terma.api")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["names"] == {"LLMAdapter": {"call": 1, "import": 1}}
    assert component["methods"] == {}


@pytest.mark.parametrize(
    ("source", "form"),
    [
        ("import terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter().chat()\n", "import"),
        ("import terma.core.llm_adapter as m\n\nm.LLMAdapter().chat()\n", "import-as"),
        ("from terma.core import llm_adapter\n\nllm_adapter.LLMAdapter().chat()\n", "import-module-from"),
        ("from terma.core import *\n\nllm_adapter.LLMAdapter().chat()\n", None),
        ("from terma import core\n\ncore.llm_adapter.LLMAdapter().chat()\n", None),
    ],
)
def test_every_binding_form_reaches_the_legacy_class(tree, cli, source, form) -> None:
    root = tree({"terma/api/use.py": source}, package="terma.api")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["forms"] == ({form: 1} if form else {})
    assert component["names"] == {"LLMAdapter": {"call": 1}}
    assert component["methods"] == {"chat": 1}


CALLS_BY_CLASS = """\
from typing import Optional

from hermes.core.llm_adapter import LLMAdapter as Adapter, PROMPT
from hermes.core import llm_adapter


class Service:
    def __init__(self):
        self.adapter = Adapter()

    async def run(self, other: Optional[llm_adapter.LLMAdapter]):
        await self.adapter.chat("hi")
        await self.adapter.chat("again")
        other.set_provider_and_model("p", "m")
        Adapter().get_current_provider_and_model()
        handler = self.adapter.streaming_chat  # referenced, not called: an attribute, not a call
        return handler, self.adapter.default_model, PROMPT.upper()
"""


def test_calls_are_keyed_by_the_legacy_class_as_defined(tree, cli) -> None:
    # ``calls`` is what the shims count live (component, class, method): the class by its name in the legacy
    # module whatever the alias, only members that are called, and nothing for names that are not adapters.
    root = tree({"hermes/api/service.py": CALLS_BY_CLASS}, package="hermes.api")
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert component["component"] == "hermes"
    assert component["calls"] == {
        "LLMAdapter": {"chat": 2, "get_current_provider_and_model": 1, "set_provider_and_model": 1}
    }
    assert component["methods"] == {"chat": 2, "get_current_provider_and_model": 1, "set_provider_and_model": 1}
    assert component["attributes"] == {"default_model": 1, "streaming_chat": 1}


def test_text_report_names_each_call_by_class_and_method(tree, cli) -> None:
    # Two legacy classes calling the same method: the text says which (the JSON's ``methods`` sums them).
    root = tree(
        {
            "hermes/api/use.py": "from hermes.core.llm_adapter import LLMAdapter as Adapter, Other\n\n"
            "a = Adapter()\nb = Other()\na.chat()\na.chat()\nb.chat()\nb.stream()\nprint(a.default_model)\n"
        },
        package="hermes.api",
    )
    text = cli("inventory", root)
    document = json.loads(cli("inventory", root, "--json").out)

    assert text.code == 0
    assert "  calls: LLMAdapter.chat x2, Other.chat x1, Other.stream x1" in text.out.splitlines()
    assert "  attributes: default_model x1" in text.out.splitlines()
    (component,) = document["components"]
    assert component["calls"] == {"LLMAdapter": {"chat": 2}, "Other": {"chat": 1, "stream": 1}}
    assert component["methods"] == {"chat": 3, "stream": 1}


def test_a_legacy_module_naming_itself_has_no_calls(tree, cli) -> None:
    source = "class LLMAdapter:\n    def chat(self):\n        return 1\n\n\nLLMAdapter().chat()\n"
    root = tree(
        {
            "hermes/core/llm_adapter.py": source,
            "hermes/api/use.py": "from hermes.core.llm_adapter import LLMAdapter\n\nLLMAdapter().chat()\n",
        },
        package="hermes.core",
    )
    (root / "hermes/api/__init__.py").touch()
    result = cli("inventory", root, "--json")
    assert result.code == 0
    (component,) = json.loads(result.out)["components"]
    assert [entry["path"] for entry in component["files"]] == [str(root / "hermes/api/use.py")]
    assert component["calls"] == {"LLMAdapter": {"chat": 1}}
