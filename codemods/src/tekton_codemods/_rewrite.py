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
    usage = collect_usage(module, package, table)
    imports.prepare(usage)
    # Only the statements that hold an import, a legacy string or a use of a name the rewriter watches are
    # visited (with the statements around them), and positions are computed for those alone: on a big
    # file that mentions a legacy module once, that is most of the cost of a parse saved. Both
    # transformers run in one traversal and read positions of original nodes, so every recorded line is
    # the original file's.
    original: _Original | None = None
    if focused:
        targets = usage.statements_to_visit(imports.watched_names())
        if not targets:  # nothing to rewrite or report: the file is left as it is, so it need not round-trip
            return RewriteResult(source, source, (), ())
        original = _layout(module, targets)
        code = original.code
        positions = _positions(module, original.lines)
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
    new_source = original.code_of(module) if original is not None else module.code
    changes = tuple(sorted(strings.changes + imports.changes, key=lambda c: (c.line, c.kind)))
    unmoved = tuple(sorted(set(strings.unmoved + imports.unmoved), key=lambda u: (u.line, u.name)))
    if new_source != source:
        _verify(source, new_source, changes)
    return RewriteResult(source, new_source, changes, unmoved)


_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _Layout(CodegenState):
    """Plain code generation that notes where each of ``targets`` starts and where each top-level statement
    starts and ends (as indexes into ``tokens``). Called for every node, so membership is tested on ``id``
    (a C call) rather than on the node (libcst's ``__hash__`` is Python code)."""

    targets: dict[int, cst.CSTNode] = field(default_factory=dict)
    tops: dict[int, cst.CSTNode] = field(default_factory=dict)
    starts: dict[cst.CSTNode, int] = field(default_factory=dict)
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            self.starts[node] = len(self.tokens)
        if key in self.tops:
            self.spans[key] = (len(self.tokens), -1)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.tops:
            self.spans[key] = (self.spans[key][0], len(self.tokens))


@dataclass(frozen=True)
class _Original:
    """The original module's code, the line each target starts on, and the code of each top-level statement."""

    code: str
    lines: dict[cst.CSTNode, int]
    header: str
    pieces: dict[cst.CSTNode, str]
    footer: str

    def code_of(self, module: cst.Module) -> str:
        """``module.code`` for the rewritten module: a top-level statement the rewrite did not enter is the same
        object as before, so its original code is reused instead of generated again."""
        if not module.has_trailing_newline or not module.body:
            return module.code
        parts = [self.header]
        for statement in module.body:
            piece = self.pieces.get(statement)
            parts.append(piece if piece is not None else module.code_for_node(statement))
        parts.append(self.footer)
        return "".join(parts)


def _layout(module: cst.Module, targets: set[cst.BaseStatement]) -> _Original:
    """Generate the module's code once (for the exact round-trip check), noting where things are."""
    state = _Layout(
        module.default_indent,
        module.default_newline,
        targets={id(node): node for node in targets},
        tops={id(node): node for node in module.body},
    )
    module._codegen(state)
    tokens = state.tokens
    lines: dict[cst.CSTNode, int] = {}
    line, done = 1, 0
    for node, index in sorted(state.starts.items(), key=lambda item: item[1]):
        line += len(_NEWLINE.findall("".join(tokens[done:index])))
        done = index
        lines[node] = line
    pieces = {state.tops[key]: "".join(tokens[start:end]) for key, (start, end) in state.spans.items()}
    first = min((start for start, _ in state.spans.values()), default=0)
    last = max((end for _, end in state.spans.values()), default=len(tokens))
    return _Original("".join(tokens), lines, "".join(tokens[:first]), pieces, "".join(tokens[last:]))


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
    """The output must parse again — with the running interpreter's own parser, and with libcst when the
    interpreter does not know the file's syntax (then both versions must be accepted by libcst) — and no
    line outside a recorded change may differ."""
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
    for tag, i1, i2 in _line_opcodes(source_lines(source), source_lines(new_source)):
        if tag == "insert":  # new lines after old line i1 (1-based): must touch a rewritten statement
            inside = any(start - 1 <= i1 <= end for start, end in spans)
        else:  # old lines i1+1 .. i2 (1-based) replaced or deleted
            inside = all(any(start <= n <= end for start, end in spans) for n in range(i1 + 1, i2 + 1))
        if not inside:
            raise RewriteError(f"internal error: line {i1 + 1} changed outside any rewrite")


def _line_opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int]]:
    """The non-equal blocks between two line lists, as ``(tag, i1, i2)`` over ``old`` (``difflib`` terms).

    Lines both share at the start and at the end are equal blocks whatever the alignment, so only the
    middle is diffed; with the line count unchanged there, a line-by-line comparison is that diff.
    """
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    if len(old_middle) == len(new_middle):
        pairs = zip(old_middle, new_middle, strict=True)
        return [("replace", head + n, head + n + 1) for n, (a, b) in enumerate(pairs) if a != b]
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    return [(tag, i1 + head, i2 + head) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal"]
