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
import re
import symtable
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
    if not reach:
        if any(key in text for key in table.mapping):
            return Sketch(rewrite=True, reach=True)  # libcst will see it anyway (and report a syntax error)
        found = text_imports(text)
        if found is not None:
            return Sketch(rewrite=not _parses(text) or imports_may_change(text, table, package, found), reach=True)
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


def _parses(text: str) -> bool:
    """Whether the interpreter parses ``text``, without building Python objects for its tree: ``symtable``
    parses as ``ast.parse`` does, then only builds the symbol table (it also rejects a few programs ``ast``
    accepts, like ``nonlocal`` at module level: those go to libcst, which settles them the same way)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, "<candidate>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


_FROM_HEAD = re.compile(r"(?:\A|[;:])[ \t\f]*(from(?=[ \t\f.])[\w. \t\f]*)\Z")
_FROM_WORD = re.compile(r"\bfrom\b")
_STATEMENT_END = re.compile(r"[\r\n;#]|\Z")


def text_imports(text: str) -> list[PlainImport] | None:
    """Every import statement of ``text`` (a file the interpreter parses), read from the text without a parse
    of the whole file, or ``None`` when that cannot be done with certainty (then the caller parses).

    The keyword ``import`` stands in every import statement, and only where a statement starts (after a line
    break, ``;`` or ``:``) or after ``from <module>`` on the same line. Each occurrence of the word is either
    provably not the keyword (inside a string, a comment or prose: nothing that may begin a statement stands
    before it, and no ``from`` does) or the statement around it is cut out and parsed on its own; one that
    does not parse as a single import, and a line continuation near one, make the answer ``None``. Words in
    strings that happen to read as an import only add imports, which can only send a file to libcst.
    """
    found: list[PlainImport] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings belong to the user's code
        for keyword in _words(text, "import"):
            start = _statement_start(text, keyword)
            if start == -1:
                continue
            end = _statement_end(text, keyword + len("import"), parenthesised=start != keyword)
            if start is None or end is None:
                return None
            statement = _single_import(text[start:end])
            if statement is None:
                return None
            found.append(statement)
    return found


def _words(text: str, word: str) -> Iterator[int]:
    """Offsets of ``word`` standing alone (``str.find`` is much faster than a regular expression with ``\\b``)."""
    index = text.find(word)
    while index != -1:
        after = index + len(word)
        if not (index and _is_word(text[index - 1])) and not (after < len(text) and _is_word(text[after])):
            yield index
        index = text.find(word, after)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _statement_start(text: str, keyword: int) -> int | None:
    """Where the import statement holding the word at ``keyword`` starts; -1: the word cannot be the keyword
    there; ``None``: cannot tell."""
    line_start = max(text.rfind("\n", 0, keyword), text.rfind("\r", 0, keyword)) + 1
    if _continued(text, line_start):
        return None  # the statement may have begun on an earlier line: left to the parser
    before = text[line_start:keyword]
    if "#" in before and "'" not in before and '"' not in before:
        return -1  # in a comment, or in a string that stays open past it
    if not before.strip(" \t\f") or before.rstrip(" \t\f").endswith((";", ":")):
        return keyword
    head = _FROM_HEAD.search(before)
    if head is not None:
        return line_start + head.start(1)
    return None if _FROM_WORD.search(before) else -1


def _continued(text: str, line_start: int) -> bool:
    """Whether the line starting at ``line_start`` follows one that ends with a backslash (a continuation, or a
    comment ending in one: either way the parser must decide)."""
    end = line_start - 1
    if end >= 1 and text[end] == "\n" and text[end - 1] == "\r":
        end -= 1
    return end >= 1 and text[end - 1] == "\\"


def _statement_end(text: str, after: int, *, parenthesised: bool) -> int | None:
    """Where the import statement whose keyword ends at ``after`` ends (before a comment), or ``None``."""
    rest = after
    while rest < len(text) and text[rest] in " \t\f":
        rest += 1
    if parenthesised and rest < len(text) and text[rest] == "(":
        index = rest
        while index < len(text) and text[index] != ")":
            index = _line_end(text, index) if text[index] == "#" else index + 1
        return index + 1 if index < len(text) else None
    end = _STATEMENT_END.search(text, after)
    assert end is not None  # ``\Z`` always matches
    if text[after : end.start()].rstrip(" \t\f").endswith("\\"):
        return None  # a continued statement: left to the parser
    return end.start()


def _line_end(text: str, index: int) -> int:
    ends = [found for found in (text.find("\n", index), text.find("\r", index)) if found != -1]
    return min(ends, default=len(text))


def _single_import(code: str) -> PlainImport | None:
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(body) != 1 or not isinstance(body[0], ast.Import | ast.ImportFrom):
        return None
    return _plain(body[0])


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
