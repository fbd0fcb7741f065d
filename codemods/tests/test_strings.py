"""Dotted-path string literals that point into a legacy module move with the imports."""

from __future__ import annotations

import pytest

CASES = {
    "mock-patch-class": (
        'mock.patch("terma.core.llm_adapter.LLMAdapter")\n',
        'mock.patch("tekton_llm_shims.terma.LLMAdapter")\n',
    ),
    "mock-patch-method-single-quotes": (
        "mock.patch('engram.core.llm_adapter.LLMAdapter.analyze_memory', new=m)\n",
        "mock.patch('tekton_llm_shims.engram.LLMAdapter.analyze_memory', new=m)\n",
    ),
    "raw-and-unicode-prefixes-kept": (
        "a = r'terma.core.llm_adapter.LLMAdapter'\nb = u\"terma.core.llm_adapter.LLMAdapter\"\n",
        "a = r'tekton_llm_shims.terma.LLMAdapter'\nb = u\"tekton_llm_shims.terma.LLMAdapter\"\n",
    ),
    "triple-quoted": (
        'x = """hermes.core.llm_adapter.LLMAdapter"""\n',
        'x = """tekton_llm_shims.hermes.LLMAdapter"""\n',
    ),
    "string-annotation": (
        'def f(a: "terma.core.llm_adapter.LLMAdapter") -> None: ...\n',
        'def f(a: "tekton_llm_shims.terma.LLMAdapter") -> None: ...\n',
    ),
}


@pytest.mark.parametrize(("before", "after"), list(CASES.values()), ids=list(CASES))
def test_dotted_string_is_rewritten(migrate, before: str, after: str) -> None:
    result = migrate(before)
    assert result.text == after
    assert result.run.code == 0


MODULE_ITSELF = {
    "import-module": 'importlib.import_module("hermes.core.llm_adapter")\n',
    "dunder-import": '__import__("telos.core.llm_adapter")\n',
    "sys-modules-key": "sys.modules['engram.core.llm_adapter'] = fake\n",
    "logging-config-key": 'LOGGING = {"loggers": {"terma.core.llm_adapter": {"level": "ERROR"}}}\n',
    "prefix-constant": 'TARGET = "terma.core.llm_adapter"\n',
}


@pytest.mark.parametrize("source", list(MODULE_ITSELF.values()), ids=list(MODULE_ITSELF))
def test_a_string_naming_the_module_itself_stays_and_is_reported(migrate, source: str) -> None:
    """A logger name (the shims keep those), a ``sys.modules`` key, an import or a prefix: each would need its
    own answer, and what uses the string cannot be followed."""
    result = migrate(source)
    assert result.text == source
    assert result.run.code == 0
    assert "(names the module itself; what uses the string cannot be followed: change it by hand)" in result.run.err


UNTOUCHED = {
    "prose": 'msg = "see terma.core.llm_adapter for details"\n',
    "bytes": "b = b'terma.core.llm_adapter'\n",
    "f-string": "f = f'terma.core.llm_adapter.{name}'\n",
    "implicit-concatenation": "s = 'terma.core.' 'llm_adapter'\n",
    "longer-segment": "s = 'terma.core.llm_adapter_v2.LLMAdapter'\n",
    "path-not-module": "s = 'terma/core/llm_adapter.py'\n",
    "entry-point-syntax": "s = 'terma.core.llm_adapter:LLMAdapter'\n",
}


@pytest.mark.parametrize("source", list(UNTOUCHED.values()), ids=list(UNTOUCHED))
def test_other_strings_are_untouched(migrate, source: str) -> None:
    assert migrate(source).text == source


def test_logger_names_are_kept_because_the_shims_keep_them(migrate) -> None:
    source = (
        "log = logging.getLogger('hermes.core.llm_adapter')\n"
        "caplog.set_level(logging.INFO, logger='hermes.core.llm_adapter')\n"
    )
    result = migrate(source)
    assert result.text == source
    assert "logger name" in result.run.err


def test_string_pointing_at_a_name_the_shim_lacks_is_left_and_reported(migrate) -> None:
    source = 'mock.patch("hermes.core.llm_adapter.aiohttp.ClientSession")\n'
    result = migrate(source)
    assert result.text == source
    assert "left on hermes.core.llm_adapter: aiohttp (tekton_llm_shims.hermes does not provide it)" in result.run.err


def test_strings_and_imports_in_one_file_change_in_one_run(migrate) -> None:
    before = (
        "from unittest import mock\n"
        "from terma.core.llm_adapter import LLMAdapter\n\n"
        "def test_x():\n"
        "    with mock.patch('terma.core.llm_adapter.LLMAdapter.analyze_command') as m:\n"
        "        LLMAdapter()\n"
    )
    result = migrate(before)
    assert result.text == before.replace("terma.core.llm_adapter", "tekton_llm_shims.terma")
    assert result.run.summary[2] == 1
