"""A one-pass census of how names are used in a module, taken before any import is rewritten.

Whether an import may move depends on code elsewhere in the file: ``m.helper`` after
``import terma.core.llm_adapter as m`` breaks if the shim has no ``helper``, and ``import a.b.llm_adapter``
also binds ``a`` for unrelated uses. The census is deliberately file-wide and scope-blind: it can only
over-count uses, which makes the rewriter leave more alone, never less.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from ._dotted import dotted_name
from ._mapping import MigrationMap
from ._modules import resolve_relative


@dataclass
class NameUsage:
    """``chains`` counts every maximal name chain outside import statements (``"a"``, ``"m.X"``,
    ``"a.b.llm_adapter.Y"``); ``plain_imports`` lists ``import a.b.c`` targets bound without ``as``;
    ``other_bindings`` counts names bound by any other import form; ``import_paths`` maps every name an
    import binds to the absolute dotted paths it may stand for (``core`` -> ``terma.core`` after
    ``from terma import core``)."""

    chains: Counter[str] = field(default_factory=Counter)
    plain_imports: list[str] = field(default_factory=list)
    other_bindings: Counter[str] = field(default_factory=Counter)
    import_paths: dict[str, set[str]] = field(default_factory=dict)
    # Per statement (the innermost one around each construct): whether it holds an import or a string
    # spelling a legacy segment, and the heads of the name chains it uses; and each statement's parent.
    # A statement with none of these that the rewriter cares about is left untouched, unvisited.
    marked: set[cst.BaseStatement] = field(default_factory=set)
    heads: dict[cst.BaseStatement, set[str]] = field(default_factory=dict)
    parents: dict[cst.BaseStatement, cst.BaseStatement | None] = field(default_factory=dict)

    def statements_to_visit(self, names: set[str]) -> set[cst.BaseStatement]:
        """Statements the rewriter must see: imports, legacy strings, and uses of ``names``."""
        return self.marked | {statement for statement, heads in self.heads.items() if heads & names}

    def enclosing(self, statements: set[cst.BaseStatement]) -> set[cst.BaseStatement]:
        """``statements`` and every statement around them (the path a traversal must open to reach them)."""
        found: set[cst.BaseStatement] = set()
        for statement in statements:
            current: cst.BaseStatement | None = statement
            while current is not None and current not in found:
                found.add(current)
                current = self.parents.get(current)
        return found

    def attributes_of(self, name: str) -> set[str]:
        """First attribute names read from ``name`` (``{"X"}`` for ``m.X.y``)."""
        prefix = name + "."
        return {chain[len(prefix) :].split(".", 1)[0] for chain in self.chains if chain.startswith(prefix)}


def collect_usage(module: cst.Module, package: str | None = None, table: MigrationMap | None = None) -> NameUsage:
    """The census of ``module``; ``package`` anchors its relative imports. With ``table``, a statement is
    marked when it holds an import that concerns a legacy module or a string spelling a legacy segment
    (without, every import statement is marked).

    It walks the tree itself (:func:`children`) instead of through a libcst visitor, which rebuilds every node
    it passes: the census reads the tree and never changes it, and it is on the hot path of every rewrite.
    """
    collector = _Collector(package, table)
    stack: list[tuple[cst.CSTNode, cst.BaseStatement | None]] = [(child, None) for child in children(module)]
    while stack:
        node, statement = stack.pop()
        if _is(type(node), cst.BaseStatement):
            collector.usage.parents[cast(cst.BaseStatement, node)] = statement
            statement = cast(cst.BaseStatement, node)
        collector.statement = statement
        inner = collector.enter(node)
        stack.extend((child, statement) for child in (content_children(node) if inner is None else inner))
    return collector.usage


# Every libcst node class has ABCMeta as its metaclass, so ``isinstance`` goes through the slow ABC machinery;
# the census asks it hundreds of thousands of times per file, so the answers are cached per class.
_FIELDS: dict[type, tuple[str, ...]] = {}
_SUBCLASS: dict[tuple[type, type], bool] = {}


def _is(kind: type, base: type) -> bool:
    answer = _SUBCLASS.get((kind, base))
    if answer is None:
        answer = _SUBCLASS[(kind, base)] = issubclass(kind, base)
    return answer


def _nodes_in(node: cst.CSTNode, names: tuple[str, ...]) -> list[cst.CSTNode]:
    """The nodes held in ``node``'s fields ``names`` (a node, or a list/tuple of them)."""
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            found.extend(item for item in value if _is(type(item), cst.CSTNode))
        elif _is(kind, cst.CSTNode):
            found.append(value)
    return found


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The direct children of ``node`` (its node-valued dataclass fields), without rebuilding anything."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    return _nodes_in(node, names)


# Fields that hold only layout — whitespace, comments, blank lines, brackets, commas, dots, ``=``, ``:``,
# operators — never a name, a string, an import or a statement. Two thirds of a parsed file's nodes sit
# there, so the census does not walk them (a test checks it still reaches every expression and statement).
_LAYOUT_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon", "dot", "equal", "colon",
        "operator", "asynchronous", "leading_lines", "trailing_whitespace", "lines_after_decorators", "header",
        "footer", "newline", "comment", "first_line", "empty_lines", "last_line",
    }
)  # fmt: skip
_CONTENT_FIELDS: dict[type, tuple[str, ...]] = {}


def content_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """:func:`children` without the nodes in layout fields (``whitespace*`` and :data:`_LAYOUT_FIELDS`)."""
    names = _CONTENT_FIELDS.get(type(node))
    if names is None:
        names = _CONTENT_FIELDS[type(node)] = tuple(
            f.name
            for f in dataclasses.fields(node)
            if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace")
        )
    return _nodes_in(node, names)


class _Collector:
    """The census rules: :meth:`enter` returns the children to walk next (``None``: all of them)."""

    def __init__(self, package: str | None, table: MigrationMap | None) -> None:
        self.package = package
        self.table = table
        self.segments = tuple(table.segments()) if table is not None else ()
        self.usage = NameUsage()
        self.statement: cst.BaseStatement | None = None

    def enter(self, node: cst.CSTNode) -> list[cst.CSTNode] | None:
        kind = type(node)
        # Exact classes (compared with ``is``, no ABC check); ``cast`` costs nothing at run time.
        if kind is cst.Name:
            value = cast(cst.Name, node).value
            self.usage.chains[value] += 1
            self._head(value)
        elif kind is cst.Attribute:
            attribute = cast(cst.Attribute, node)
            dotted = dotted_name(attribute)
            if dotted is None:
                return [attribute.value]  # ``f().attr``: the attribute name is not a use of a variable ``attr``
            self.usage.chains[dotted] += 1
            self._head(dotted)
            return []
        elif kind is cst.Arg:
            return [cast(cst.Arg, node).value]  # a keyword (``f(terma=1)``) names a parameter, not a variable
        elif kind is cst.SimpleString:
            if any(segment in cast(cst.SimpleString, node).value for segment in self.segments):
                self._mark()
        elif kind is cst.Import or kind is cst.ImportFrom:
            self._imports(node)
            return []  # the dotted names inside are handled whole, not as attribute uses
        return None

    def _imports(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Import):
            self.visit_Import(node)
        elif isinstance(node, cst.ImportFrom):
            self.visit_ImportFrom(node)

    def _mark(self) -> None:
        if self.statement is not None:
            self.usage.marked.add(self.statement)

    def _head(self, dotted: str) -> None:
        if self.statement is not None:
            self.usage.heads.setdefault(self.statement, set()).add(dotted.split(".", 1)[0])

    def _touches(self, *modules: str | None) -> None:
        if self.table is None or any(m is not None and self.table.touches(m) for m in modules):
            self._mark()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            self._touches(dotted, dotted.split(".", 1)[0] if dotted else None)
            if alias.asname is not None:
                self._bind(alias.asname.name)
                self._path(dotted_name(alias.asname.name), dotted)
            elif dotted is not None:
                self.usage.plain_imports.append(dotted)
                top = dotted.split(".", 1)[0]
                self._path(top, top)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        names = [] if isinstance(node.names, cst.ImportStar) else [dotted_name(alias.name) for alias in node.names]
        if absolute is None:
            spelled = self.table is not None and any(map(self.table.mentions_segment, [module, *names]))
            if spelled or (node.relative and self.table is None):
                self._mark()  # the rewriter reports it as unresolved
        else:
            self._touches(absolute, *(f"{absolute}.{name}" for name in names if name))
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            self._bind(bound)
            name = dotted_name(alias.name)
            if absolute is not None and name is not None:
                self._path(dotted_name(bound), f"{absolute}.{name}")

    def _path(self, bound: str | None, path: str | None) -> None:
        if bound is not None and path is not None:
            self.usage.import_paths.setdefault(bound, set()).add(path)

    def _bind(self, target: cst.BaseExpression) -> None:
        dotted = dotted_name(target)
        if dotted is not None:
            self.usage.other_bindings[dotted] += 1
