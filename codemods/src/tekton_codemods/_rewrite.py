"""Apply every transformer to one source text, in one parse, and prove the result is safe to write.

The checks are the contract with the user: the regenerated statements must match the source exactly (or the
whole module must round-trip, where the statements cannot be lined up), the output must compile with the
running interpreter (or, for syntax it does not know, parse with libcst), and no line outside a recorded
change may differ. Anything else is an error and the file is left alone.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from ._dotted import alias_name, dotted_name
from ._imports import ImportRewriter
from ._mapping import MigrationMap
from ._names import Names, wrap, wrap_statements
from ._records import Change, Unmoved
from ._sketch import PlainImport, imports_may_change
from ._source import source_lines
from ._statements import index_statements
from ._strings import StringRefRewriter


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
    source: str,
    table: MigrationMap | None = None,
    *,
    package: str | None = None,
    is_package: bool = False,
    focused: bool = True,
) -> RewriteResult:
    """Rewrite ``source`` (the text of a module inside ``package``, or of its ``__init__`` when ``is_package``)
    onto the shims.

    Raises :class:`RewriteError` when the source does not parse, when a relative import that may reach a
    legacy module cannot be resolved against ``package``, or when the output fails verification.
    ``focused=False`` visits every statement (the reference the focused traversal is tested against).
    """
    table = table if table is not None else MigrationMap()
    module = _parse(source)
    if focused and not imports_may_change(source, table, package, _imports_of(module)):
        # The stdlib pre-pass's own rules, on libcst's tree (for syntax newer than this interpreter, which only
        # libcst parses): nothing here can be rewritten or reported, so no index is taken.
        return RewriteResult(source, source, (), ())
    imports = ImportRewriter(table, package, is_package=is_package)
    index = index_statements(module, package, table)

    # What the legacy imports' names are read as comes from libcst's scope analysis, run (only if the
    # rewriter asks) on the statements that mention those names: the same analysis on a small copy.
    def wrapper() -> MetadataWrapper:
        if not focused:
            return wrap(module, None, package)
        return wrap_statements(module, index.enclosing(index.statements_to_visit(index.relevant)), package)

    imports.prepare(index, Names(wrapper, package, None))
    strings = StringRefRewriter(
        table,
        legacy_bound=index.relevant,
        bound_packages=imports.bound_packages(),
        staying=imports.staying_modules(),
    )
    # Only the statements that hold an import, a legacy string or a use of a name the rewriter watches are
    # visited (with the statements around them), and positions are computed for those alone: on a big
    # file that mentions a legacy module once, that is most of the cost of a parse saved. Both
    # transformers run in one traversal and read positions of original nodes, so every recorded line is
    # the original file's.
    original: _Original | _Spliced | None = None
    if focused:
        targets = index.statements_to_visit(imports.watched_names())
        if not targets:  # nothing to rewrite or report: the file is left as it is, so it need not round-trip
            return RewriteResult(source, source, (), ())
        entered = index.enclosing(targets)
        original = _spliced(module, source, targets, entered) or _layout(module, targets)
        code = original.code
        positions = _positions(module, original.lines)
    else:
        code = module.code
        positions = dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
        entered = set(index.parents)
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


@dataclass(frozen=True)
class _Spliced:
    """The original text, of which only the top-level statements the rewrite enters are generated again.

    ``spans`` holds, per run of consecutive entered top-level statements (indexes into the original body), the
    offsets of their text in ``code``; every one of them was generated and found there verbatim, so the rest of
    the file is copied, not regenerated (libcst's code generation is most of a parsed file's cost).
    """

    code: str
    lines: dict[cst.CSTNode, int]
    body: tuple[cst.BaseStatement, ...]
    spans: tuple[tuple[int, int, int, int], ...]  # (first index, last index, start offset, end offset)
    drops_last_newline: bool

    def code_of(self, module: cst.Module) -> str:
        """``module.code`` for the rewritten module: each run of entered statements is replaced by the code of
        whatever the rewrite put between the untouched statements around it."""
        where = {id(node): index for index, node in enumerate(module.body)}
        parts: list[str] = []
        done = 0
        for first, last, start, end in self.spans:
            before = where.get(id(self.body[first - 1]), -2) if first > 0 else -1
            after = where.get(id(self.body[last + 1]), -2) if last + 1 < len(self.body) else len(module.body)
            if before == -2 or after == -2:
                raise RewriteError("internal error: a statement the rewrite did not enter was replaced")
            nodes = module.body[before + 1 : after]
            ends = last + 1 == len(self.body) and self.drops_last_newline
            parts += [self.code[done:start], _generate(module, nodes, ends)[0]]
            done = end
        parts.append(self.code[done:])
        return "".join(parts)


def _generate(
    module: cst.Module,
    nodes: Sequence[cst.CSTNode],
    drop_newline: bool,
    targets: AbstractSet[cst.BaseStatement] = frozenset(),
) -> tuple[str, dict[cst.CSTNode, int]]:
    """The code of ``nodes`` in ``module``'s layout, and how many lines precede each of ``targets`` in it."""
    state = _Layout(module.default_indent, module.default_newline, targets={id(node): node for node in targets})
    for node in nodes:
        node._codegen(state)
    if drop_newline:
        state.pop_trailing_newline()  # what ``Module`` does after its last statement without a final newline
    tokens = state.tokens
    return "".join(tokens), _lines_before(tokens, state.starts, 0)


def _lines_before(tokens: list[str], starts: dict[cst.CSTNode, int], first: int) -> dict[cst.CSTNode, int]:
    """For each node whose code starts at token ``starts[node]``: ``first`` plus the newlines in the code before it."""
    lines: dict[cst.CSTNode, int] = {}
    line, done = first, 0
    for node, index in sorted(starts.items(), key=lambda item: item[1]):
        line += len(_NEWLINE.findall("".join(tokens[done:index])))
        done = index
        lines[node] = line
    return lines


def _spliced(
    module: cst.Module, source: str, targets: set[cst.BaseStatement], entered: set[cst.BaseStatement]
) -> _Spliced | None:
    """Where each entered top-level statement's text lies in ``source``, found from the interpreter's own parse
    (the line each statement starts on) and checked by generating that statement's code and finding it there
    exactly; ``None`` when anything does not line up (the caller then generates the whole module)."""
    anchors = _Anchors.of(module, source)
    if anchors is None:
        return None
    lines: dict[cst.CSTNode, int] = {}
    spans: list[tuple[int, int, int, int]] = []
    for index, statement in enumerate(module.body):
        if statement not in entered:
            continue
        found = anchors.locate(index, targets)
        if found is None:
            return None
        start, end, before = found
        lines.update({node: anchors.starts[index] + count for node, count in before.items()})
        if spans and spans[-1][1] == index - 1:
            spans[-1] = (spans[-1][0], index, spans[-1][2], end)
        else:
            spans.append((index, index, start, end))
    return _Spliced(source, lines, tuple(module.body), tuple(spans), anchors.drops)


@dataclass(frozen=True)
class _Anchors:
    """The line each top-level statement starts on, and the offset each line starts at."""

    module: cst.Module
    source: str
    starts: list[int]
    offsets: list[int]
    drops: bool  # the module's code drops the newline after its last statement

    @classmethod
    def of(cls, module: cst.Module, source: str) -> _Anchors | None:
        starts = _top_level_lines(module, source)
        if starts is None or module.has_trailing_newline != source.endswith(("\n", "\r")):
            return None  # (libcst reads a final bare CR as no final newline: its round trip is not exact there)
        offsets = [0]
        for line in source_lines(source):
            offsets.append(offsets[-1] + len(line))
        anchors = cls(module, source, starts, offsets, not module.has_trailing_newline and not module.footer)
        first = anchors.offset(0)
        if first is None or _generate(module, module.header, False)[0] != source[:first]:
            return None
        return anchors

    def offset(self, index: int) -> int | None:
        """Where top-level statement ``index`` (or the end, past the last one) starts in the source."""
        if index == len(self.starts):
            return None
        line = self.starts[index]
        return self.offsets[line - 1] if 1 <= line <= len(self.offsets) else None

    def locate(self, index: int, targets: set[cst.BaseStatement]) -> tuple[int, int, dict[cst.CSTNode, int]] | None:
        """Statement ``index``'s offsets in the source and its targets' line counts, if its code is found there."""
        start = self.offset(index)
        last = index + 1 == len(self.starts)
        code, before = _generate(self.module, (self.module.body[index],), self.drops and last, targets)
        if start is None or not self.source.startswith(code, start):
            return None
        if not last and self.offset(index + 1) != start + len(code):
            return None
        return start, start + len(code), before


def _top_level_lines(module: cst.Module, source: str) -> list[int] | None:
    """The line each top-level statement's code starts on (its leading comments and blank lines included), from
    the interpreter's parse; ``None`` when it cannot parse the source or counts the statements differently."""
    try:
        tree = _ast_quietly(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    starts: list[int] = []
    position = 0
    for statement in module.body:
        if position >= len(tree.body):
            return None
        node = tree.body[position]
        position += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        decorators = getattr(node, "decorator_list", ())
        first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
        starts.append(first - len(statement.leading_lines))
    return starts if position == len(tree.body) else None


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
    lines = _lines_before(tokens, state.starts, 1)
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
    _ast_quietly(source)


def _ast_quietly(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


# Where libcst keeps statements: a module's, a suite's or a line's ``body``, the ``orelse`` of if/for/while/try,
# ``handlers`` of try, ``finalbody`` of try, ``cases`` of match (the clauses then have a ``body``).
_STATEMENT_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def _imports_of(module: cst.Module) -> Iterator[PlainImport]:
    """Every import statement of ``module``, at any depth, as the pre-pass sees them. Only the statement
    structure is walked (no statement lives in an expression), a small part of the tree."""
    stack: list[Any] = [module]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.Import:
            yield None, None, [(dotted_name(a.name) or "", alias_name(a)) for a in node.names]
        elif kind is cst.ImportFrom:
            module_name = dotted_name(node.module) if node.module is not None else None
            if isinstance(node.names, cst.ImportStar):
                yield len(node.relative), module_name, [("*", None)]
            else:
                yield len(node.relative), module_name, [(dotted_name(a.name) or "", alias_name(a)) for a in node.names]
        else:
            for name in _STATEMENT_FIELDS:
                inner = getattr(node, name, None)
                if type(inner) is tuple or type(inner) is list:
                    stack.extend(inner)
                elif inner is not None and not isinstance(inner, str):
                    stack.append(inner)


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
