"""JSON extraction and repair (compat-api §10)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from tekton_llm_client.exceptions import JSONParsingError, TektonLLMError
from tekton_llm_client.json_utils import JSONParser, extract_json, iter_json, parse_json


def test_raw_object_and_array() -> None:
    assert JSONParser.parse('{"a": 1, "b": [true, null]}') == {"a": 1, "b": [True, None]}
    assert JSONParser.parse("  [1, 2]  ") == [1, 2]


def test_fenced_json_block_after_prose() -> None:
    assert JSONParser().parse('text ```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json('Here:\n```\n[{"x": "y"}]\n```\nThanks') == [{"x": "y"}]


def test_unterminated_fence_still_parses() -> None:
    assert parse_json('```json\n{"a": {"b": 2}}\n') == {"a": {"b": 2}}


def test_object_embedded_in_prose_with_braces_in_strings() -> None:
    text = 'Sure! Here it is: {"msg": "use {curly} and [square] and \\"quotes\\"", "n": 2} Hope it helps.'
    assert parse_json(text) == {"msg": 'use {curly} and [square] and "quotes"', "n": 2}


def test_array_embedded_in_prose() -> None:
    assert extract_json('Tasks:\n[{"name": "a"}]') == [{"name": "a"}]
    assert isinstance(extract_json('Result: [{"name": "a"}, {"name": "b"}] done'), list)


def test_prose_brackets_before_json_are_skipped() -> None:
    text = 'Note [see docs] and {braces} first. Answer: {"ok": true}'
    assert parse_json(text) == {"ok": True}


def test_outermost_value_is_returned_not_a_nested_one() -> None:
    assert parse_json('x {"outer": {"inner": [1]}} y') == {"outer": {"inner": [1]}}


def test_repair_trailing_commas() -> None:
    assert parse_json('{"a": [1, 2, ], "b": {"c": 3,},}') == {"a": [1, 2], "b": {"c": 3}}


def test_repair_single_quotes_including_escapes_and_inner_double_quotes() -> None:
    assert parse_json("{'a': 'it\\'s', 'b': 'say \"hi\"'}") == {"a": "it's", "b": 'say "hi"'}


def test_repair_unquoted_keys_and_python_literals() -> None:
    assert parse_json("{name: 'w', count: 2, $ref: 'r', ok: True, none: None, 7: 'seven'}") == {
        "name": "w",
        "count": 2,
        "$ref": "r",
        "ok": True,
        "none": None,
        "7": "seven",
    }


def test_repair_leaves_string_content_alone() -> None:
    assert parse_json("{key: 'a, ] } True: x', other: \"b,}\"}") == {"key": "a, ] } True: x", "other": "b,}"}


def test_raw_newline_inside_string_is_accepted() -> None:
    assert parse_json('{"text": "line one\nline two",}') == {"text": "line one\nline two"}


def test_repair_never_evaluates_code() -> None:
    with pytest.raises(JSONParsingError):
        parse_json("{'a': __import__('os').getcwd()}")


@pytest.mark.parametrize(
    "text",
    ["no json here", "", "42", '"just a string"', "{unbalanced: [1, 2}", "[1, 2", "{'a': }"],
)
def test_failures_raise_json_parsing_error(text: str) -> None:
    with pytest.raises(JSONParsingError) as info:
        parse_json(text)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, TektonLLMError)
    assert error.content == text
    assert error.message


def test_non_text_input_raises_json_parsing_error() -> None:
    with pytest.raises(JSONParsingError):
        parse_json(None)  # type: ignore[arg-type]
    assert parse_json(b'{"a": 1}') == {"a": 1}  # type: ignore[arg-type]


def test_parse_array_finds_array_after_an_object() -> None:
    assert JSONParser().parse_array('meta {"x": 1} then [1, 2]') == [1, 2]
    assert JSONParser.parse_array('[{"a":1}]') == [{"a": 1}]


def test_parse_array_unwraps_single_key_object() -> None:
    assert JSONParser.parse_array('{"items": [{"a": 1}, {"a": 2}]}') == [{"a": 1}, {"a": 2}]


def test_parse_array_without_array_raises_with_partial_data() -> None:
    with pytest.raises(JSONParsingError) as info:
        JSONParser.parse_array('{"a": [1], "b": 2}')
    assert info.value.partial_data == {"a": [1], "b": 2}


def test_legacy_extract_json_returns_the_json_text() -> None:
    assert JSONParser.extract_json('Here ```json\n{"a": 1}\n``` ok') == '{"a": 1}'
    assert JSONParser().extract_json("see [1, 2] there") == "[1, 2]"
    repaired = JSONParser.extract_json("x {a: 1,} y")
    assert repaired == '{"a": 1}'


def test_parse_as_model() -> None:
    class Item(BaseModel):
        name: str
        qty: int

    item = JSONParser.parse_as_model('Result: {"name": "bolt", "qty": "3"}', Item)
    assert item == Item(name="bolt", qty=3)
    with pytest.raises(JSONParsingError) as info:
        JSONParser.parse_as_model('{"name": "bolt"}', Item)
    assert info.value.partial_data == {"name": "bolt"}


def test_iter_json_lists_every_top_level_value_largest_first() -> None:
    values = list(iter_json('a {"x": 1} b [2] c {"y": {"z": 3}}'))
    assert values == [{"y": {"z": 3}}, {"x": 1}, [2]]


def test_citation_brackets_do_not_win_over_the_answer() -> None:
    assert parse_json('According to [1] and [2], the answer is {"a": [1, 2]}.') == {"a": [1, 2]}


def test_apostrophes_inside_prose_brackets_do_not_hide_json() -> None:
    assert parse_json('(see [it\'s here]) and {"a": 1}') == {"a": 1}


def test_code_in_other_language_fences_is_not_searched() -> None:
    code = "int f(int x) { if (x) { return g(x[1]); } return 0; }\n" * 50
    assert parse_json(f'Code:\n```c\n{code}```\nResult: {{"ok": true}}') == {"ok": True}


def test_unfenced_code_before_the_answer_is_skipped() -> None:
    code = "void g() { if (ready) { run(items[0]); } }\n" * 200
    assert parse_json(f'{code}\nResult: {{"ok": true}}') == {"ok": True}


def test_many_unbalanced_brackets_do_not_prevent_later_json() -> None:
    assert parse_json("[" * 10 + " noise " + '{"ok": 1}') == {"ok": 1}
    assert parse_json("{ " * 20000 + '{"ok": 2}') == {"ok": 2}
    assert parse_json("x ] } ) " + '["after", "closers"]') == ["after", "closers"]


def test_unbalanced_deep_nesting_is_a_parsing_error() -> None:
    with pytest.raises(JSONParsingError):
        parse_json("[" * 5000)


def test_deep_nesting_parses_or_fails_cleanly_never_recursion_error() -> None:
    # Whether 2000 levels decode depends on the interpreter's json recursion limit (3.11: no, 3.13: yes).
    try:
        value = parse_json("[" * 2000 + "]" * 2000)
    except JSONParsingError:
        return
    depth = 0
    while isinstance(value, list) and value:
        value = value[0]
        depth += 1
    assert depth == 1999
