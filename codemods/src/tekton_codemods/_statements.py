"""Which statements of a module a rewrite must look at: a purely syntactic index, taken in one walk.

It says, per statement, which names it mentions (the heads of its name chains and the names its imports
bind) and whether it holds an import or a string that concerns a legacy module; what those names *mean*
is :mod:`._names`' business (libcst scope analysis, run on the statements this index keeps). The index
lets the rewriter and the scope analysis skip everything else: on a big file that imports a legacy
module once, that is most of the file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from ._dotted import alias_name, dotted_name, string_value
from ._mapping import MigrationMap, is_dotted_name
from ._modules import resolve_relative
from ._strings import logger_names

ImportNode = cst.Import | cst.ImportFrom
_WORD = re.compile(r"[A-Za-z_]\w*")
_DYNAMIC = frozenset({"eval", "exec", "globals", "locals", "vars"})


@dataclass
class StatementIndex:
    """``marked``: statements holding an import or a string that concerns a legacy module; ``heads``: the
    names each statement mentions (the innermost statement around each name); ``parents``: each statement's
    enclosing statement; ``imports``: the import nodes that concern a legacy module;
    ``relevant``: the names those imports bind, and the names a star import from a legacy module's parent
    package may bind. ``chains`` (every pure dotted name chain outside an import, ``m.X.y``), ``bare``
    (every name not followed by an attribute), ``members`` (attribute names read off anything else,
    ``C().m``) and ``words`` (every identifier in a string: an annotation may name anything) are what the
    file spells, whatever it stands for: a superset of the reads of any one binding, so a question they
    settle needs no scope analysis. ``dotted_strings``: the strings that are a dotted path with a legacy
    segment, logger names aside (what a ``mock.patch`` or ``sys.modules`` may name)."""

    marked: set[cst.BaseStatement] = field(default_factory=set)
    heads: dict[cst.BaseStatement, set[str]] = field(default_factory=dict)
    parents: dict[cst.BaseStatement, cst.BaseStatement | None] = field(default_factory=dict)
    imports: list[ImportNode] = field(default_factory=list)
    relevant: set[str] = field(default_factory=set)
    chains: set[str] = field(default_factory=set)
    bare: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    dotted_strings: list[str] = field(default_factory=list)
    statement_of: dict[ImportNode, cst.BaseStatement | None] = field(default_factory=dict)

    def statements_to_visit(self, names: set[str]) -> set[cst.BaseStatement]:
        """Statements the rewriter must see: imports, legacy strings, and mentions of ``names``."""
        return self.marked | {statement for statement, heads in self.heads.items() if heads & names}

    @property
    def reads_dynamically(self) -> bool:
        """Whether the file reads names by a string or a dict (``eval``, ``exec``, ``globals()``, ``locals()``,
        ``vars()``, ``sys.modules``), where no analysis follows."""
        return bool(self.bare & _DYNAMIC) or any(chain.startswith("sys.modules") for chain in self.chains)

    def in_class_body(self, node: ImportNode) -> bool:
        """Whether ``node`` runs in a class body (its names become attributes of the class and its instances)."""
        statement = self.statement_of.get(node)
        current = self.parents.get(statement) if statement is not None else None
        while current is not None and not isinstance(current, cst.FunctionDef | cst.ClassDef):
            current = self.parents.get(current)
        return isinstance(current, cst.ClassDef)

    def enclosing(self, statements: set[cst.BaseStatement]) -> set[cst.BaseStatement]:
        """``statements`` and every statement around them (the path a traversal must open to reach them)."""
        found: set[cst.BaseStatement] = set()
        for statement in statements:
            current: cst.BaseStatement | None = statement
            while current is not None and current not in found:
                found.add(current)
                current = self.parents.get(current)
        return found


def index_statements(
    module: cst.Module, package: str | None = None, table: MigrationMap | None = None
) -> StatementIndex:
    """The index of ``module``; ``package`` anchors its relative imports. With ``table``, a statement is
    marked when it holds an import that concerns a legacy module or a string spelling a legacy segment
    (without, every import statement is marked).

    It walks the tree itself (:func:`children`) instead of through a libcst visitor, which rebuilds every node
    it passes: the index reads the tree and never changes it, and it is on the hot path of every rewrite.
    """
    collector = _Collector(package, table)
    stack: list[tuple[cst.CSTNode, cst.BaseStatement | None]] = [(child, None) for child in children(module)]
    while stack:
        node, statement = stack.pop()
        if _is(type(node), cst.BaseStatement):
            collector.index.parents[cast(cst.BaseStatement, node)] = statement
            statement = cast(cst.BaseStatement, node)
        collector.statement = statement
        inner = collector.enter(node)
        stack.extend((child, statement) for child in (content_children(node) if inner is None else inner))
    return collector.index


# Every libcst node class has ABCMeta as its metaclass, so ``isinstance`` goes through the slow ABC machinery;
# the index asks it hundreds of thousands of times per file, so the answers are cached per class.
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
# there, so the index does not walk them (a test checks it still reaches every expression and statement).
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
    """The index rules: :meth:`enter` returns the children to walk next (``None``: all of them)."""

    def __init__(self, package: str | None, table: MigrationMap | None) -> None:
        self.package = package
        self.table = table
        self.segments = tuple(table.segments()) if table is not None else ()
        self.index = StatementIndex()
        self._loggers: set[cst.BaseExpression] = set()
        self.statement: cst.BaseStatement | None = None

    def enter(self, node: cst.CSTNode) -> list[cst.CSTNode] | None:
        kind = type(node)
        # Exact classes (compared with ``is``, no ABC check); ``cast`` costs nothing at run time.
        if kind is cst.Name:
            value = cast(cst.Name, node).value
            self._head(value)
            self.index.bare.add(value)
        elif kind is cst.Attribute:
            attribute = cast(cst.Attribute, node)
            dotted = dotted_name(attribute)
            if dotted is None:
                self.index.members.add(attribute.attr.value)
                return [attribute.value]  # ``f().attr``: the attribute name is not a use of a variable ``attr``
            self._head(dotted)
            self.index.chains.add(dotted)
            return []
        elif kind is cst.Arg:
            return [cast(cst.Arg, node).value]  # a keyword (``f(terma=1)``) names a parameter, not a variable
        elif kind is cst.Call:
            self._loggers.update(logger_names(cast(cst.Call, node)))
        elif kind is cst.SimpleString:
            self._string(cast(cst.SimpleString, node))
        elif kind is cst.Import:
            self._import(cast(cst.Import, node))
            return []  # the dotted names inside are handled whole, not as attribute uses
        elif kind is cst.ImportFrom:
            self._import_from(cast(cst.ImportFrom, node))
            return []
        return None

    def _string(self, node: cst.SimpleString) -> None:
        text = node.value
        if any(segment in text for segment in self.segments):
            self._mark()
            body = node.raw_value
            if node not in self._loggers and "b" not in node.prefix.lower() and is_dotted_name(body):
                self.index.dotted_strings.append(body)
        if "\\" in text:  # an escape may spell a name (``"\\x6d.helper"``): read what the string holds
            text = string_value(node) or ""
        for word in set(_WORD.findall(text)):  # a string annotation mentions its names, as far as we know
            self.index.words.add(word)
            self._head(word)

    def _mark(self) -> None:
        if self.statement is not None:
            self.index.marked.add(self.statement)

    def _head(self, dotted: str) -> None:
        if self.statement is not None:
            self.index.heads.setdefault(self.statement, set()).add(dotted.split(".", 1)[0])

    def _import(self, node: cst.Import) -> None:
        bound: list[str] = []
        concerns = False
        for alias in node.names:
            dotted = dotted_name(alias.name)
            concerns |= self._concerns_quietly(dotted, dotted.split(".", 1)[0] if dotted else None)
            name = alias_name(alias) or dotted
            if name is not None:
                bound.append(name.split(".", 1)[0])
        self._bound(node, bound, concerns)

    def _import_from(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        star = isinstance(node.names, cst.ImportStar)
        names = [] if isinstance(node.names, cst.ImportStar) else [dotted_name(alias.name) for alias in node.names]
        concerns = False
        if absolute is None:
            spelled = self.table is not None and any(map(self.table.mentions_segment, [module, *names]))
            if spelled or (node.relative and self.table is None):
                self._mark()  # the rewriter reports it as unresolved
        else:
            concerns = self._concerns_quietly(absolute, *(f"{absolute}.{name}" for name in names if name))
        bound = [
            name
            for alias in ([] if isinstance(node.names, cst.ImportStar) else node.names)
            if (name := alias_name(alias) or dotted_name(alias.name)) is not None
        ]
        if star and absolute is not None and self.table is not None:
            # ``from terma.core import *`` may bind ``llm_adapter``: the uses of that leaf matter too.
            bound += self.table.leaves_under(absolute)
        self._bound(node, bound, concerns)

    def _concerns_quietly(self, *modules: str | None) -> bool:
        return self.table is None or any(m is not None and self.table.touches(m) for m in modules)

    def _bound(self, node: ImportNode, names: list[str], concerns: bool) -> None:
        """Every import's bound names are heads of its statement (the scope analysis must see each binding
        of a relevant name); an import that concerns a legacy module is marked and makes its names relevant."""
        for name in names:
            self._head(name)
        if concerns:
            self._mark()
            self.index.imports.append(node)
            self.index.statement_of[node] = self.statement
            self.index.relevant.update(names)
