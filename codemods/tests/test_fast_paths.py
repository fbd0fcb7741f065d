"""The speed paths give exactly the answers of the slow ones.

Three shortcuts keep libcst off most candidates and most of each parsed file: the stdlib pre-pass
(``_sketch``) that settles files no rewrite can touch, the focused traversal that enters only statements
holding something to rewrite, and per-statement positions. Each is checked here against the full
computation on the same source.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from tekton_codemods import MigrationMap
from tekton_codemods._rewrite import _layout, _positions, rewrite_source
from tekton_codemods._sketch import sketch
from tekton_codemods._usage import children, collect_usage

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
}


@pytest.mark.parametrize("source", list(FOCUS.values()), ids=list(FOCUS))
def test_focused_traversal_equals_visiting_everything(source: str) -> None:
    fast = rewrite_source(source, TABLE, package="terma.api")
    full = rewrite_source(source, TABLE, package="terma.api", focused=False)
    assert fast == full
    assert fast.changes or fast.unmoved  # each case has something to rewrite or report


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
    usage = collect_usage(module, None)
    original = _layout(module, set(usage.parents))
    assert original.code == source
    mine = _positions(module, original.lines)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    inside = _Collect()
    for statement in module.body:
        statement.visit(inside)
    assert mine.keys() == inside.nodes  # every node of every statement (the header's comments are in none)
    assert all((mine[n].start.line, mine[n].end.line) == (whole[n].start.line, whole[n].end.line) for n in mine)


@pytest.mark.parametrize("path", _stdlib_sample(6), ids=lambda p: p.name)
def test_the_census_walk_reaches_every_node_a_libcst_visitor_reaches(path: Path) -> None:
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
        stack.extend(children(node))
    assert walked == visited.nodes


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
