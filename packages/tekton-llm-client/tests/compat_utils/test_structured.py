"""StructuredOutputParser and OutputFormat (compat-api §11), every format and a JSON Schema."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import BaseModel
from tekton_llm_client.exceptions import FormatError, TektonLLMError
from tekton_llm_client.structured import OutputFormat, StructuredOutputParser

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
    "required": ["name"],
}


def test_output_format_members_compare_equal_to_values() -> None:
    assert OutputFormat.TEXT == "text"
    assert OutputFormat.JSON_ARRAY == "json_array"
    assert [m.value for m in OutputFormat] == ["json", "json_array", "list", "key_value", "markdown", "yaml", "text"]
    assert OutputFormat("JSON") is OutputFormat.JSON
    assert str(OutputFormat.LIST) == "list"


def test_format_given_by_name_case_insensitive_or_member() -> None:
    assert StructuredOutputParser("json").format is OutputFormat.JSON
    assert StructuredOutputParser("Key_Value").format is OutputFormat.KEY_VALUE
    assert StructuredOutputParser(format=OutputFormat.LIST).format is OutputFormat.LIST
    assert StructuredOutputParser().format is OutputFormat.JSON


def test_unknown_format_name_raises_format_error() -> None:
    with pytest.raises(FormatError) as info:
        StructuredOutputParser("xml")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TektonLLMError)


def test_schema_prompt_and_parse() -> None:
    parser = StructuredOutputParser(SCHEMA)
    prompt = parser.format_prompt("Describe the widget.")
    assert prompt.startswith("Describe the widget.\n\n")
    assert "JSON only" in prompt
    assert json.loads(prompt[prompt.index("{") :]) == SCHEMA
    assert parser.parse('{"name": "w"}') == {"name": "w"}
    assert parser.parse('Sure: ```json\n{"name": "w", "size": 2}\n```') == {"name": "w", "size": 2}


def test_schema_object_prefers_an_object_over_an_earlier_array() -> None:
    assert StructuredOutputParser(SCHEMA).parse('[1, 2] and {"name": "n"}') == {"name": "n"}


def test_schema_violations_raise_format_error() -> None:
    parser = StructuredOutputParser(SCHEMA)
    with pytest.raises(FormatError):
        parser.parse('{"size": 2}')  # "name" is required
    with pytest.raises(FormatError):
        parser.parse("[1, 2]")  # wrong top-level type
    with pytest.raises(FormatError):
        parser.parse("no json at all")


def test_array_schema_parses_arrays() -> None:
    parser = StructuredOutputParser({"type": "array", "items": {"type": "string"}})
    assert parser.format is OutputFormat.JSON_ARRAY
    assert parser.parse('Here: ["a", "b"]') == ["a", "b"]
    with pytest.raises(FormatError):
        parser.parse('{"a": 1, "b": 2}')


def test_json_format() -> None:
    parser = StructuredOutputParser("json")
    assert "JSON object" in parser.format_prompt("p")
    assert parser.parse("Result {'a': 1,}") == {"a": 1}
    with pytest.raises(FormatError):
        parser.parse("nothing")


def test_json_array_format() -> None:
    parser = StructuredOutputParser(OutputFormat.JSON_ARRAY)
    assert "JSON array" in parser.format_prompt("p")
    assert parser.parse('{"tasks": [{"n": 1}]}') == [{"n": 1}]
    with pytest.raises(FormatError):
        parser.parse('{"a": 1}')


def test_text_format_strips_and_leaves_prompt_unchanged() -> None:
    parser = StructuredOutputParser(OutputFormat.TEXT)
    assert parser.format_prompt("Just answer.") == "Just answer."
    assert parser.parse("  spaced answer \n") == "spaced answer"


def test_list_format_numbered_bulleted_and_wrapped() -> None:
    parser = StructuredOutputParser(format=OutputFormat.LIST)
    assert "one item per line" in parser.format_prompt("p")
    numbered = "Here are some items:\n        1. First item\n        2. Second item\n        3. Third item\n        "
    assert parser.parse(numbered) == ["First item", "Second item", "Third item"]
    assert parser.parse("- a\n* b\n• c\n+ d\n2) e") == ["a", "b", "c", "d", "e"]
    assert parser.parse("1. first part\n   continues here\n2. second") == ["first part continues here", "second"]


def test_list_format_fallbacks() -> None:
    parser = StructuredOutputParser("list")
    assert parser.parse("alpha\nbeta\n\ngamma") == ["alpha", "beta", "gamma"]
    assert parser.parse("red, green , blue") == ["red", "green", "blue"]
    assert parser.parse("single") == ["single"]
    assert parser.parse("   ") == []
    assert parser.parse('["x", {"y": 1}]') == ["x", '{"y": 1}']


def test_key_value_format() -> None:
    parser = StructuredOutputParser(format=OutputFormat.KEY_VALUE)
    assert "key: value" in parser.format_prompt("p")
    text = (
        "\n        Name: John Doe\n        Age: 42\n        **Role**: Engineer\n        - Site: https://x.example/a:b\n"
    )
    assert parser.parse(text) == {"Name": "John Doe", "Age": "42", "Role": "Engineer", "Site": "https://x.example/a:b"}
    assert parser.parse("Notes: first\n  second line") == {"Notes": "first\nsecond line"}
    assert parser.parse("a = 1\nb=2") == {"a": "1", "b": "2"}
    with pytest.raises(FormatError):
        parser.parse("no pairs in this text")


def test_markdown_format() -> None:
    parser = StructuredOutputParser(format=OutputFormat.MARKDOWN)
    assert "Markdown" in parser.format_prompt("p")
    text = (
        "# Main Title\nIntro.\n\n## Section 1\nS1 text.\n\n### Detail\nD.\n\n"
        "```python\n# a comment, not a heading\nprint('x')\n```\n"
    )
    result = parser.parse(text)
    assert result["content"] == text
    assert result["sections"]["Main Title"] == "Intro."
    assert result["sections"]["subsections"]["Section 1"] == "S1 text."
    assert result["sections"]["h3"]["Detail"].startswith("D.\n\n```python")
    assert "a comment, not a heading" not in str(list(result["sections"]))
    assert result["code_blocks"] == [{"language": "python", "code": "# a comment, not a heading\nprint('x')"}]


def test_yaml_format() -> None:
    parser = StructuredOutputParser(format=OutputFormat.YAML)
    assert "YAML" in parser.format_prompt("p")
    assert parser.parse("Here:\n```yaml\nname: w\nitems: [1, 2]\n```") == {"name": "w", "items": [1, 2]}
    assert parser.parse("a: 1\nb: two") == {"a": 1, "b": "two"}
    with pytest.raises(FormatError):
        parser.parse("a: [unclosed")


def test_yaml_format_never_constructs_python_objects() -> None:
    with pytest.raises(FormatError):
        StructuredOutputParser("yaml").parse("!!python/object/apply:os.getcwd []")


def test_yaml_without_pyyaml_raises_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(FormatError) as info:
        StructuredOutputParser("yaml").parse("a: 1")
    assert "pyyaml" in str(info.value)


class Widget(BaseModel):
    name: str
    size: int = 0


def test_model_validation_for_objects_and_lists() -> None:
    assert StructuredOutputParser(model=Widget).parse('{"name": "w", "size": "3"}') == Widget(name="w", size=3)
    parsed = StructuredOutputParser(OutputFormat.JSON_ARRAY, model=Widget).parse('[{"name": "a"}, {"name": "b"}]')
    assert parsed == [Widget(name="a"), Widget(name="b")]
    with pytest.raises(FormatError):
        StructuredOutputParser(model=Widget).parse('{"size": 1}')
    with pytest.raises(FormatError):
        StructuredOutputParser(OutputFormat.TEXT, model=Widget).parse("text")


def test_model_schema_in_prompt() -> None:
    prompt = StructuredOutputParser(model=Widget).format_prompt("p")
    schema = json.loads(prompt[prompt.index("{") :])
    assert schema["properties"]["name"]["type"] == "string"
    array_prompt = StructuredOutputParser(OutputFormat.JSON_ARRAY, model=Widget).format_prompt("p")
    assert json.loads(array_prompt[array_prompt.index("{") :])["type"] == "array"


def test_non_text_input_raises_format_error() -> None:
    with pytest.raises(FormatError):
        StructuredOutputParser("json").parse(None)  # type: ignore[arg-type]
