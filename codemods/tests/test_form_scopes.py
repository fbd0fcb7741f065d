"""Scopes: a use decides an import's fate only if Python resolves that use to that very import binding.

``m.helper`` in a function whose ``m`` is a parameter says nothing about a module-level
``import terma.core.llm_adapter as m``; ``m.helper`` in a closure, through ``global``/``nonlocal``, or in
the class body that holds the import does. Methods and comprehension bodies do not see their class's
names (only a class-body comprehension's first iterable is evaluated in the class scope). A chain
``terma.core.llm_adapter.X`` is the module only where its head ``terma`` is the import's binding. Where
one scope binds the name twice the rewrite is not flow-sensitive: a use after the other binding, or one
a loop brings back round to the import, counts against the import, which then stays. A class body that binds
the name reads the module's binding until it has bound it (or after ``del``, or when it bound it only
conditionally), so a use there counts against a module-level import too. A chain the rewrite changes where
it is read must not reach anything but the package there.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import pytest
from tekton_codemods import MigrationMap
from tekton_codemods._names import Names
from tekton_codemods._rewrite import rewrite_source

HELPER = "left on terma.core.llm_adapter: helper (used as m.helper; tekton_llm_shims.terma does not provide it)"
ONLY_BINDER = (
    "left on terma.core.llm_adapter: terma ('terma' is also used for other names and only this import binds it)"
)


class Case(NamedTuple):
    before: str
    after: str
    reported: tuple[str, ...]  # "line: text", without the file path
    package: str = "app.sub"
    name: str = "mod.py"


def moved(before: str, after: str, package: str = "app.sub", name: str = "mod.py") -> Case:
    return Case(before, after, (), package, name)


def left(before: str, *reported: str) -> Case:
    return Case(before, before, reported)


def reports(result) -> list[str]:
    """stderr before the summary line, each line checked to name the file and returned without its path."""
    lines = result.run.err.splitlines()
    assert result.run.summary[3] == 0  # the last line is the summary, and nothing failed
    prefix = f"{result.path}:"
    assert all(line.startswith(prefix) for line in lines[:-1]), lines
    return [line[len(prefix) :] for line in lines[:-1]]


def check(migrate, case: Case) -> None:
    result = migrate(case.before, case.package, case.name)
    assert result.text == case.after
    assert result.run.code == 0
    assert reports(result) == list(case.reported)
    assert result.run.summary[2] == (0 if case.after == case.before else 1)


# -- two functions, two bindings of the same alias ---------------------------------------------------

TWO_FUNCTIONS = {
    "adapter-first": Case(
        "def build():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.LLMAdapter()\n\n\n"
        "def assist():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.helper()\n",
        "def build():\n"
        "    import tekton_llm_shims.terma as m\n\n"
        "    return m.LLMAdapter()\n\n\n"
        "def assist():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.helper()\n",
        (f"8: {HELPER}",),
    ),
    "helper-first": Case(
        "def assist():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.helper()\n\n\n"
        "def build():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.LLMAdapter()\n",
        "def assist():\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    return m.helper()\n\n\n"
        "def build():\n"
        "    import tekton_llm_shims.terma as m\n\n"
        "    return m.LLMAdapter()\n",
        (f"2: {HELPER}",),
    ),
    "from-form-in-methods-of-two-classes": Case(
        "class Builder:\n"
        "    def build(self):\n"
        "        from terma.core import llm_adapter as m\n\n"
        "        return m.LLMAdapter()\n\n\n"
        "class Assistant:\n"
        "    def assist(self):\n"
        "        from terma.core import llm_adapter as m\n\n"
        "        return m.helper()\n",
        "class Builder:\n"
        "    def build(self):\n"
        "        from tekton_llm_shims import terma as m\n\n"
        "        return m.LLMAdapter()\n\n\n"
        "class Assistant:\n"
        "    def assist(self):\n"
        "        from terma.core import llm_adapter as m\n\n"
        "        return m.helper()\n",
        (f"10: {HELPER}",),
    ),
}


# -- a module-level import and another scope's own ``m`` ---------------------------------------------

MODULE_HEAD = "import types\n\nimport terma.core.llm_adapter as m\n\nadapter = m.LLMAdapter()\n\n\n"
MOVED_HEAD = "import types\n\nimport tekton_llm_shims.terma as m\n\nadapter = m.LLMAdapter()\n\n\n"
OTHER_M = {
    "local-assignment": "def probe():\n    m = types.SimpleNamespace(helper=str)\n    return m.helper()\n",
    "parameter": "def probe(m):\n    return m.helper()\n",
    "lambda-parameter": "probe = lambda m: m.helper()\n",
    "comprehension-target": "helpers = [m.helper for m in [types.SimpleNamespace(helper=str)]]\n",
    "for-target-in-function": "def probe(items):\n    for m in items:\n        m.helper()\n",
    "with-target-in-function": "def probe(context):\n    with context as m:\n        return m.helper()\n",
}


@pytest.mark.parametrize("other", list(OTHER_M.values()), ids=list(OTHER_M))
def test_module_import_ignores_another_scopes_own_binding_of_the_alias(migrate, other: str) -> None:
    check(migrate, moved(MODULE_HEAD + other, MOVED_HEAD + other))


# -- closures see the enclosing function's import -----------------------------------------------------

OUTER = "def outer():\n    import terma.core.llm_adapter as m\n\n"
CLOSURES = {
    "nested-def": "    def inner():\n        return m.helper()\n\n    return inner, m.LLMAdapter()\n",
    "nested-twice": (
        "    def inner():\n        def innermost():\n            return m.helper()\n\n        return innermost\n\n"
        "    return inner\n"
    ),
    "lambda": "    return lambda: m.helper()\n",
    "comprehension": "    return [m.helper(x) for x in range(3)]\n",
    "class-body-inside-the-function": "    class Local:\n        tool = m.helper\n\n    return Local\n",
}


@pytest.mark.parametrize("body", list(CLOSURES.values()), ids=list(CLOSURES))
def test_use_in_a_nested_scope_counts_for_the_enclosing_import(migrate, body: str) -> None:
    check(migrate, left(OUTER + body, f"2: {HELPER}"))


# -- ``global`` and ``nonlocal`` make the import bind an outer name ----------------------------------

DECLARED = {
    "global-used-at-module-level": left(
        "def load():\n    global m\n    import terma.core.llm_adapter as m\n\n\nload()\nm.helper()\n",
        f"3: {HELPER}",
    ),
    "global-used-in-another-function": left(
        "def load():\n    global m\n    import terma.core.llm_adapter as m\n\n\ndef use():\n    return m.helper()\n",
        f"3: {HELPER}",
    ),
    "nonlocal-used-in-the-enclosing-function": left(
        "def outer():\n"
        "    m = None\n\n"
        "    def load():\n"
        "        nonlocal m\n"
        "        import terma.core.llm_adapter as m\n\n"
        "    load()\n"
        "    return m.helper()\n",
        f"6: {HELPER}",
    ),
}


# -- a class body's names are invisible to its methods and comprehension bodies ----------------------

CLASS_IMPORT = "class Client:\n    from terma.core import llm_adapter as m\n\n    adapter = m.LLMAdapter()\n"
CLASS_MOVED = "class Client:\n    from tekton_llm_shims import terma as m\n\n    adapter = m.LLMAdapter()\n"
METHOD = "\n    def assist(self):\n        return m.helper()\n"
CLASS_BODY = {
    # The method's ``m`` is the module's ``tools``.
    "method-sees-the-module-binding": moved(
        "from app import tools as m\n\n\n" + CLASS_IMPORT + METHOD,
        "from app import tools as m\n\n\n" + CLASS_MOVED + METHOD,
    ),
    # The method's ``m`` is unbound (NameError when called), before and after the rewrite alike.
    "method-sees-no-binding": moved(CLASS_IMPORT + METHOD, CLASS_MOVED + METHOD),
    "comprehension-body-sees-the-module-binding": moved(
        "from app import tools as m\n\n\n" + CLASS_IMPORT + "    helpers = [m.helper(x) for x in range(3)]\n",
        "from app import tools as m\n\n\n" + CLASS_MOVED + "    helpers = [m.helper(x) for x in range(3)]\n",
    ),
}
CLASS_BODY_LEFT = {
    # The outermost iterable of a comprehension is evaluated in the class scope.
    "comprehension-first-iterable-sees-the-class-binding": left(
        "from app import tools as m\n\n\n" + CLASS_IMPORT + "    first = [x for x in m.helper()]\n",
        f"5: {HELPER}",
    ),
    "class-body-itself": left(CLASS_IMPORT + "    tool = m.helper\n", f"2: {HELPER}"),
}


# -- ``import terma.core.llm_adapter`` and another scope's own ``terma`` -----------------------------

PLAIN_HEAD = (
    "import types\n\n"
    "import terma.core.llm_adapter\n\n\n"
    "def make():\n"
    "    return terma.core.llm_adapter.LLMAdapter()\n\n\n"
)
PLAIN_MOVED = (
    "import types\n\n"
    "import tekton_llm_shims.terma\n\n\n"
    "def make():\n"
    "    return tekton_llm_shims.terma.LLMAdapter()\n\n\n"
)
OTHER_TERMA = {
    "parameter": "def describe(terma):\n    return terma.other\n",
    "local-assignment": "def describe():\n    terma = types.SimpleNamespace(other=1)\n    return terma.other\n",
    "lambda-parameter": "describe = lambda terma: terma.other\n",
    "comprehension-target": "others = [terma.other for terma in [types.SimpleNamespace(other=1)]]\n",
    # The parameter's attributes merely look like the legacy path: they are not the module.
    "parameter-with-a-look-alike-chain": "def inspect(terma):\n    return terma.core.llm_adapter.LLMAdapter\n",
    "parameter-with-a-look-alike-chain-to-an-unprovided-name": (
        "def inspect(terma):\n    return terma.core.llm_adapter.helper\n"
    ),
}


@pytest.mark.parametrize("other", list(OTHER_TERMA.values()), ids=list(OTHER_TERMA))
def test_plain_import_ignores_another_scopes_own_binding_of_its_top_package(migrate, other: str) -> None:
    check(migrate, moved(PLAIN_HEAD + other, PLAIN_MOVED + other))


# -- the same (or a reachable) scope still blocks the plain import -----------------------------------

SAME_SCOPE = {
    "module-level-use": left(
        "import terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter()\nterma.other()\n",
        f"1: {ONLY_BINDER}",
    ),
    "use-in-a-function-resolves-to-the-module-import": left(
        "import terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter()\n\n\n"
        "def run():\n    return terma.other()\n",
        f"1: {ONLY_BINDER}",
    ),
    # ``terma`` bound in another function does not bind the module's ``terma``.
    "another-functions-local-is-no-second-binder": left(
        "import terma.core.llm_adapter\n\nterma.core.llm_adapter.LLMAdapter()\n\n\n"
        "def f():\n    terma = 1\n    return terma\n\n\nterma.other()\n",
        f"1: {ONLY_BINDER}",
    ),
    "function-local-import-and-use": left(
        "def run():\n    import terma.core.llm_adapter\n\n"
        "    terma.core.llm_adapter.LLMAdapter()\n    return terma.other()\n",
        f"2: {ONLY_BINDER}",
    ),
}


# -- two bindings of the alias in one scope: not flow-sensitive, so the import stays ------------------

REBOUND = {
    "function-rebinds-after-the-import": left(
        "def run(other):\n"
        "    import terma.core.llm_adapter as m\n\n"
        "    m.LLMAdapter()\n"
        "    m = other\n"
        "    m.helper()\n",
        f"2: {HELPER}",
    ),
    # The second time round, ``m.helper()`` runs on what the import bound.
    "loop-brings-an-earlier-use-back-to-the-import": left(
        "def run(other, rounds):\n"
        "    m = other\n"
        "    for _ in range(rounds):\n"
        "        m.helper()\n"
        "        import terma.core.llm_adapter as m\n\n"
        "    return m.LLMAdapter()\n",
        f"5: {HELPER}",
    ),
    "module-rebinds-after-the-import": left(
        "import types\n\n"
        "import terma.core.llm_adapter as m\n\n"
        "m.LLMAdapter()\n"
        "m = types.SimpleNamespace(helper=str)\n"
        "m.helper()\n",
        f"3: {HELPER}",
    ),
}


# -- the real Terma shape: function-local relative imports --------------------------------------------

TERMA_BEFORE = """\
import logging

logger = logging.getLogger("terma.api")
COMPONENT = {"name": "terma", "replaces": "llm_adapter"}


async def analyze(command: str) -> dict:
    from ..core.llm_adapter import LLMAdapter

    adapter = LLMAdapter()
    return await adapter.analyze_command(command)


async def suggest(task: str) -> list:
    from ..core.llm_adapter import LLMAdapter

    logger.info("llm_adapter: suggest")
    adapter = LLMAdapter()
    return await adapter.suggest_commands(task)


async def chat(message: str) -> str:
    from ..core.llm_adapter import LLMAdapter
    return await LLMAdapter().chat(message, component="llm_adapter")
"""
TERMA_AFTER = TERMA_BEFORE.replace("from ..core.llm_adapter import", "from tekton_llm_shims.terma import")
TERMA = moved(TERMA_BEFORE, TERMA_AFTER, "terma.api", "app.py")


def test_terma_function_local_relative_imports_all_move(migrate) -> None:
    assert TERMA_AFTER.count("from tekton_llm_shims.terma import LLMAdapter\n") == 3
    check(migrate, TERMA)


# -- the decision does not depend on how much unrelated code surrounds it ---------------------------------


def padding(kind: str, start: int, count: int) -> str:
    """``count`` functions unrelated to the legacy import; "look-alike" ones bind ``m`` and ``terma`` locally."""
    if kind == "plain":
        body = "def unrelated_{i}(value):\n    total = value + {i}\n    return total\n\n\n"
    else:
        body = "def lookalike_{i}(m, terma):\n    return m.helper({i}), terma.other\n\n\n"
    return "".join(body.format(i=i) for i in range(start, start + count))


CORES = {
    "two-functions": TWO_FUNCTIONS["adapter-first"],
    "plain-import-and-a-parameter": moved(
        PLAIN_HEAD + OTHER_TERMA["parameter"], PLAIN_MOVED + OTHER_TERMA["parameter"]
    ),
    "terma-relative-imports": TERMA,
}


@pytest.mark.parametrize("kind", ["plain", "look-alike"])
@pytest.mark.parametrize("core", list(CORES.values()), ids=list(CORES))
def test_result_is_the_same_inside_a_large_module(migrate, kind: str, core: Case) -> None:
    head, tail = padding(kind, 0, 100), padding(kind, 100, 100)
    shift = head.count("\n")
    reported = []
    for line in core.reported:
        number, text = line.split(": ", 1)
        reported.append(f"{int(number) + shift}: {text}")
    # No statement of a core needs to come first in its module, so padding may precede it.
    check(
        migrate,
        core._replace(
            before=head + core.before + "\n\n" + tail,
            after=head + core.after + "\n\n" + tail,
            reported=tuple(reported),
        ),
    )


# -- a class body that binds the name still reads the module's binding before it does ----------------

CLASS_READS_MODULE = {
    "attribute-bound-first": left(
        "import types\n\nimport terma.core.llm_adapter as m\n\nadapter = m.LLMAdapter()\n\n\n"
        "class Probe:\n    m = types.SimpleNamespace(helper=str)\n    tool = m.helper\n",
        f"3: {HELPER}",
    ),
    "read-before-the-class-binds-it": left(
        "from terma.core import llm_adapter\n\n\n"
        "class TerminalService:\n    llm_adapter = llm_adapter.get_llm_adapter()\n",
        "1: left on terma.core.llm_adapter: get_llm_adapter "
        "(used as llm_adapter.get_llm_adapter; tekton_llm_shims.terma does not provide it)",
    ),
    "bound-conditionally": left(
        "import terma.core.llm_adapter as m\n\n\nclass Probe:\n    if FLAG:\n        m = None\n    tool = m.helper\n",
        f"1: {HELPER}",
    ),
    "deleted-again": left(
        "import terma.core.llm_adapter as m\n\n\nclass Probe:\n    m = 1\n    del m\n    tool = m.helper\n",
        f"1: {HELPER}",
    ),
}


# A star import of the package still reports the leaf a class body reads from the module; a package's own
# ``__init__`` keeps binding its legacy submodule (every ``from terma.core import llm_adapter`` elsewhere reads it).
SINGLE = {
    "star-of-the-package-read-in-a-class-body": left(
        "from terma.core import *\n\n\nclass C:\n    llm_adapter = llm_adapter.get_llm_adapter()\n",
        "1: left on terma.core.llm_adapter: llm_adapter "
        "('llm_adapter' may come from this star import of terma.core; its uses are not rewritten)",
    ),
    "package-init-binds-its-legacy-submodule": Case(
        "from . import llm_adapter\n",
        "from . import llm_adapter\n",
        (
            "1: left on terma.core.llm_adapter: llm_adapter "
            "(binds the package attribute terma.core.llm_adapter that other files import; leave it to cleanup)",
        ),
        "terma.core",
        "__init__.py",
    ),
}


# -- a chain the rewrite changes must reach nothing but the package where it is read --------------------

MAYBE_ELSE = (
    "left on terma.core.llm_adapter: terma ('terma' may be something else where terma.core.llm_adapter is read)"
)

CHAIN_REBOUND = {
    "conditional-local-rebinding": left(
        "def f(flag, fake):\n    import terma.core.llm_adapter\n    if flag:\n        terma = fake\n"
        "    return terma.core.llm_adapter.LLMAdapter()\n",
        f"2: {MAYBE_ELSE}",
    ),
    "rebinding-through-global": left(
        "import terma.core.llm_adapter\n\n\ndef swap(fake):\n    global terma\n    terma = fake\n\n\n"
        "def use():\n    return terma.core.llm_adapter.LLMAdapter()\n",
        f"1: {MAYBE_ELSE}",
    ),
    "declared-global-in-the-importing-function": left(
        "def setup():\n    global terma\n    import terma.core.llm_adapter\n\n\nsetup()\n"
        "terma.core.llm_adapter.LLMAdapter()\n",
        "3: left on terma.core.llm_adapter: terma "
        "('terma' is declared global or nonlocal here; the shim's package name would not be)",
    ),
    "import-of-something-else-as-the-name": left(
        "import terma.core.llm_adapter\nimport other as terma\n\nterma.core.llm_adapter.LLMAdapter()\n",
        f"1: {MAYBE_ELSE}",
    ),
}


def test_another_plain_import_of_the_package_keeps_the_chain_moving(migrate) -> None:
    uses = "\nterma.core.llm_adapter.LLMAdapter()\nterma.other.run()\n"
    before = "import terma.core.llm_adapter\nimport terma.other\n" + uses
    moved_uses = uses.replace("terma.core.llm_adapter", "tekton_llm_shims.terma")
    after = "import tekton_llm_shims.terma\nimport terma.other\n" + moved_uses
    check(migrate, moved(before, after))


# -- the analysis on the cut-down module is the analysis on the whole one --------------------------------

ALL_CASES = {
    **{f"two-functions-{k}": v for k, v in TWO_FUNCTIONS.items()},
    **{f"class-body-{k}": v for k, v in CLASS_READS_MODULE.items()},
    **{f"chain-rebound-{k}": v for k, v in CHAIN_REBOUND.items()},
    **{f"rebound-{k}": v for k, v in REBOUND.items()},
    **{f"same-scope-{k}": v for k, v in SAME_SCOPE.items()},
    **{f"other-m-{k}": moved(MODULE_HEAD + v, MOVED_HEAD + v) for k, v in OTHER_M.items()},
    **{f"other-terma-{k}": moved(PLAIN_HEAD + v, PLAIN_MOVED + v) for k, v in OTHER_TERMA.items()},
}


@pytest.mark.parametrize("case", list(ALL_CASES.values()), ids=list(ALL_CASES))
def test_cut_down_scope_analysis_decides_like_the_whole_module(case: Case) -> None:
    focused = rewrite_source(case.before, MigrationMap(), package=case.package)
    whole = rewrite_source(case.before, MigrationMap(), package=case.package, focused=False)
    assert focused == whole
    assert focused.new_source == case.after


def test_from_legacy_import_name_needs_no_scope_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real tree's only form: the names bound stay the same, so nothing asks where they are read."""

    def refuse(self: object) -> None:
        raise AssertionError("scope analysis ran")

    monkeypatch.setattr(Names, "_wrapper", property(refuse))
    source = "async def get():\n    from ..core.llm_adapter import LLMAdapter\n\n    return LLMAdapter()\n"
    result = rewrite_source(source, MigrationMap(), package="terma.api")
    assert result.new_source == source.replace("..core.llm_adapter", "tekton_llm_shims.terma")


def test_a_file_spelling_only_provided_names_needs_no_scope_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scope analysis can only take reads away, so when no chain in the file spells a missing name after
    ``m.`` the import moves without it — however many functions use ``m``."""

    def refuse(self: object) -> None:
        raise AssertionError("scope analysis ran")

    monkeypatch.setattr(Names, "_wrapper", property(refuse))
    uses = "".join(f"\n\ndef use{n}(x=None):\n    return m.LLMAdapter(x)\n" for n in range(50))
    source = "import terma.core.llm_adapter as m\n" + uses
    result = rewrite_source(source, MigrationMap(), package="app.sub")
    assert result.new_source == "import tekton_llm_shims.terma as m\n" + uses


# -- a module binding that escapes may have any name read from it later ----------------------------------

VALUE = "(used as a value (passed on or stored), so any name may be read from it)"
FROM_STAR = "(a star import binds whatever the module defines; import from tekton_llm_shims.terma by name)"
ESCAPES = {
    "getattr-with-a-literal": left(
        'import terma.core.llm_adapter as m\n\nhelper = getattr(m, "helper")\n',
        "1: left on terma.core.llm_adapter: helper (used as m.helper (by name); tekton_llm_shims.terma does not "
        "provide it)",
    ),
    "getattr-of-an-unknown-name": left(
        "import terma.core.llm_adapter as m\n\nhelper = getattr(m, name)\n",
        f"1: left on terma.core.llm_adapter: m {VALUE}",
    ),
    "stored-then-read": left(
        "import terma.core.llm_adapter as m\n\nmod = m\nmod.helper()\n",
        f"1: left on terma.core.llm_adapter: m {VALUE}",
    ),
    "returned-from-a-function": left(
        "def module():\n    from terma.core import llm_adapter\n\n    return llm_adapter\n",
        f"2: left on terma.core.llm_adapter: llm_adapter {VALUE}",
    ),
    "plain-chain-passed-on": left(
        "import importlib\nimport terma.core.llm_adapter\n\nimportlib.reload(terma.core.llm_adapter)\n",
        f"2: left on terma.core.llm_adapter: terma.core.llm_adapter {VALUE}",
    ),
    "class-body-import-read-through-the-instance": left(
        "class Service:\n    from terma.core import llm_adapter\n\n    def go(self):\n"
        "        return self.llm_adapter.helper()\n",
        "2: left on terma.core.llm_adapter: helper "
        "(used as self.llm_adapter.helper; tekton_llm_shims.terma does not provide it)",
    ),
    "class-body-import-read-through-the-class": left(
        "class Service:\n    import terma.core.llm_adapter as m\n\n    def go(self):\n        return Service.m\n",
        "2: left on terma.core.llm_adapter: m "
        "(imported in a class body and used as a value through the class or an instance)",
    ),
    "string-annotation-names-a-missing-name": left(
        'import terma.core.llm_adapter as m\n\n\ndef f(callback: "m.helper") -> None:\n    pass\n',
        f"1: {HELPER}",
    ),
    "plain-chain-inside-a-string-annotation": left(
        "import typing\n\nimport terma.core.llm_adapter\n\n\n"
        'def f(adapter: "typing.Optional[terma.core.llm_adapter.LLMAdapter]") -> None:\n    pass\n',
        "3: left on terma.core.llm_adapter: terma.core.llm_adapter "
        "(named inside a string annotation, which the rewrite does not change)",
    ),
    "star-import-of-the-module": left(
        "from terma.core.llm_adapter import *\n\nadapter = LLMAdapter()\nhelper()\n",
        f"1: left on terma.core.llm_adapter: * {FROM_STAR}",
    ),
    "string-annotation-with-spaces-around-the-dot": left(
        'import terma.core.llm_adapter as m\n\n\ndef f(callback: "m . helper") -> None:\n    pass\n',
        f"1: {HELPER}",
    ),
    "string-annotation-spelled-with-an-escape": left(
        'import terma.core.llm_adapter as m\n\n\ndef f(callback: "\\x6d.helper") -> None:\n    pass\n',
        f"1: {HELPER}",
    ),
    "class-body-import-read-through-a-call": left(
        "class C:\n    import terma.core.llm_adapter as m\n\n\ndef run():\n    return C().m.helper()\n",
        "2: left on terma.core.llm_adapter: m "
        "(imported in a class body and read through an object the rewrite cannot follow)",
    ),
    "membership-test-hands-the-module-on": left(
        "import terma.core.llm_adapter as m\n\nSEEN = set()\nprint(m in SEEN)\n",
        f"1: left on terma.core.llm_adapter: m {VALUE}",
    ),
    "names-read-dynamically": left(
        'import terma.core.llm_adapter as m\n\nadapter = m.LLMAdapter()\nhelper = eval("m.helper")\n',
        "1: left on terma.core.llm_adapter: m "
        "(the file reads names dynamically (eval, exec, globals, sys.modules…), where no analysis follows)",
    ),
    "whole-path-annotation-while-the-import-stays": left(
        "import terma.core.llm_adapter\n\n\n"
        'def f(b: "terma.core.llm_adapter.LLMAdapter") -> None:\n    pass\n\n\n'
        "terma.core.llm_adapter.helper()\n",
        "1: left on terma.core.llm_adapter: helper "
        "(used as terma.core.llm_adapter.helper; tekton_llm_shims.terma does not provide it)",
        "4: left on terma.core.llm_adapter: terma.core.llm_adapter.LLMAdapter "
        "(this file keeps an import of terma.core.llm_adapter; the string stays with it)",
    ),
    "whole-path-annotation-resolved-through-the-package": Case(
        "import terma\nfrom terma.core.llm_adapter import LLMAdapter\n\n\n"
        'def f(b: "terma.core.llm_adapter.LLMAdapter") -> LLMAdapter:\n    pass\n',
        "import terma\nfrom tekton_llm_shims.terma import LLMAdapter\n\n\n"
        'def f(b: "terma.core.llm_adapter.LLMAdapter") -> LLMAdapter:\n    pass\n',
        (
            "5: left on terma.core.llm_adapter: terma.core.llm_adapter.LLMAdapter "
            "(string annotation; nothing here imports tekton_llm_shims, so tekton_llm_shims.terma would not resolve)",
        ),
    ),
}


# Every before/after case above, each checked through the command line: the exact output, exit code and report
# lines (a class body that binds the name still reads the module's binding; a chain the rewrite changes may be
# something else where it is read; a module binding that escapes may have any name read from it).
CASES = {
    **{f"two-functions-{key}": case for key, case in TWO_FUNCTIONS.items()},
    **{f"declared-{key}": case for key, case in DECLARED.items()},
    **{f"class-body-methods-{key}": case for key, case in CLASS_BODY.items()},
    **{f"class-body-scope-{key}": case for key, case in CLASS_BODY_LEFT.items()},
    **{f"same-scope-{key}": case for key, case in SAME_SCOPE.items()},
    **{f"rebound-{key}": case for key, case in REBOUND.items()},
    **{f"class-body-{key}": case for key, case in CLASS_READS_MODULE.items()},
    **{f"chain-rebound-{key}": case for key, case in CHAIN_REBOUND.items()},
    **{f"escape-{key}": case for key, case in ESCAPES.items()},
    **SINGLE,
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_scope_case(migrate, case: Case) -> None:
    check(migrate, case)


ONLY_TESTED = {
    "import-error-fallback": (
        "try:\n    import terma.core.llm_adapter as m\nexcept ImportError:\n    m = None\n\n"
        "if m is not None:\n    adapter = m.LLMAdapter()\n"
    ),
    "truth-test-and-not": "import terma.core.llm_adapter as m\n\nif m and not m:\n    pass\nassert m\n",
    "identity-test-against-none": "import terma.core.llm_adapter as m\n\nif m is None or None is not m:\n    pass\n",
}


@pytest.mark.parametrize("before", list(ONLY_TESTED.values()), ids=list(ONLY_TESTED))
def test_module_binding_only_tested_still_moves(migrate, before: str) -> None:
    after = before.replace("import terma.core.llm_adapter as m", "import tekton_llm_shims.terma as m")
    check(migrate, moved(before, after))


# -- what stays together ----------------------------------------------------------------------------------


def test_a_string_stays_with_an_import_of_its_module_that_stays(migrate) -> None:
    """``mock.patch`` here would patch the shim while this file's own code stays on the legacy module."""
    before = (
        "from unittest import mock\n\nimport terma.core.llm_adapter as m\n\n\n"
        'def test():\n    with mock.patch("terma.core.llm_adapter.LLMAdapter"):\n        return m.helper()\n'
    )
    check(
        migrate,
        left(
            before,
            f"3: {HELPER}",
            "7: left on terma.core.llm_adapter: terma.core.llm_adapter.LLMAdapter "
            "(this file keeps an import of terma.core.llm_adapter; the string stays with it)",
        ),
    )


BY_NAME = {
    "hasattr": 'import terma.core.llm_adapter as m\n\nok = hasattr(m, "LLMAdapter")\n',
    "patch-object": (
        "from unittest import mock\n\nfrom terma.core import llm_adapter\n\n"
        'patcher = mock.patch.object(llm_adapter, "LLMAdapter")\n'
    ),
    "monkeypatch-setattr": (
        "from terma.core import llm_adapter as la\n\n\ndef test(monkeypatch):\n"
        '    monkeypatch.setattr(la, "LLMAdapter", object)\n'
    ),
}


@pytest.mark.parametrize("before", list(BY_NAME.values()), ids=list(BY_NAME))
def test_a_provided_name_read_by_name_moves(migrate, before: str) -> None:
    after = before.replace("import terma.core.llm_adapter as m", "import tekton_llm_shims.terma as m")
    after = after.replace("from terma.core import llm_adapter as la", "from tekton_llm_shims import terma as la")
    after = after.replace("from terma.core import llm_adapter", "from tekton_llm_shims import terma as llm_adapter")
    check(migrate, moved(before, after))


PINNED = {
    "sys-modules-lookup": (
        "import sys\nfrom terma.core.llm_adapter import LLMAdapter\n\n\n"
        'def run():\n    return sys.modules["terma.core.llm_adapter"].VALUE\n',
        "2: left on terma.core.llm_adapter: * (this file also names 'terma.core.llm_adapter' in a string that "
        "stays; the import stays with it)",
    ),
    "patch-of-a-name-the-shim-lacks": (
        "from unittest import mock\n\nimport terma.core.llm_adapter as m\n\n\n"
        'def test():\n    with mock.patch("terma.core.llm_adapter._post"):\n        return m.LLMAdapter()\n',
        "3: left on terma.core.llm_adapter: m (this file also names 'terma.core.llm_adapter._post' in a string "
        "that stays; the import stays with it)",
    ),
}


@pytest.mark.parametrize(("source", "report"), list(PINNED.values()), ids=list(PINNED))
def test_a_string_that_stays_keeps_the_imports_of_its_module(migrate, source: str, report: str) -> None:
    """The string needs the legacy module loaded and used here (a ``sys.modules`` lookup, a patch of what
    only it has): moving the file's import would leave it pointing at a module nothing uses."""
    result = migrate(source)
    assert result.text == source
    assert result.run.code == 0
    assert report in reports(result)


def test_an_invalid_escape_in_the_users_strings_prints_no_warning() -> None:
    """The analysis reads string literals (annotations, ``getattr`` names, escaped words); ``"\\d"`` is the
    user's code, and Python 3.12+ would print its SyntaxWarning from our tool."""
    source = (
        'import re\nimport terma.core.llm_adapter as m\n\nPATTERN = re.compile("\\d+")\n'
        'ok = hasattr(m, "\\d")\n\n\ndef f(a: "m.LLMAdapter\\d") -> None:\n    pass\n'
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rewrite_source(source, MigrationMap(), package="app.sub")
    assert [str(w.message) for w in caught] == []
    assert result.unmoved[0].name == "\\d"
