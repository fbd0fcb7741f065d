"""Apply every transformer to one source text, in one parse, and prove the result is safe to write.

The checks are the contract with the user: the parse must round-trip exactly, the output must parse
again (with libcst and with the running interpreter whenever the input did), and no line outside a
recorded change may differ. Anything else is an error and the file is left alone.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ._imports import ImportRewriter
from ._mapping import MigrationMap
from ._records import Change, Unmoved
from ._source import source_lines
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


def rewrite_source(source: str, table: MigrationMap | None = None, *, package: str | None = None) -> RewriteResult:
    """Rewrite ``source`` (the text of a module inside ``package``) onto the shims.

    Raises :class:`RewriteError` when the source does not parse, when a relative import that may reach a
    legacy module cannot be resolved against ``package``, or when the output fails verification.
    """
    table = table if table is not None else MigrationMap()
    module = _parse(source)
    if module.code != source:
        raise RewriteError("libcst does not reproduce this file exactly; refusing to touch it")
    strings = StringRefRewriter(table)
    imports = ImportRewriter(table, package)
    # One metadata computation for both transformers, run together in one traversal: each reads
    # positions of the original nodes, so every recorded line is the original file's.
    metadata = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many({PositionProvider})
    strings.metadata = imports.metadata = metadata
    module = module.visit(_Together(strings, imports))
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
    node before ``second``. A node's children are skipped when either says so (``second`` skips the names
inside import statements, where ``first`` has nothing to do)."""

    def __init__(self, first: cst.CSTTransformer, second: cst.CSTTransformer) -> None:
        super().__init__()
        self.first = first
        self.second = second

    def on_visit(self, node: cst.CSTNode) -> bool:
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


def _compile_quietly(source: str) -> None:
    """``ast.parse`` without the SyntaxWarnings (``"\\d"`` escapes…) that belong to the user's code, not to us."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ast.parse(source)


def _verify(source: str, new_source: str, changes: tuple[Change, ...]) -> None:
    try:
        cst.parse_module(new_source)
    except cst.ParserSyntaxError as exc:
        raise RewriteError(f"rewritten output does not parse: {exc.message}") from exc
    try:
        _compile_quietly(new_source)
    except SyntaxError as exc:
        try:
            _compile_quietly(source)
        except SyntaxError:
            pass  # newer syntax than this interpreter knows; libcst accepted both versions
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
