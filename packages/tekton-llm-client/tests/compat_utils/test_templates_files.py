"""Template files: load_template (compat-api §9) and the registry's directory loaders (§8), on real files."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from tekton_llm_client.exceptions import TemplateError
from tekton_llm_client.templates import PromptTemplate, PromptTemplateRegistry, TemplateCollection, load_template

LOGGER = "tekton_llm_client.templates"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- load_template ---------------------------------------------------------------------------------------------


def test_nameless_json_file_is_named_after_its_stem(tmp_path: Path) -> None:
    path = write(tmp_path / "x.json", json.dumps({"template": "Hi {{ who }}", "description": "d", "examples": [1]}))
    tpl = load_template(str(path))
    assert isinstance(tpl, PromptTemplate)
    assert tpl.name == "x"
    assert tpl.description == "d"
    assert tpl.metadata == {"examples": [1]}
    assert tpl.render(who="you") == "Hi you"


def test_file_name_wins_over_stem_and_argument_wins_over_both(tmp_path: Path) -> None:
    path = write(tmp_path / "file.json", json.dumps({"name": "inner", "content": "C"}))
    assert load_template(path).name == "inner"
    assert load_template(path, name="renamed").name == "renamed"


def test_yaml_file_is_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "y.yaml",
        "description: from yaml\ntags: [a, b]\ntemplate: |\n  Line one {x}\n  {% if y %}Y{% endif %}\n",
    )
    tpl = load_template(str(path))
    assert isinstance(tpl, PromptTemplate)
    assert (tpl.name, tpl.description, tpl.tags) == ("y", "from yaml", ["a", "b"])
    assert tpl.render(x=1, y=True) == "Line one 1\nY"


def test_yml_extension_and_txt_plain_text(tmp_path: Path) -> None:
    assert load_template(write(tmp_path / "a.yml", "name: a1\ncontent: A\n")).name == "a1"
    txt = load_template(write(tmp_path / "notes.txt", 'Plain {"json": 1} {x}\n'))
    assert isinstance(txt, PromptTemplate)
    assert txt.name == "notes"
    assert txt.render(x="X") == 'Plain {"json": 1} X\n'


def test_other_extension_is_plain_text_named_without_extension(tmp_path: Path) -> None:
    tpl = load_template(write(tmp_path / "prompt.md", "# Title {x}"))
    assert isinstance(tpl, PromptTemplate)
    assert tpl.name == "prompt"
    assert tpl.render(x="y") == "# Title y"


def test_file_with_several_templates_gives_a_truthy_collection(tmp_path: Path) -> None:
    path = write(tmp_path / "many.json", json.dumps([{"name": "a", "template": "A"}, {"name": "b", "template": "B"}]))
    loaded = load_template(path)
    assert isinstance(loaded, TemplateCollection)
    assert loaded
    assert loaded.name == "many"
    assert [t.name for t in loaded] == ["a", "b"]
    reg = PromptTemplateRegistry(load_defaults=False)
    reg.register(loaded)
    assert reg.render("b") == "B"


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_template(str(tmp_path / "absent.json"))


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("bad.json", "{not json"),
        ("bad.yaml", "template: [unclosed"),
        ("shape.json", "42"),
        ("empty.json", "{}"),
        ("unnamed.json", json.dumps([{"template": "no name"}])),
        ("mixed.json", json.dumps({"a": {"template": "A"}, "b": 3})),
    ],
)
def test_unparsable_content_raises_value_error(tmp_path: Path, filename: str, content: str) -> None:
    path = write(tmp_path / filename, content)
    with pytest.raises(ValueError) as info:
        load_template(path)
    assert isinstance(info.value, TemplateError)


def test_non_utf8_file_raises_template_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"caf\xe9 {x}")
    with pytest.raises(TemplateError):
        load_template(path)


def test_missing_pyyaml_gives_clear_template_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "t.yaml", "template: hi\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert "pyyaml" in str(info.value)


def test_package_resource_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "tpl_resource_pkg"
    package.mkdir()
    write(package / "__init__.py", "")
    write(package / "greet.json", json.dumps({"template": "Hello {name}"}))
    monkeypatch.syspath_prepend(str(tmp_path))
    tpl = load_template("tpl_resource_pkg:greet.json")
    assert isinstance(tpl, PromptTemplate)
    assert tpl.name == "greet"
    assert tpl.render(name="R") == "Hello R"
    with pytest.raises(FileNotFoundError):
        load_template("tpl_resource_pkg:absent.json")


# --- directory loading -----------------------------------------------------------------------------------------


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    root.mkdir()
    # One template, nameless: named after the file.
    write(root / "single.json", json.dumps({"template": "Single {{ x }}"}))
    # One template with its own name, text under "content".
    write(root / "named.yaml", "name: yaml_named\ncontent: Named {x}\n")
    # A dict of templates keyed by name (entries as dicts or as plain text).
    write(root / "by_name.json", json.dumps({"k1": {"template": "K1"}, "k2": "K2 {v}"}))
    # A list of templates.
    write(root / "listed.yml", "- name: l1\n  template: L1\n- name: l2\n  content: L2\n")
    # A wrapper object whose value is a list of templates (Rhetor's system_prompts shape), plus metadata.
    write(
        root / "wrapper.json",
        json.dumps(
            {"version": "1", "system_prompts": [{"name": "sp1", "template": "SP1"}, {"name": "sp2", "content": "SP2"}]}
        ),
    )
    # Plain text.
    write(root / "plain.txt", "Plain {x}")
    return root


EXPECTED = {"single", "yaml_named", "k1", "k2", "l1", "l2", "sp1", "sp2", "plain"}


def test_load_from_directory_reads_every_shape(template_dir: Path) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.load_from_directory(str(template_dir)) == len(EXPECTED)
    assert set(reg.templates) == EXPECTED
    assert reg.render("single", x=1) == "Single 1"
    assert reg.render("yaml_named", x=2) == "Named 2"
    assert reg.render("k2", v="v") == "K2 v"
    assert reg.render("l2") == "L2"
    assert reg.render("sp1") == "SP1"
    assert reg.render("plain", x="p") == "Plain p"


def test_load_templates_from_directory_is_the_same(template_dir: Path) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.load_templates_from_directory(template_dir) == len(EXPECTED)
    assert set(reg.templates) == EXPECTED


def test_constructor_templates_dir_loads_after_defaults(template_dir: Path) -> None:
    reg = PromptTemplateRegistry(templates_dir=str(template_dir))
    assert set(reg.templates) >= EXPECTED
    assert "general_system" in reg.templates


def test_system_prompts_wrapper_file_alone(tmp_path: Path) -> None:
    write(tmp_path / "system_prompts.json", json.dumps({"system_prompts": [{"name": "base", "template": "B"}]}))
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.load_from_directory(tmp_path) == 1
    assert "base" in reg.list_templates()


def test_python_files_are_skipped_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed.marker"
    write(
        tmp_path / "evil_templates.py",
        f"open({str(marker)!r}, 'w').write('ran')\nsystem_template = {{'name': 'py', 'template': 'P'}}\n",
    )
    write(tmp_path / "ok.json", json.dumps({"template": "OK"}))
    reg = PromptTemplateRegistry(load_defaults=False)
    assert reg.load_from_directory(tmp_path) == 1
    assert set(reg.templates) == {"ok"}
    assert not marker.exists()


def test_bad_files_are_logged_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path / "a_bad.json", "{oops")
    write(tmp_path / "b_bad.yaml", "- name: x\n  nothing: here\n")
    write(tmp_path / "c_good.json", json.dumps({"name": "good", "template": "G"}))
    (tmp_path / "d_binary.txt").write_bytes(b"\xff\xfe\x00bad")
    write(tmp_path / "e_ignored.csv", "a,b")
    (tmp_path / "subdir").mkdir()
    write(tmp_path / "subdir" / "deep.json", json.dumps({"template": "deep"}))
    reg = PromptTemplateRegistry(load_defaults=False)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert reg.load_from_directory(tmp_path) == 1
    assert set(reg.templates) == {"good"}
    skipped = [r.getMessage() for r in caplog.records if "skipping template file" in r.getMessage()]
    assert len(skipped) == 3
    assert any("a_bad.json" in m for m in skipped)
    assert any("b_bad.yaml" in m for m in skipped)
    assert any("d_binary.txt" in m for m in skipped)


def test_missing_directory_returns_zero_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reg = PromptTemplateRegistry(load_defaults=False)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert reg.load_from_directory(tmp_path / "nowhere") == 0
    assert "template directory not found" in caplog.text


def test_yaml_without_pyyaml_is_skipped_with_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "t.yaml", "template: hi\n")
    write(tmp_path / "u.json", json.dumps({"template": "U"}))
    monkeypatch.setitem(sys.modules, "yaml", None)
    reg = PromptTemplateRegistry(load_defaults=False)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert reg.load_from_directory(tmp_path) == 1
    assert "pyyaml" in caplog.text
