"""Rendering rules of PromptTemplate (compat-api §7): Jinja2, single braces, single pass, errors."""

from __future__ import annotations

import pytest
from tekton_llm_client.exceptions import TektonLLMError, TemplateError
from tekton_llm_client.structured import OutputFormat
from tekton_llm_client.templates import PromptTemplate, render_template


def test_jinja_variables_and_blocks_render_with_trimming() -> None:
    tpl = PromptTemplate(
        name="j",
        template="Task: {{ task }}\n{% if items %}\n{% for i in items %}\n  - {{i}}\n{% endfor %}\n{% endif %}End",
    )
    assert tpl.render(task="t", items=["a", "b"]) == "Task: t\n  - a\n  - b\nEnd"


def test_optional_jinja_variable_omitted_or_none_renders_empty() -> None:
    tpl = PromptTemplate(name="n", template="T: {{ task }}{% if context %} C: {{ context }}{% endif %}|{{ extra }}|")
    assert tpl.format(task="t", context=None) == "T: t||"
    assert tpl.format(task="t") == "T: t||"
    assert tpl.format(task="t", context="c", extra=None) == "T: t C: c||"


def test_missing_jinja_attribute_chain_renders_empty() -> None:
    assert PromptTemplate(template="[{{ user.name.first }}]").render() == "[]"


def test_no_html_escaping() -> None:
    assert PromptTemplate(template="{{ code }}").render(code="<a href='x'>&</a>") == "<a href='x'>&</a>"


def test_single_brace_placeholder_replaced_with_str_value() -> None:
    tpl = PromptTemplate(template="Explain {command} ({count} times)", output_format=OutputFormat.TEXT)
    assert tpl.format(command="ls", count=3) == "Explain ls (3 times)"


def test_single_brace_unsupplied_name_left_verbatim() -> None:
    assert PromptTemplate(template="Hi {name}, see {other}").render(name="Ann") == "Hi Ann, see {other}"


def test_kwargs_win_over_variables_and_callers_dict_unchanged() -> None:
    variables = {"a": "from-dict", "b": "B"}
    tpl = PromptTemplate(template="{a}-{b}-{{ a }}")
    assert tpl.render(variables, a="kw") == "kw-B-kw"
    assert variables == {"a": "from-dict", "b": "B"}


def test_literal_json_example_survives_single_brace_substitution() -> None:
    template = (
        'Return JSON like {"name": "...", "tags": ["a"]} or\n'
        "{\n"
        '  "steps": [{"id": 1}],\n'
        '  "nested": {"k": {"v": 2}}\n'
        "}\n"
        "for {topic}"
    )
    rendered = PromptTemplate(template=template).render(topic="cats")
    assert rendered == template.replace("{topic}", "cats")


def test_literal_json_example_survives_in_jinja_template() -> None:
    template = 'Answer about {{ topic }} as {"answer": "...", "items": [{"n": 1}]} for {user}'
    rendered = PromptTemplate(template=template).render(topic="dogs", user="u1")
    assert rendered == 'Answer about dogs as {"answer": "...", "items": [{"n": 1}]} for u1'


def test_nested_json_closing_braces_survive_in_jinja_template() -> None:
    template = '{{ x }} then {"a": {"b": 1}} and {y}'
    assert PromptTemplate(template=template).render(x=1, y=2) == '1 then {"a": {"b": 1}} and 2'


def test_dollar_brace_prose_left_alone_even_when_name_supplied() -> None:
    template = "Use ${variable_name} in the shell; {variable_name} is set."
    assert PromptTemplate(template=template).render(variable_name="X") == "Use ${variable_name} in the shell; X is set."
    jinja = "{{ a }} ${variable_name} {variable_name}"
    assert PromptTemplate(template=jinja).render(a="A", variable_name="X") == "A ${variable_name} X"


def test_literal_json_and_dollar_prose_render_unchanged_without_variables() -> None:
    template = 'Example: {"name": "x", "value": ${variable_name}}\nThen {\n  "a": 1\n}\n'
    assert PromptTemplate(name="k", template=template).render() == template
    assert PromptTemplate(name="k", template=template).format() == template


def test_template_without_placeholders_returns_text_including_trailing_newline() -> None:
    assert PromptTemplate(template="Plain text.\n").render() == "Plain text.\n"
    assert PromptTemplate(template="Jinja {{ 'x' }} text.\n").render() == "Jinja x text.\n"


def test_values_containing_braces_are_inserted_literally_single_pass() -> None:
    tpl = PromptTemplate(template="A={a} B={b}")
    assert tpl.render(a="{b}", b="{{ a }}") == "A={b} B={{ a }}"


def test_values_containing_jinja_syntax_not_reinterpreted_in_jinja_mode() -> None:
    tpl = PromptTemplate(template="{{ a }} / {b} / {% if a %}yes{% endif %}")
    assert tpl.render(a="{% if x %}{{ b }}{% endif %}", b="{a} {{ a }}") == (
        "{% if x %}{{ b }}{% endif %} / {a} {{ a }} / yes"
    )


def test_single_brace_uses_str_of_value_even_in_jinja_mode() -> None:
    tpl = PromptTemplate(template="{{ n }}|{n}|{flag}")
    assert tpl.render(n=None, flag=False) == "|None|False"


def test_braces_inside_jinja_expressions_are_not_treated_as_placeholders() -> None:
    tpl = PromptTemplate(template="{{ {'k': v}['k'] }} {% set d = {'x': 1} %}{{ d['x'] }}")
    assert tpl.render(v="V", k="not-used") == "V 1"


def test_jinja_raw_block_is_verbatim() -> None:
    tpl = PromptTemplate(template="{% raw %}{{ a }} {a}{% endraw %} {a}")
    assert tpl.render(a="A") == "{{ a }} {a} A"


def test_syntax_error_raises_template_error_not_error_text() -> None:
    tpl = PromptTemplate(name="broken", template="Hello {{ name ")
    with pytest.raises(TemplateError) as info:
        tpl.render(name="x")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TektonLLMError)
    assert "broken" in str(info.value)


def test_unclosed_block_raises_template_error() -> None:
    with pytest.raises(TemplateError):
        PromptTemplate(template="{% if a %}open").render(a=True)


def test_runtime_error_in_template_raises_template_error() -> None:
    with pytest.raises(TemplateError):
        PromptTemplate(template="{{ a + 1 }}").render(a="text")


def test_sandbox_blocks_unsafe_attribute_access() -> None:
    with pytest.raises(TemplateError):
        PromptTemplate(template="{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


def test_lone_jinja_comment_lookalike_keeps_plain_mode() -> None:
    # "{#" without "#}" is not Jinja syntax, so the template stays a plain single-brace template.
    assert PromptTemplate(template="Issue {#12 for {who}").render(who="me") == "Issue {#12 for me"


def test_render_template_function_matches_model() -> None:
    assert render_template("{x} and {{ y }}", {"x": 1, "y": 2}) == "1 and 2"


def test_non_identifier_keys_are_ignored_for_single_braces() -> None:
    assert PromptTemplate(template="{a-b} {ok}").render({"a-b": "no", "ok": "yes"}) == "{a-b} yes"


def test_importing_the_utilities_does_not_import_jinja2_or_yaml() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import tekton_llm_client.templates, tekton_llm_client.structured\n"
        "import tekton_llm_client.json_utils, tekton_llm_client.stream_handler\n"
        "from tekton_llm_client.templates import PromptTemplate\n"
        "assert PromptTemplate(template='{a}').render(a=1) == '1'\n"
        "print(sorted(m for m in ('jinja2', 'yaml') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
