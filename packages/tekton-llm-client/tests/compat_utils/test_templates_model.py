"""PromptTemplate fields (compat-api §7) and PromptTemplateRegistry (§8)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from tekton_llm_client.exceptions import TektonLLMError, TemplateError
from tekton_llm_client.structured import OutputFormat
from tekton_llm_client.templates import (
    DEFAULT_TEMPLATES,
    PromptTemplate,
    PromptTemplateRegistry,
    TemplateCollection,
    load_template,
)

LEGACY_DEFAULTS = {"general_system", "code_assistant", "concise_response", "json_response", "structured_extraction"}


def test_model_defaults_and_content_alias() -> None:
    tpl = PromptTemplate(content="Hi {x}")
    assert tpl.template == "Hi {x}"
    assert tpl.name is None
    assert tpl.version == "1.0.0"
    assert tpl.tags == []
    assert tpl.metadata == {}
    assert tpl.output_format is None
    assert tpl.variables is None


def test_unknown_keys_are_accepted_and_kept_in_metadata() -> None:
    tpl = PromptTemplate.model_validate(
        {"name": "n", "template": "t", "examples": [{"in": 1}], "model_type": "chat", "metadata": {"a": 1}}
    )
    assert tpl.metadata == {"a": 1, "examples": [{"in": 1}], "model_type": "chat"}


def test_output_format_string_becomes_enum_and_unknown_string_is_kept() -> None:
    assert PromptTemplate(template="t", output_format="JSON").output_format is OutputFormat.JSON
    assert PromptTemplate(template="t", output_format="xml").output_format == "xml"


def test_numeric_version_from_files_is_text() -> None:
    assert PromptTemplate.model_validate({"template": "t", "version": 2}).version == "2"


def test_missing_template_text_is_a_validation_error() -> None:
    with pytest.raises(ValueError):
        PromptTemplate.model_validate({"name": "n"})


def test_registry_loads_the_five_legacy_defaults() -> None:
    reg = PromptTemplateRegistry()
    assert set(reg.templates) == LEGACY_DEFAULTS
    assert {entry["name"] for entry in DEFAULT_TEMPLATES} == LEGACY_DEFAULTS
    assert "Tekton component sophia" in reg.render("general_system", component="sophia")
    assert "{{" not in reg.render("json_response", schema='{"type": "object"}')
    assert '{"type": "object"}' in reg.render("json_response", schema='{"type": "object"}')
    assert "Text:\nabc" in reg.render("structured_extraction", text="abc", fields="a, b")
    assert "at most 2 sentences" in reg.render("concise_response", max_sentences=2)
    assert "who writes Go" in reg.render("code_assistant", language="Go")


def test_registry_defaults_are_independent_between_registries() -> None:
    first = PromptTemplateRegistry()
    first.update("general_system", {"template": "changed"})
    assert PromptTemplateRegistry().get("general_system").template != "changed"  # type: ignore[union-attr]


def test_registry_without_defaults_is_empty() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert len(reg) == 0
    assert len(reg.templates) == 0


def test_register_template_object_dict_and_replacement() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.register(PromptTemplate(name="a", template="A {{ x }}")) == "a"
    assert reg.register({"name": "b", "content": "B {x}", "description": "d"}) == "b"
    assert reg.get("b").description == "d"  # type: ignore[union-attr]
    reg.register({"name": "a", "template": "A2"})
    assert reg.render("a") == "A2"
    assert len(reg.templates) == 2
    assert "a" in reg
    assert "zzz" not in reg


@pytest.mark.parametrize(
    "bad",
    [PromptTemplate(template="nameless"), {"template": "no name"}, {"name": "no-text"}, {"name": "n", "template": 3}],
)
def test_register_without_name_or_text_raises_value_error(bad: object) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    with pytest.raises(ValueError):
        reg.register(bad)  # type: ignore[arg-type]
    assert len(reg) == 0


def test_register_rejects_other_types_with_package_error() -> None:
    with pytest.raises(TektonLLMError):
        PromptTemplateRegistry(load_defaults=False).register(42)  # type: ignore[arg-type]


def test_register_collection_registers_each_member() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    collection = TemplateCollection(
        [PromptTemplate(name="x", template="X"), PromptTemplate(name="y", template="Y")], name="file"
    )
    assert reg.register(collection) == "file"
    assert sorted(reg.templates) == ["x", "y"]


def test_register_template_names_nameless_templates_dicts_and_text() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    tpl = PromptTemplate(template="Explain {command}", output_format=OutputFormat.TEXT)
    assert reg.register_template("x", tpl) == "x"
    assert reg.get_template("x").format(command="ls") == "Explain ls"  # type: ignore[union-attr]
    assert reg.get_template("x").name == "x"  # type: ignore[union-attr]
    reg.register_template("d", {"template": "D {v}"})
    reg.register_template("s", "S {v}")
    assert reg.render("d", v=1) == "D 1"
    assert reg.render("s", {"v": 2}) == "S 2"


def test_register_template_copies_a_template_named_otherwise() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    original = PromptTemplate(name="orig", template="O")
    reg.register(original)
    reg.register_template("alias", original)
    assert original.name == "orig"
    assert reg.get("alias").name == "alias"  # type: ignore[union-attr]
    assert reg.get("orig") is original


def test_get_unknown_returns_none_and_render_unknown_raises() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.get("nope") is None
    assert reg.get_template("nope") is None
    with pytest.raises(TemplateError) as info:
        reg.render("nope")
    assert isinstance(info.value, ValueError)


def test_registry_render_uses_variables_and_kwargs() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "r", "template": "{{ content }}|{context_prompt}|"})
    assert reg.render("r", content="c", context_prompt="") == "c||"
    assert reg.render("r", {"content": "v"}, context_prompt="k") == "v|k|"


def test_list_templates_gives_info_dicts_and_supports_name_membership() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "n", "template": "t", "description": "d", "tags": ["x"], "version": "2.0"})
    listing = reg.list_templates()
    assert listing == [{"name": "n", "description": "d", "version": "2.0", "tags": ["x"]}]
    assert "n" in listing
    assert "missing" not in listing
    assert {"name": "n", "description": "d", "version": "2.0", "tags": ["x"]} in listing


def test_update_merges_fields_in_place() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "n", "template": "old {x}", "description": "keep", "tags": ["t"]})
    held = reg.get("n")
    assert reg.update("n", {"template": "new {x}"}) is True
    assert held is reg.get("n")
    assert held is not None
    assert held.template == "new {x}"
    assert held.description == "keep"
    assert held.tags == ["t"]
    assert reg.update("n", {"content": "via content"}) is True
    assert held.template == "via content"
    assert reg.update("n", PromptTemplate(template="from model", version="3")) is True
    assert (held.template, held.version, held.description, held.name) == ("from model", "3", "keep", "n")


def test_update_unknown_returns_false_and_invalid_change_raises() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.update("nope", {"template": "x"}) is False
    reg.register({"name": "n", "template": "t"})
    with pytest.raises(TemplateError):
        reg.update("n", {"template": None})
    assert reg.render("n") == "t"


def test_remove_and_unregister() -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "a", "template": "A"})
    reg.register({"name": "b", "template": "B"})
    assert reg.unregister("a") is True
    assert reg.unregister("a") is False
    assert reg.remove("b") is True
    assert reg.remove("b") is False
    assert len(reg.templates) == 0


def test_save_to_file_and_save_all_round_trip(tmp_path: Path) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "one", "template": "1 {{ a }}", "description": "first", "examples": ["e"]})
    reg.register({"name": "../two", "template": "2 {b}"})
    assert reg.save_to_file("one", tmp_path / "one.json") is True
    data = json.loads((tmp_path / "one.json").read_text())
    assert data["template"] == "1 {{ a }}"
    assert data["metadata"] == {"examples": ["e"]}
    assert reg.save_to_file("missing", tmp_path / "x.json") is False
    assert reg.save_to_file("one", tmp_path / "one.yaml") is True
    assert load_template(tmp_path / "one.yaml").render(a="A") == "1 A"  # type: ignore[union-attr]

    out = tmp_path / "all"
    assert reg.save_all(out) == 2
    written = sorted(p.name for p in out.iterdir())
    assert written == ["_two.json", "one.json"]  # a name never escapes the directory
    again = PromptTemplateRegistry(load_defaults=False)
    assert again.load_from_directory(out) == 2
    assert again.render("../two", b="B") == "2 B"


def test_save_to_unwritable_path_returns_false(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register({"name": "n", "template": "t"})
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client.templates"):
        assert reg.save_to_file("n", tmp_path / "no-such-dir" / "n.json") is False
    assert "cannot save template" in caplog.text
