"""The speed paths give exactly the answers of the slow ones.

Three shortcuts keep libcst off most candidates and most of each parsed file: the stdlib pre-pass
(``_sketch``) that settles files no rewrite can touch, the focused traversal that enters only statements
holding something to rewrite, and per-statement positions. Each is checked here against the full
computation on the same source.
"""

from __future__ import annotations

import ast
import sysconfig
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from tekton_codemods import MigrationMap
from tekton_codemods._imports import ImportRewriter
from tekton_codemods._names import Names, wrap
from tekton_codemods._rewrite import RewriteError, _imports_of, _layout, _positions, _spliced, rewrite_source
from tekton_codemods._sketch import PlainImport, imports_may_change, sketch, text_imports
from tekton_codemods._statements import children, content_children, index_statements

TABLE = MigrationMap()

# Real-tree shapes that mention llm_adapter and need no change: the pre-pass settles them without libcst.
SETTLED = {
    "debug-tag": 'def f(debug_log):\n    debug_log.info("llm_adapter", "LLM Adapter initialized")\n',
    "component-names": 'TARGETS = ["hermes", "hephaestus", "engram", "llm_adapter"]\n',
    "foreign-logger": "import logging\n\nlogger = logging.getLogger('metis.llm_adapter')\n",
    "own-short-logger": "import logging\n\nlogger = logging.getLogger('telos.llm_adapter')\n",
    "foreign-relative-import": "from .llm_adapter import get_llm_adapter\n\nllm_adapter = get_llm_adapter()\n",
    "foreign-absolute-import": "from budget.adapters.llm_adapter import BudgetLLMAdapter\n",
    "variable-names": "def f(llm_adapter):\n    self_llm_adapter = llm_adapter\n    return self_llm_adapter.chat()\n",
    "comment-only": "# the llm_adapter is gone\nx = 1\n",
    "dict-key": "CONFIG = {'replaces': 'llm_adapter'}\n",
    # Only a literal that is a whole dotted path is rewritten; two halves are two literals.
    "string-via-concatenation": "TARGET = ('terma.core.'\n          'llm_adapter.LLMAdapter')\n",
}

# Shapes the rewriter changes or reports: the pre-pass must hand each to libcst.
NEEDED = {
    "absolute": "from terma.core.llm_adapter import LLMAdapter\n",
    "relative-in-function": "async def f():\n    from ..core.llm_adapter import LLMAdapter\n    return LLMAdapter()\n",
    "module-import": "from terma.core import llm_adapter\n",
    "plain-import": "import terma.core.llm_adapter\nterma.core.llm_adapter.LLMAdapter()\n",
    "package-root": "import terma\nterma.core.llm_adapter.LLMAdapter()\n",
    "patch-string": "from unittest import mock\nmock.patch('terma.core.llm_adapter.LLMAdapter')\n",
    "legacy-logger": "import logging\nlogging.getLogger('hermes.core.llm_adapter')\n",
    "star-of-parent": "from terma.core import *\nllm_adapter.LLMAdapter()\n",
    "short-relative": "from .llm_adapter import LLMAdapter\n",  # inside package ``core`` (chain stops early)
    "syntax-error": "from terma.core.llm_adapter import LLMAdapter\nx = = 1\n",
    "continued-relative": "from \\\n    ..core.llm_adapter import LLMAdapter\n",
    "parenthesised-parent": "from terma.core import (\n    llm_adapter,\n)\n",
}


@pytest.mark.parametrize("source", list(SETTLED.values()), ids=list(SETTLED))
def test_prepass_settles_what_libcst_would_leave_alone(source: str) -> None:
    assert sketch(source, TABLE, "sophia.core").rewrite is False
    result = rewrite_source(source, TABLE, package="sophia.core")
    assert (result.changed, result.changes, result.unmoved) == (False, (), ())


@pytest.mark.parametrize("source", list(NEEDED.values()), ids=list(NEEDED))
def test_prepass_hands_every_possible_change_to_libcst(source: str) -> None:
    package = "core" if source.startswith("from .llm_adapter") else "terma.api"
    assert sketch(source, TABLE, package).rewrite is True
    assert sketch(source, TABLE, package, reach=True).rewrite is True


FOCUS = {
    "decorated-nested": (
        "import os\n\n\n@decorator(1)\nclass A:\n    '''doc'''\n\n    def f(self):\n        x = 1\n"
        "        from terma.core.llm_adapter import LLMAdapter\n        return LLMAdapter(x)\n\n"
        "    def g(self):\n        return os.path\n"
    ),
    "header-comments-crlf": (
        "# header\r\n\r\n# more\r\nimport terma.core.llm_adapter\r\n\r\n\r\ndef f():\r\n"
        "    return terma.core.llm_adapter.LLMAdapter()\r\n"
    ),
    "no-trailing-newline": "x = 1\nif x:\n    import terma.core.llm_adapter as m\n    m.LLMAdapter()",
    "string-in-with-header": (
        "from unittest import mock\n\n\ndef test():\n    y = 2\n"
        "    with mock.patch(\n        'terma.core.llm_adapter.LLMAdapter.chat',\n    ):\n        pass\n"
    ),
    "through-package-in-param": "from terma import core\n\n\ndef f(a=core.llm_adapter.LLMAdapter):\n    return a\n",
    "semicolons": "import os; from terma.core.llm_adapter import LLMAdapter; x = 1\n",
    "split-import": "from terma.core.llm_adapter import (\n    LLMAdapter,  # keep\n    helper,\n)\n",
    "blocked-plain-import": "import terma.core.llm_adapter\n\nterma.core.llm_adapter.helper()\nterma.other.x()\n",
    "header-and-footer-comments": (
        "# head\n\nimport os\nfrom terma.core.llm_adapter import LLMAdapter\n\n# tail\n# end\n"
    ),
    "last-statement-changes-no-newline": "import os\nfrom terma.core.llm_adapter import LLMAdapter",
    "split-at-top-level": "from terma.core.llm_adapter import LLMAdapter, helper  # mixed\nx = 1\n",
    # Layouts where a top-level statement's text starts before its first line or ends after its last line.
    "decorators-with-comments": (
        "import os\n\n# lead\n@dec  # c\n# between\n@dec2\ndef f():\n"
        "    from terma.core.llm_adapter import LLMAdapter\n    # indented footer\n\n# next lead\nx = 1\n"
    ),
    "continued-first-statement": "# c\n\nfrom terma.core.llm_adapter \\\n    import LLMAdapter\nx = 1\n",
    "comment-at-end-no-newline": "def f():\n    from terma.core.llm_adapter import LLMAdapter\n# end",
    "touched-between-untouched": (
        "a = 1\nb = 2\nimport terma.core.llm_adapter\nc = 3\ndef g():\n    pass\n"
        "d = terma.core.llm_adapter.LLMAdapter\ne = 5\n"
    ),
    "tabs-and-semicolon-block": "if True:\n\tx = 1; from terma.core.llm_adapter import LLMAdapter\nelse:\n\tpass\n",
}


@pytest.mark.parametrize("source", list(FOCUS.values()), ids=list(FOCUS))
def test_focused_traversal_equals_visiting_everything(source: str) -> None:
    fast = rewrite_source(source, TABLE, package="terma.api")
    full = rewrite_source(source, TABLE, package="terma.api", focused=False)
    assert fast == full
    assert fast.changes or fast.unmoved  # each case has something to rewrite or report


def _targets(module: cst.Module, package: str) -> tuple[set[cst.BaseStatement], set[cst.BaseStatement]]:
    index = index_statements(module, package, TABLE)
    imports = ImportRewriter(TABLE, package)
    imports.prepare(index, Names(wrap(module, None, package), package, None))
    targets = index.statements_to_visit(imports.watched_names())
    return targets, index.enclosing(targets)


@pytest.mark.parametrize("source", list(FOCUS.values()), ids=list(FOCUS))
def test_splicing_finds_each_entered_statement_where_whole_module_generation_puts_it(source: str) -> None:
    """The focused rewrite generates only the top-level statements it enters and copies the rest of the text:
    it must take that path on every case above, with the lines the whole-module generation gives."""
    module = cst.parse_module(source)
    targets, entered = _targets(module, "terma.api")
    spliced = _spliced(module, source, targets, entered)
    assert spliced is not None
    assert spliced.lines == _layout(module, targets).lines


def test_splicing_declines_a_final_bare_cr() -> None:
    """libcst drops a final bare CR: the rewrite goes back to generating the whole module, where the exact
    round trip is checked (and fails, so the file is refused, as before)."""
    bare_cr = "import os\rfrom terma.core.llm_adapter import LLMAdapter\rx = 1\r"
    module = cst.parse_module(bare_cr)
    assert _spliced(module, bare_cr, *_targets(module, "terma.api")) is None
    with pytest.raises(RewriteError, match="does not reproduce this file exactly"):
        rewrite_source(bare_cr, TABLE, package="terma.api")


# A file only libcst parses when this interpreter predates PEP 701 (3.12); from 3.12 on the stdlib pre-pass
# settles it. Either way it mentions only its own component's adapter, and the rewrite leaves it alone.
NEWER_SYNTAX = "from .llm_adapter import get_llm_adapter\n\n\ndef report(items):\n    return f\"{'\\n'.join(items)}\"\n"


def test_newer_syntax_file_is_settled_on_libcsts_tree_without_an_index(monkeypatch: pytest.MonkeyPatch) -> None:
    from tekton_codemods import _rewrite

    def no_index(*args: object, **kwargs: object) -> None:
        raise AssertionError("the statement index was taken for a file nothing can change")

    monkeypatch.setattr(_rewrite, "index_statements", no_index)
    result = rewrite_source(NEWER_SYNTAX, TABLE, package="sophia.core")
    assert (result.changed, result.changes, result.unmoved) == (False, (), ())


def test_newer_syntax_file_that_needs_a_change_is_rewritten() -> None:
    """Before 3.12 the interpreter cannot parse it, so the statements cannot be lined up from its parse: the
    whole module is generated (and checked) instead; from 3.12 on the splice is used. Same answer."""
    source = NEWER_SYNTAX + "from terma.core.llm_adapter import LLMAdapter\n"
    result = rewrite_source(source, TABLE, package="sophia.core")
    assert result.new_source == source.replace("terma.core.llm_adapter", "tekton_llm_shims.terma")
    assert [change.line for change in result.changes] == [6]
    assert result == rewrite_source(source, TABLE, package="sophia.core", focused=False)


def test_newer_syntax_file_is_unchanged_through_the_command_line(tree, cli) -> None:
    root = tree({"sophia/__init__.py": "", "sophia/core/__init__.py": "", "sophia/core/report.py": NEWER_SYNTAX})
    result = cli("rewrite", "--check", "-j", "1", root)
    assert result.code == 0, result.err
    assert result.summary == (3, 1, 0, 0)


@pytest.mark.parametrize("source", [*SETTLED.values(), *NEEDED.values()], ids=[*SETTLED, *NEEDED])
def test_prepass_rules_on_libcsts_tree_agree_with_the_stdlib_prepass(source: str) -> None:
    package = "core" if source.startswith("from .llm_adapter") and source in NEEDED.values() else "terma.api"
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        assert source == NEEDED["syntax-error"]
        return
    on_libcst = imports_may_change(source, TABLE, package, _imports_of(module))
    assert on_libcst is sketch(source, TABLE, package).rewrite


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: set[cst.CSTNode] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.add(node)
        return True


def _stdlib_sample(count: int) -> list[Path]:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    return files[:: max(1, len(files) // count)][:count]


@pytest.mark.parametrize("path", _stdlib_sample(12), ids=lambda p: p.name)
def test_statement_positions_have_the_lines_of_whole_module_positions(path: Path) -> None:
    source = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        pytest.skip(f"libcst cannot parse {path.name} on this version")  # not what this test is about
    index = index_statements(module, None)
    original = _layout(module, set(index.parents))
    assert original.code == source
    mine = _positions(module, original.lines)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    inside = _Collect()
    for statement in module.body:
        statement.visit(inside)
    assert mine.keys() == inside.nodes  # every node of every statement (the header's comments are in none)
    assert all((mine[n].start.line, mine[n].end.line) == (whole[n].start.line, whole[n].end.line) for n in mine)


def _walks(path: Path, step: Callable[[cst.CSTNode], list[cst.CSTNode]]) -> tuple[set[cst.CSTNode], set[cst.CSTNode]]:
    """The nodes a libcst visitor reaches in ``path``, and those a walk taking ``step`` from the module reaches."""
    source = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        pytest.skip(f"libcst cannot parse {path.name} on this version")
    visited = _Collect()
    module.visit(visited)
    walked: set[cst.CSTNode] = set()
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        walked.add(node)
        stack.extend(step(node))
    return visited.nodes, walked


@pytest.mark.parametrize("path", _stdlib_sample(6), ids=lambda p: p.name)
def test_the_index_walk_reaches_every_node_a_libcst_visitor_reaches(path: Path) -> None:
    visited, walked = _walks(path, children)
    assert walked == visited


@pytest.mark.parametrize("path", _stdlib_sample(6), ids=lambda p: p.name)
def test_the_index_skips_only_layout(path: Path) -> None:
    """The index does not enter whitespace, comments, brackets and punctuation; it still reaches every
    expression, statement and argument a libcst visitor reaches."""
    visited, walked = _walks(path, content_children)
    content = (cst.BaseExpression, cst.BaseStatement, cst.BaseSmallStatement, cst.Arg, cst.BaseSuite)
    assert {node for node in visited if isinstance(node, content)} <= walked
    assert len(walked) < len(visited) / 2  # what the pruning is for


def _ast_imports(source: str) -> list[PlainImport]:
    tree = ast.parse(source)
    found: list[PlainImport] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((None, None, [(a.name, a.asname) for a in node.names]))
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module, [(a.name, a.asname) for a in node.names]))
    return found


@pytest.mark.parametrize("path", _stdlib_sample(12), ids=lambda p: p.name)
def test_imports_on_libcsts_tree_are_the_interpreters(path: Path) -> None:
    """The walk over statement bodies finds every import statement, at any depth, as ``ast`` reads it."""
    source = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        module = cst.parse_module(source)
        expected = _ast_imports(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError):
        pytest.skip(f"{path.name} does not parse on this version")
    assert sorted(map(repr, _imports_of(module))) == sorted(map(repr, expected))


@pytest.mark.parametrize("path", _stdlib_sample(8), ids=lambda p: p.name)
def test_focused_rewrite_of_a_seeded_stdlib_module_equals_the_full_one(path: Path) -> None:
    seed = "\nfrom terma.core.llm_adapter import LLMAdapter\nT = 'terma.core.llm_adapter.LLMAdapter'\n"
    source = path.read_text(encoding="utf-8", errors="surrogateescape") + seed
    try:
        full = rewrite_source(source, TABLE, package="pkg", focused=False)
    except Exception as exc:  # not what this test is about: the stdlib file itself is not for this parser
        pytest.skip(f"{path.name}: {exc}")
    assert rewrite_source(source, TABLE, package="pkg") == full
    assert len(full.changes) == 2


LINE_CASES = {
    "one-line-replaced": (["a\n", "b\n", "c\n"], ["a\n", "B\n", "c\n"], [("replace", 1, 2)]),
    "two-lines-replaced-apart": (
        ["a\n", "b\n", "c\n", "d\n"],
        ["A\n", "b\n", "c\n", "D\n"],
        [("replace", 0, 1), ("replace", 3, 4)],
    ),
    "split-into-two": (
        ["x\n", "from m import a, b\n", "y\n"],
        ["x\n", "from n import a\n", "from m import b\n", "y\n"],
        None,
    ),
    "inserted-at-end": (["a\n"], ["a\n", "b\n"], [("insert", 1, 1)]),
    "unchanged": (["a\n", "b\n"], ["a\n", "b\n"], []),
}


@pytest.mark.parametrize(("old", "new", "expected"), list(LINE_CASES.values()), ids=list(LINE_CASES))
def test_line_opcodes_agree_with_a_full_difflib_run(old, new, expected) -> None:
    import difflib

    from tekton_codemods._rewrite import _line_opcodes

    full = [(t, i1, i2) for t, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()]
    touched = {n for t, i1, i2 in _line_opcodes(old, new) for n in range(i1, max(i2, i1 + 1))}
    assert touched == {n for t, i1, i2 in full if t != "equal" for n in range(i1, max(i2, i1 + 1))}
    if expected is not None:
        assert _line_opcodes(old, new) == expected


# The pre-pass reads import statements from the text and checks the syntax with ``symtable`` (no Python objects for
# the tree). Each case: an import the reading must never miss, however the statement is laid out.
TEXT_IMPORTS = {
    "plain": "import os, terma.core.llm_adapter as m\n",
    "after-semicolon": "x = 1; import terma.core.llm_adapter\n",
    "after-colon": "if True: from ..core.llm_adapter import LLMAdapter\n",
    "from-dot-without-space": "from.llm_adapter import LLMAdapter\n",
    "dots-only": "from . import llm_adapter\nfrom ... import core\n",
    "parenthesised-with-comments": (
        "from terma.core import (  # see (below)\n    llm_adapter,  # the (old) one\n    x,\n)\n"
    ),
    "nested": "def f():\n    try:\n        from ..core import llm_adapter\n    except ImportError:\n        pass\n",
    "tabs-form-feed": "\x0c\nif x:\n\tfrom terma import core\n",
    "crlf": "import os\r\nfrom terma.core.llm_adapter import LLMAdapter\r\n",
    "bare-cr": "import os\rfrom terma.core.llm_adapter import LLMAdapter\r",
    "continued-import": "import os, \\\n    terma.core.llm_adapter\n",
    "continued-from": "from terma.core \\\n    import llm_adapter\n",
    "comment-ending-in-backslash": "x = 1  # C:\\\nimport terma.core.llm_adapter\n",
    "string-closes-then-import": 's = """\n# x """; import terma.core.llm_adapter\n',
    "word-in-strings-and-comments": (
        '# we import from here\nx = \'import from\'  # import terma\ny = """\n    import this and that\n"""\n'
        "import terma.core.llm_adapter\n"
    ),
    "docstring-example": 'def f():\n    """Example:\n\n        from terma.core import llm_adapter\n    """\n',
    "import-as-part-of-names": "important = reimport_x = import_module = 1\nfrom x import importer\n",
}


def _imports_by_ast(source: str) -> Counter[str]:
    return Counter(repr(statement) for statement in _ast_imports(source))


@pytest.mark.parametrize("source", list(TEXT_IMPORTS.values()), ids=list(TEXT_IMPORTS))
def test_imports_read_from_the_text_never_miss_one(source: str) -> None:
    found = text_imports(source)
    if found is None:  # unsure: the caller parses the whole file instead
        return
    assert not _imports_by_ast(source) - Counter(map(repr, found))


def test_imports_read_from_the_text_in_the_plain_cases_are_exact() -> None:
    for name in ("plain", "after-semicolon", "after-colon", "from-dot-without-space", "dots-only", "nested", "crlf"):
        found = text_imports(TEXT_IMPORTS[name])
        assert found is not None, name
        assert Counter(map(repr, found)) == _imports_by_ast(TEXT_IMPORTS[name]), name
    # A continuation before the keyword is left to the parser; a docstring's example only adds an import.
    assert text_imports(TEXT_IMPORTS["continued-from"]) is None
    assert text_imports(TEXT_IMPORTS["comment-ending-in-backslash"]) is None
    assert len(text_imports(TEXT_IMPORTS["docstring-example"]) or []) == 1


@pytest.mark.parametrize("path", _stdlib_sample(60), ids=lambda p: p.name)
def test_imports_read_from_the_text_of_stdlib_modules_include_every_real_one(path: Path) -> None:
    source = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        expected = _imports_by_ast(source)
    except (SyntaxError, ValueError):
        pytest.skip(f"{path.name} does not parse on this version")
    found = text_imports(source)
    assert found is None or not expected - Counter(map(repr, found))


def test_prepass_verdict_without_a_tree_still_sends_syntax_errors_to_libcst() -> None:
    broken = "from .llm_adapter import get_llm_adapter\nx = = 1\n"  # its import alone is harmless
    assert text_imports(broken) is not None
    assert sketch(broken, TABLE, "sophia.core").rewrite is True
    # ``symtable`` also rejects what only the compiler rejects: libcst then settles it the same way.
    nonlocal_at_top = "from .llm_adapter import get_llm_adapter\nnonlocal x\n"
    assert sketch(nonlocal_at_top, TABLE, "sophia.core").rewrite is True
    result = rewrite_source(nonlocal_at_top, TABLE, package="sophia.core")
    assert (result.changed, result.changes, result.unmoved) == (False, (), ())
