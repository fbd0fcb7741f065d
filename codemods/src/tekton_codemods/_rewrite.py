"""Apply every transformer to one source text, in one parse, and prove the result is safe to write.

The checks are the contract with the user: the parse must round-trip exactly, the output must parse
again (with libcst and with the running interpreter whenever the input did), and no line outside a
recorded change may differ. Anything else is an error and the file is left alone.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from ._imports import ImportRewriter
from ._mapping import MigrationMap
from ._records import Change, Unmoved
from ._source import source_lines
from ._strings import StringRefRewriter
from ._usage import collect_usage


class RewriteError(Exception):
    """The source could not be parsed, or the rewrite failed a safety check."""


@dataclass(frozen=True)
class RewriteResult:
    source: str
    new_source: str
    changes: tuple[Change, ...]
    unmoved: tuple[Unmoved, ...]

    @property
    def changed(self) -> bool:
        return self.new_source != self.source


def rewrite_source(
    source: str, table: MigrationMap | None = None, *, package: str | None = None, focused: bool = True
) -> RewriteResult:
    """Rewrite ``source`` (the text of a module inside ``package``) onto the shims.

    Raises :class:`RewriteError` when the source does not parse, when a relative import that may reach a
    legacy module cannot be resolved against ``package``, or when the output fails verification.
    ``focused=False`` visits every statement (the reference the focused traversal is tested against).
    """
    table = table if table is not None else MigrationMap()
    module = _parse(source)
    strings = StringRefRewriter(table)
    imports = ImportRewriter(table, package)
    usage = collect_usage(module, package, table.segments())
    imports.prepare(usage)
    # Only the statements that hold an import, a legacy string or a use of a name the rewriter watches are
    # visited (with the statements around them), and positions are computed for those alone: on a big
    # file that mentions a legacy module once, that is most of the cost of a parse saved. Both
    # transformers run in one traversal and read positions of original nodes, so every recorded line is
    # the original file's.
    if focused:
        targets = usage.statements_to_visit(imports.watched_names())
        code, starts = _code_and_starts(module, targets)
        positions = _positions(module, starts)
        entered = usage.enclosing(targets)
    else:
        code = module.code
        positions = dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
        entered = set(usage.parents)
    if code != source:
        raise RewriteError("libcst does not reproduce this file exactly; refusing to touch it")
    strings.metadata = imports.metadata = {PositionProvider: positions}
    module = module.visit(_Together(strings, imports, entered))
    if imports.unresolved:
        # Without the package the file's legacy imports cannot even be found; passing it would let
        # ``--check`` succeed on an unmigrated tree.
        raise RewriteError("; ".join(imports.unresolved))
    new_source = module.code
    changes = tuple(sorted(strings.changes + imports.changes, key=lambda c: (c.line, c.kind)))
    unmoved = tuple(sorted(set(strings.unmoved + imports.unmoved), key=lambda u: (u.line, u.name)))
    if new_source != source:
        _verify(source, new_source, changes)
    return RewriteResult(source, new_source, changes, unmoved)


_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _StartMarking(CodegenState):
    """Plain code generation that notes where each of ``targets`` starts (as an index into ``tokens``)."""

    targets: frozenset[cst.CSTNode] = frozenset()
    starts: dict[cst.CSTNode, int] = field(default_factory=dict)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self.starts[node] = len(self.tokens)


def _code_and_starts(module: cst.Module, targets: set[cst.BaseStatement]) -> tuple[str, dict[cst.CSTNode, int]]:
    """The module's code (for the exact round-trip check) and the line each target statement starts on."""
    state = _StartMarking(module.default_indent, module.default_newline, targets=frozenset(targets))
    module._codegen(state)
    lines: dict[cst.CSTNode, int] = {}
    line, done = 1, 0
    for node, index in sorted(state.starts.items(), key=lambda item: item[1]):
        line += len(_NEWLINE.findall("".join(state.tokens[done:index])))
        done = index
        lines[node] = line
    return "".join(state.tokens), lines


def _positions(module: cst.Module, starts: dict[cst.CSTNode, int]) -> dict[cst.CSTNode, CodeRange]:
    """Positions of every node inside the target statements, with the lines ``PositionProvider`` gives for
    the whole module: each statement is positioned on its own and shifted to the line it starts on (only
    lines are used, so the columns of an indented statement are left as positioned alone)."""
    found: dict[cst.CSTNode, CodeRange] = {}
    for statement, line in starts.items():
        assert isinstance(statement, cst.BaseStatement)
        alone = module.with_changes(body=(statement,), header=(), footer=(), has_trailing_newline=True)
        shift = line - 1
        for node, where in MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider).items():
            if node is alone:
                continue
            start, end = where.start, where.end
            found[node] = CodeRange(
                CodePosition(start.line + shift, start.column), CodePosition(end.line + shift, end.column)
            )
    return found


def _parse(source: str) -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise RewriteError(syntax_error_text(source, exc)) from exc
    except (RecursionError, ValueError) as exc:
        raise RewriteError(f"cannot parse: {exc}") from exc


def syntax_error_text(source: str, exc: cst.ParserSyntaxError) -> str:
    """The position and message Python itself gives (libcst's parser can point a line further on, as for
    ``def f(:``); libcst's own only for syntax this interpreter accepts but libcst does not."""
    try:
        _compile_quietly(source)
    except SyntaxError as error:
        column = f", column {error.offset}" if error.offset else ""
        return f"syntax error at line {error.lineno}{column}: {error.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    return f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}"


class _Together(cst.CSTTransformer):
    """Runs two transformers whose node types do not overlap in a single traversal, ``first`` leaving each
    node before ``second``, entering only ``statements``. A node's children are skipped when either says
    so (``second`` skips the names inside import statements, where ``first`` has nothing to do)."""

    def __init__(
        self, first: cst.CSTTransformer, second: cst.CSTTransformer, statements: set[cst.BaseStatement]
    ) -> None:
        super().__init__()
        self.first = first
        self.second = second
        self.statements = statements

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseStatement) and node not in self.statements:
            return False  # nothing in it for either transformer
        return self.first.on_visit(node) & self.second.on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        result = self.first.on_leave(original_node, updated_node)
        if not isinstance(result, cst.CSTNode):
            return result
        return self.second.on_leave(original_node, result)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.first.on_visit_attribute(node, attribute)
        self.second.on_visit_attribute(node, attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.first.on_leave_attribute(original_node, attribute)
        self.second.on_leave_attribute(original_node, attribute)


def _reparse(new_source: str) -> None:
    try:
        cst.parse_module(new_source)
    except cst.ParserSyntaxError as exc:
        raise RewriteError(f"rewritten output does not parse: {exc.message}") from exc


def _compile_quietly(source: str) -> None:
    """``ast.parse`` without the SyntaxWarnings (``"\\d"`` escapes…) that belong to the user's code, not to us."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ast.parse(source)


def _verify(source: str, new_source: str, changes: tuple[Change, ...]) -> None:
    """The output must parse again: with the running interpreter's own parser, and with libcst when the
    interpreter does not know the file's syntax (then both versions must be accepted by libcst)."""
    try:
        _compile_quietly(new_source)
    except SyntaxError as exc:
        try:
            _compile_quietly(source)
        except SyntaxError:
            _reparse(new_source)  # newer syntax than this interpreter knows: libcst must accept the output
        else:
            raise RewriteError(f"rewritten output does not compile: {exc.msg}") from exc
    spans = [(change.line, change.end_line) for change in changes]
    old_lines = source_lines(source)
    new_lines = source_lines(new_source)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":  # new lines after old line i1 (1-based): must touch a rewritten statement
            inside = any(start - 1 <= i1 <= end for start, end in spans)
        else:  # old lines i1+1 .. i2 (1-based) replaced or deleted
            inside = all(any(start <= n <= end for start, end in spans) for n in range(i1 + 1, i2 + 1))
        if not inside:
            raise RewriteError(f"internal error: line {i1 + 1} changed outside any rewrite")
