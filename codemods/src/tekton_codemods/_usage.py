"""A one-pass census of how names are used in a module, taken before any import is rewritten.

Whether an import may move depends on code elsewhere in the file: ``m.helper`` after
``import terma.core.llm_adapter as m`` breaks if the shim has no ``helper``, and ``import a.b.llm_adapter``
also binds ``a`` for unrelated uses. The census is deliberately file-wide and scope-blind: it can only
over-count uses, which makes the rewriter leave more alone, never less.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

from ._dotted import dotted_name
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


def collect_usage(module: cst.Module, package: str | None = None, segments: Iterable[str] = ()) -> NameUsage:
    """The census of ``module``; ``package`` anchors its relative imports; a string spelling one of
    ``segments`` marks its statement."""
    collector = _Collector(package, tuple(segments))
    module.visit(collector)
    return collector.usage


class _Collector(cst.CSTVisitor):
    def __init__(self, package: str | None, segments: tuple[str, ...]) -> None:
        super().__init__()
        self.package = package
        self.segments = segments
        self.usage = NameUsage()
        self._stack: list[cst.BaseStatement] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseStatement):
            self.usage.parents[node] = self._stack[-1] if self._stack else None
            self._stack.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        if isinstance(original_node, cst.BaseStatement):
            self._stack.pop()

    def _mark(self) -> None:
        if self._stack:
            self.usage.marked.add(self._stack[-1])

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if any(segment in node.value for segment in self.segments):
            self._mark()

    def _head(self, dotted: str) -> None:
        if self._stack:
            self.usage.heads.setdefault(self._stack[-1], set()).add(dotted.split(".", 1)[0])

    def visit_Import(self, node: cst.Import) -> bool:
        self._mark()
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if alias.asname is not None:
                self._bind(alias.asname.name)
                self._path(dotted_name(alias.asname.name), dotted)
            elif dotted is not None:
                self.usage.plain_imports.append(dotted)
                top = dotted.split(".", 1)[0]
                self._path(top, top)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self._mark()
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            self._bind(bound)
            name = dotted_name(alias.name)
            if absolute is not None and name is not None:
                self._path(dotted_name(bound), f"{absolute}.{name}")
        return False

    def _path(self, bound: str | None, path: str | None) -> None:
        if bound is not None and path is not None:
            self.usage.import_paths.setdefault(bound, set()).add(path)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is not None:
            self.usage.chains[dotted] += 1
            self._head(dotted)
        else:
            # ``f().attr``: the attribute name is not a use of a variable called ``attr``.
            node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.usage.chains[node.value] += 1
        self._head(node.value)

    def visit_Arg(self, node: cst.Arg) -> bool:
        # A keyword (``f(terma=1)``) names a parameter, not a variable.
        node.value.visit(self)
        return False

    def _bind(self, target: cst.BaseExpression) -> None:
        dotted = dotted_name(target)
        if dotted is not None:
            self.usage.other_bindings[dotted] += 1
