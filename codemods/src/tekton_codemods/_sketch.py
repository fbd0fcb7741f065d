"""The cheap, exact pre-pass that decides which candidates need libcst at all.

A candidate only spells ``llm_adapter`` somewhere; most real ones are logger names, debug tags, other
components' adapters. The stdlib parser (C, a few milliseconds a file) sees every import and every string
constant, which is all the rewriter and cleanup act on, so a file whose imports and strings cannot reach a
legacy module is settled here. The test errs one way only: anything it cannot rule out goes to libcst
(a syntax error too, so libcst reports it the way it always has). The import rules take plain names, so a file
only libcst can parse (syntax newer than the running interpreter) is settled by the same rules on libcst's tree
(:func:`imports_may_change`).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ._mapping import MigrationMap
from ._modules import resolve_relative

# Calls that take a module's attribute or submodule name as a string.
_NAME_CALLS = frozenset({"getattr", "setattr", "hasattr", "delattr", "object", "import_module", "__import__"})
# Calls that return a module named by a string.
_MODULE_CALLS = frozenset({"import_module", "__import__", "get"})


@dataclass(frozen=True)
class Sketch:
    """``rewrite``: libcst may change or report something; ``reach``: cleanup must resolve names in it."""

    rewrite: bool
    reach: bool


def sketch(
    text: str, table: MigrationMap, package: str | None, own: str | None = None, *, reach: bool = False
) -> Sketch:
    """What the stdlib parse of ``text`` (a module inside ``package``, itself named ``own``) rules out.

    ``reach`` asks the cleanup question too; without it only imports and strings are looked at (all that a
    rewrite acts on), which is a fraction of the nodes.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings belong to the user's code
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Sketch(rewrite=True, reach=True)
    scan = _Scan(table, package)
    if reach:
        scan.visit(tree)
        return Sketch(rewrite=scan.rewrite, reach=scan.rewrite or scan.reach or (own is not None and table.near(own)))
    imports = (_plain(node) for node in _statements(tree.body) if isinstance(node, ast.Import | ast.ImportFrom))
    return Sketch(rewrite=imports_may_change(text, table, package, imports), reach=True)


# An import statement as plain data: ``(level, module, [(name, asname), ...])``; ``level`` is ``None`` for
# ``import a.b [as c], ...`` and ``module`` is then ``None``; a star import lists the name ``"*"``.
PlainImport = tuple[int | None, str | None, list[tuple[str, str | None]]]


def imports_may_change(text: str, table: MigrationMap, package: str | None, imports: Iterable[PlainImport]) -> bool:
    """The rewrite question of :func:`sketch` on already parsed imports: whether the text spells a whole
    mapping key (a string the rewriter could move) or one of ``imports`` concerns a legacy module."""
    scan = _Scan(table, package)
    if any(key in text for key in scan.keys):
        return True
    for level, module, names in imports:
        if level is None:
            scan.plain_import(names)
        else:
            scan.from_import(level, module, names)
        if scan.rewrite:
            return True
    return False


def _plain(node: ast.Import | ast.ImportFrom) -> PlainImport:
    names = [(alias.name, alias.asname) for alias in node.names]
    return (None, None, names) if isinstance(node, ast.Import) else (node.level, node.module, names)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, at any depth (imports are statements: expressions need not be walked)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in _BODIES:
            inner = getattr(node, name, None)
            if inner:
                stack.extend(reversed(inner))
        for handler in getattr(node, "handlers", ()):
            stack.extend(reversed(handler.body))
        for case in getattr(node, "cases", ()):
            stack.extend(reversed(case.body))


_BODIES = ("body", "orelse", "finalbody")


class _Scan(ast.NodeVisitor):
    def __init__(self, table: MigrationMap, package: str | None) -> None:
        self.table = table
        self.package = package
        self.keys = tuple(table.mapping)
        self.segments = tuple(table.segments())
        self.rewrite = False
        self.reach = False
        self.imported: set[str] = set()  # names bound by an import statement (in any scope)

    def _path(self, path: str) -> None:
        if self.table.touches(path):
            self.rewrite = True

    def visit_Import(self, node: ast.Import) -> None:
        self.plain_import([(alias.name, alias.asname) for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.from_import(node.level, node.module, [(alias.name, alias.asname) for alias in node.names])

    def plain_import(self, names: list[tuple[str, str | None]]) -> None:
        for name, asname in names:
            self.imported.add(asname or name.split(".", 1)[0])
            self._path(name)
            if asname is None:
                self._path(name.split(".", 1)[0])

    def from_import(self, level: int, module: str | None, aliases: list[tuple[str, str | None]]) -> None:
        absolute = resolve_relative(self.package, level, module)
        names = [name for name, _ in aliases]
        self.imported.update(asname or name for name, asname in aliases)
        if absolute is None:
            spelled = [module or "", *names]
            if any(self.table.mentions_segment(name) for name in spelled if name != "*"):
                self.rewrite = True
            return
        self._path(absolute)
        for name in names:
            if name != "*":
                self._path(f"{absolute}.{name}")

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if not isinstance(value, str):
            return
        if any(key in value for key in self.keys):
            self.rewrite = True

    def visit_Call(self, node: ast.Call) -> None:
        """``getattr(core, "llm_adapter")``, ``import_module(".llm_adapter", …)``: only names resolve these."""
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        args = (*node.args, *(k.value for k in node.keywords))
        if name in _NAME_CALLS and any(map(self._spells, args)):
            self.reach = True
        if name in _MODULE_CALLS and any(map(self._module, args)):
            self.reach = True  # ``import_module("hermes.core")`` returns the parent package
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        """``sys.modules["hermes.core"]``."""
        if isinstance(node.value, ast.Attribute) and node.value.attr == "modules" and self._module(node.slice):
            self.reach = True
        self.generic_visit(node)

    def _module(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and self.table.near(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        """``__all__ = ["llm_adapter"]`` in a package hands out its submodule."""
        names_all = any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        if names_all and isinstance(node.value, ast.List | ast.Tuple) and any(map(self._spells, node.value.elts)):
            self.reach = True
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """``core.llm_adapter`` where ``core`` was imported: the name layer decides what ``core`` is."""
        if node.attr in self.segments:
            head: ast.expr = node.value
            while isinstance(head, ast.Attribute):
                head = head.value
            if isinstance(head, ast.Name) and head.id in self.imported:
                self.reach = True
        self.generic_visit(node)

    def _spells(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and self.table.mentions_segment(node.value.lstrip("."))
        )
