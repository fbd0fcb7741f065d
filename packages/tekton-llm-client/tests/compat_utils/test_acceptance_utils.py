"""compat-api §16 checklist, sections "Templates" and "Parsing and streaming utilities": one test per line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tekton_llm_client
from tekton_llm_client import json_utils, stream_handler, structured, templates
from tekton_llm_client.json_utils import JSONParser, extract_json
from tekton_llm_client.models import StreamingChunk
from tekton_llm_client.stream_handler import StreamHandler
from tekton_llm_client.structured import OutputFormat, StructuredOutputParser
from tekton_llm_client.templates import PromptTemplate, PromptTemplateRegistry, load_template

# --- Templates ---------------------------------------------------------------------------------------------------


def test_register_jinja_template_then_format_with_none_context() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    n = "task_prompt"
    reg.register(PromptTemplate(name=n, template="T: {{ task }}{% if context %} C: {{ context }}{% endif %}"))
    assert reg.get_template(n).format(task="t", context=None) == "T: t"  # type: ignore[union-attr]
    assert reg.get_template(n).format(task="t", context="c") == "T: t C: c"  # type: ignore[union-attr]


def test_register_template_nameless_single_brace() -> None:
    reg = PromptTemplateRegistry()
    reg.register_template("x", PromptTemplate(template="Explain {command}", output_format=OutputFormat.TEXT))
    assert reg.get_template("x").format(command="ls") == "Explain ls"  # type: ignore[union-attr]


def test_render_single_brace_keyword() -> None:
    assert PromptTemplate(name="k", template="Ctx: {knowledge_context}").render(knowledge_context="K") == "Ctx: K"


def test_literal_json_braces_and_dollar_variable_render_unchanged() -> None:
    text = 'Reply as {"name": "...", "steps": [{"id": 1}]} and keep ${variable_name} as is.'
    assert PromptTemplate(name="lit", template=text).render() == text


def test_directory_loaders_return_counts_and_accept_system_prompts_file(tmp_path: Path) -> None:
    (tmp_path / "system_prompts.json").write_text(
        json.dumps({"system_prompts": [{"name": "a", "template": "A"}, {"name": "b", "template": "B {x}"}]})
    )
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.load_templates_from_directory(str(tmp_path)) == 2
    other = PromptTemplateRegistry(load_defaults=False)
    assert other.load_from_directory(str(tmp_path)) == 2
    assert other.render("b", x=1) == "B 1"


def test_list_membership_update_unregister_len() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "n", "template": "t1"})
    assert "n" in reg.list_templates()
    assert reg.update("n", {"template": "t2"}) is True
    assert reg.render("n") == "t2"
    assert len(reg.templates) == 1
    assert reg.unregister("n") is True
    assert "n" not in reg.list_templates()
    assert len(reg.templates) == 0


def test_load_template_nameless_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"template": "X {{ v }}"}))
    (tmp_path / "y.yaml").write_text("template: Y {v}\ndescription: yaml\n")
    x = load_template(str(tmp_path / "x.json"))
    y = load_template(str(tmp_path / "y.yaml"))
    assert isinstance(x, PromptTemplate)
    assert isinstance(y, PromptTemplate)
    assert x.name == "x"
    assert (y.name, y.description, y.render(v=1)) == ("y", "yaml", "Y 1")


# --- Parsing and streaming utilities -------------------------------------------------------------------------------


def test_json_parser_fenced_and_parse_array() -> None:
    assert JSONParser().parse('text ```json\n{"a": 1}\n```') == {"a": 1}
    assert isinstance(JSONParser().parse_array('[{"a":1}]'), list)
    assert JSONParser().parse_array('[{"a":1}]') == [{"a": 1}]


def test_extract_json_returns_parsed_list() -> None:
    assert extract_json('Tasks:\n[{"name": "a"}]') == [{"name": "a"}]


def test_structured_output_parser_with_schema_dict() -> None:
    parser = StructuredOutputParser({"type": "object", "properties": {"name": {"type": "string"}}})
    prompt = parser.format_prompt("Name the widget.")
    assert prompt.startswith("Name the widget.")
    assert '"properties"' in prompt
    assert parser.parse('{"name": "w"}') == {"name": "w"}


def test_output_format_text_and_json_array_exist() -> None:
    assert OutputFormat.TEXT == "text"
    assert OutputFormat.JSON_ARRAY == "json_array"


async def _stream() -> AsyncIterator[StreamingChunk]:
    for text, done in (("a", False), ("b", False), ("", True)):
        yield StreamingChunk(chunk=text, done=done)


async def test_async_callback_fn_awaited_per_chunk_and_text_returned() -> None:
    seen: list[str] = []

    async def async_cb(text: str) -> None:
        seen.append(text)

    assert await StreamHandler(callback_fn=async_cb).process_stream(_stream()) == "ab"
    assert seen == ["a", "b", ""]


async def test_async_generator_callback_drained_and_process_fn_constructs() -> None:
    drained: list[str] = []

    async def async_gen_fn(text: str) -> AsyncIterator[str]:
        yield text
        drained.append(text)

    assert await StreamHandler(callback_fn=async_gen_fn).process_stream(_stream()) == "ab"
    assert drained == ["a", "b", ""]
    handler = StreamHandler(process_fn=lambda item: json.dumps({"content": str(item)}))
    assert handler.process_fn is not None
    assert handler.process_fn(StreamingChunk(chunk="z")) == '{"content": "z"}'


def test_models_import_line() -> None:
    from tekton_llm_client.models import (  # noqa: F401
        ChatCompletionOptions,
        ChatMessage,
        ChatRole,
        CompletionOptions,
        Message,
        MessageRole,
        StreamingChunk,
    )

    assert ChatMessage is Message


# --- Top-level re-exports (wired by the package __init__) ----------------------------------------------------------

TOP_LEVEL = {
    "PromptTemplateRegistry": templates,
    "PromptTemplate": templates,
    "load_template": templates,
    "JSONParser": json_utils,
    "parse_json": json_utils,
    "extract_json": json_utils,
    "StructuredOutputParser": structured,
    "OutputFormat": structured,
    "StreamHandler": stream_handler,
    "collect_stream": stream_handler,
    "stream_to_string": stream_handler,
}


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_name_is_the_module_object(name: str) -> None:
    assert name in tekton_llm_client.__all__, f"{name} is not exported by tekton_llm_client"
    assert getattr(tekton_llm_client, name) is getattr(TOP_LEVEL[name], name)
