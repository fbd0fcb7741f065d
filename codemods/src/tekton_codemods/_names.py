"""Name resolution: what the imports, names, attributes and strings of one file may stand for, as absolute
dotted paths.

It is built on libcst's :class:`~libcst.metadata.FullyQualifiedNameProvider` (scope analysis plus the
file's own module name, so relative imports, ``as`` names, ``from pkg import core`` then
``core.llm_adapter`` and nested scopes resolve the way Python resolves them). On top of it come the
run-time spellings the provider does not model: star imports, ``getattr(owner, "name")`` and its mock
kin, ``importlib.import_module``/``__import__``/``sys.modules`` values, dotted strings (``mock.patch``
targets), ``__all__`` of a package. Only paths that spell a legacy module's last segment are kept, since
nothing else can reach one.

``cleanup`` reads the references (:func:`resolve_file`); ``inventory`` also asks what single expressions and
string annotations stand for (:class:`Names`, from :func:`resolve_names`), on the same resolved metadata.
``rewrite`` asks where the bindings its legacy imports make are read (:meth:`Names.reads`, on libcst's
:class:`~libcst.metadata.ScopeProvider`) and, for uses through a package, what a chain stands for
(:meth:`Names.paths`), on a copy of the file cut down to the statements that mention those names
(:func:`wrap_statements`); each provider runs only when a question needs it.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import libcst as cst
from libcst.helpers import ModuleNameAndPackage
from libcst.metadata import (
    BaseAssignment,
    BaseMetadataProvider,
    ClassScope,
    CodeRange,
    FullyQualifiedNameProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedName,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from ._dotted import dotted_name, string_value
from ._mapping import MigrationMap, is_dotted_name
from ._modules import resolve_relative
from ._statements import ImportNode
from ._strings import LOGGER_KEYWORDS

_Meta = TypeVar("_Meta")
RefKind = Literal["import", "name", "string", "prefix", "unresolved"]

# Calls whose second argument names an attribute of their first.
_ATTRIBUTE_CALLS = frozenset({"getattr", "setattr", "hasattr", "delattr", "object"})
_IMPORT_CALLS = frozenset({"import_module", "__import__"})


@dataclass(frozen=True)
class Ref:
    """One spelling that may reach a module: ``path`` is absolute (``kind`` "import", "name", "string"), the
    static start of an f-string ("prefix"), or the segment a relative import that cannot be resolved spells
    ("unresolved"). ``code`` is what the file says, for messages."""

    line: int
    kind: RefKind
    path: str
    code: str


@dataclass(frozen=True)
class Read:
    """One read that may reach an import's binding: the name read (or the string annotation it is read in),
    the parts of the name chain it heads (``("m", "X", "y")`` for ``m.X.y()``), and every statement part
    (imports, assignments, parameters…) that may have bound the name there."""

    node: cst.Name | cst.SimpleString
    parts: tuple[str, ...]
    binders: frozenset[cst.CSTNode]


@dataclass
class FileRefs:
    """Every spelling in one file that may reach a legacy module."""

    path: str
    refs: list[Ref] = field(default_factory=list)


# libcst raises for a relative import that climbs above the top-level package (Python raises too, when it
# runs). The package handed to the provider is put under this deep sentinel, so such an import resolves
# into the sentinel and is dropped, while one that stays inside the package gets its real name back.
_ABOVE = ".".join(f"__above{depth}__" for depth in range(16))


def wrap(module: cst.Module, own: str | None, package: str | None) -> MetadataWrapper:
    """A metadata wrapper that knows the file's module name, so qualified names come out absolute."""
    naming = ModuleNameAndPackage(own or "__main__", f"{_ABOVE}.{package}" if package else _ABOVE)
    return MetadataWrapper(module, unsafe_skip_copy=True, cache={FullyQualifiedNameProvider: naming})


def wrap_statements(module: cst.Module, keep: set[cst.BaseStatement], package: str | None) -> MetadataWrapper:
    """:func:`wrap` over a copy of ``module`` that holds only the statements in ``keep`` (the bodies of the
    compound statements kept are cut down the same way; their headers stay whole).

    A statement that does not mention a name neither binds nor reads it, so for every name the kept
    statements mention, the scope analysis of this copy is the analysis of the whole module, on a small part
    of it (a rewrite keeps the statements that mention the names its legacy imports bind). Everything inside
    a kept statement is the module's own node, so what the metadata says of it answers for the original
    (only line numbers differ) — except the kept compound statements themselves, which are copies: ask
    about their parts, never about them.
    """
    body = [_cut(statement, keep) for statement in module.body if statement in keep]
    return wrap(module.with_changes(body=body), None, package)


_Node = TypeVar("_Node", bound=cst.CSTNode)
_CLAUSES = (cst.Else, cst.Finally, cst.If, cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase)


def _cut(node: _Node, keep: set[cst.BaseStatement]) -> _Node:
    """``node`` with the statements of its blocks that are not in ``keep`` left out (a block left empty
    holds ``pass``); its clauses (``else``, ``except``, ``case``, ``elif``…) are cut the same way."""
    changes: dict[str, object] = {}
    for spec in dataclasses.fields(node):
        value = getattr(node, spec.name)
        if isinstance(value, cst.IndentedBlock):
            body = [_cut(inner, keep) for inner in value.body if inner in keep]
            changes[spec.name] = value.with_changes(body=body or [cst.SimpleStatementLine([cst.Pass()])])
        elif isinstance(value, _CLAUSES):
            changes[spec.name] = _cut(value, keep)
        elif isinstance(value, list | tuple) and value and isinstance(value[0], _CLAUSES):
            changes[spec.name] = [_cut(clause, keep) for clause in value]
    return node.with_changes(**changes) if changes else node


def _string_chains(node: cst.SimpleString) -> list[str]:
    """The outermost name chains of a string annotation (``"Optional[m.X]"``: ``Optional``, ``m.X``)."""
    value = string_value(node)
    try:
        expression = cst.parse_expression(value.strip()) if value is not None else None
    except cst.ParserSyntaxError:
        return []
    chains: list[str] = []
    if expression is not None:
        expression.visit(_Chains(chains))
    return chains


def _constant(node: cst.CSTNode) -> bool:
    """``None``, ``True`` or ``False``: what an identity test of a module is against when it only tests."""
    return isinstance(node, cst.Name) and node.value in ("None", "True", "False")


def _visible(scope: Scope, head: str) -> set[BaseAssignment]:
    """The bindings a read of ``head`` in ``scope`` may find, wherever they are made in their scope.

    A class body that binds ``head`` itself reads it by name at run time: from the class namespace, and
    from the module when the class has not bound it yet (or deleted it, or bound it conditionally) — never
    from an enclosing function. libcst gives the class's bindings alone."""
    found = set(scope[head])
    if isinstance(scope, ClassScope) and head in scope.assignments:
        found |= set(scope.globals[head])
    return found


def _may_be_unbound(scope: Scope, head: str) -> bool:
    if isinstance(scope, ClassScope) and head in scope.assignments:
        return not scope.globals[head]
    return not scope[head]


def _node_of(binding: BaseAssignment) -> cst.CSTNode | None:
    """The statement part that makes a binding (an import, an assignment target, a ``def``…)."""
    node = getattr(binding, "node", None)
    return node if isinstance(node, cst.CSTNode) else None


def _real(name: str, package: str | None) -> str | None:
    """A provider's qualified name with the sentinel taken off, or ``None`` for an impossible import."""
    if not name.startswith(_ABOVE):
        return name
    rest = name[len(_ABOVE) + 1 :]
    top = package.split(".", 1)[0] if package else None
    return rest if top is not None and rest.startswith(top + ".") else None


def resolve_file(
    path: str, wrapper: MetadataWrapper, table: MigrationMap, package: str | None, own: str | None, is_package: bool
) -> FileRefs:
    """The references of one parsed file (metadata resolved once, on ``wrapper``)."""
    return resolve_names(path, wrapper, table, package, own, is_package)[0]


def resolve_names(
    path: str, wrapper: MetadataWrapper, table: MigrationMap, package: str | None, own: str | None, is_package: bool
) -> tuple[FileRefs, Names]:
    """The references of one parsed file, and its :class:`Names` for questions about single expressions."""
    names = Names(wrapper, package, own)
    resolver = _Resolver(table, names, own if is_package else None)
    wrapper.visit(resolver)
    return FileRefs(path, resolver.result), names


class Names:
    """What the expressions of one parsed file stand for, as absolute dotted paths.

    Built from the wrapper's resolved metadata (computed once per file); the star imports and dynamic
    imports that the provider does not model are filled in by the resolver's walk."""

    def __init__(
        self, wrapper: MetadataWrapper | Callable[[], MetadataWrapper], package: str | None, own: str | None
    ) -> None:
        self.package = package
        self.own = own
        self._wrap = wrapper
        self.stars: list[str] = []
        self.dynamic: dict[str, set[str]] = {}  # name -> modules assigned to it at run time

    # The wrapper is made (when given as a function) and each provider runs on first use, and the wrapper keeps
    # what it computed: a rewrite asks only some questions, most files none.
    @functools.cached_property
    def _wrapper(self) -> MetadataWrapper:
        return self._wrap if isinstance(self._wrap, MetadataWrapper) else self._wrap()

    def _resolve(self, provider: type[BaseMetadataProvider[_Meta]]) -> Mapping[cst.CSTNode, _Meta]:
        """Resolve ``provider``'s metadata quietly: libcst evaluates string annotations, and an invalid escape in
        one (``"X\\d"``) is the user's code, whose SyntaxWarning must not print from our tool."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._wrapper.resolve(provider)

    @functools.cached_property
    def _qualified(self) -> Mapping[cst.CSTNode, Collection[QualifiedName]]:
        return self._resolve(FullyQualifiedNameProvider)

    @functools.cached_property
    def _scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        return self._resolve(ScopeProvider)

    @functools.cached_property
    def _positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        return self._resolve(PositionProvider)

    @functools.cached_property
    def _parents(self) -> Mapping[cst.CSTNode, cst.CSTNode]:
        return self._resolve(ParentNodeProvider)

    # -- where the bindings of an import are read (scope analysis) --------------------------------------

    @functools.cached_property
    def _reads(self) -> dict[str, list[tuple[cst.Name | cst.SimpleString, tuple[str, ...], Scope]]]:
        """Every read of a name, by the head of its name chain (``a`` of ``a.b.c``): the name read (or the
        string annotation it is read in), the chain's parts, and the scope it is read in."""
        found: dict[str, list[tuple[cst.Name | cst.SimpleString, tuple[str, ...], Scope]]] = {}
        scopes = {id(scope): scope for scope in self._scopes.values() if scope is not None}
        strings: set[cst.SimpleString] = set()
        for scope in scopes.values():
            for access in scope.accesses:
                head: cst.CSTNode = access.node  # libcst moves it to the attribute when an import binds a dotted name
                while isinstance(head, cst.Attribute):
                    head = head.value
                if isinstance(head, cst.Name):
                    parts = (head.value, *(attribute.attr.value for attribute in self.chain(head)))
                    found.setdefault(head.value, []).append((head, parts, access.scope))
                elif isinstance(head, cst.SimpleString) and head not in strings:
                    strings.add(head)  # a string annotation: libcst records each name in it on the string
                    for chain in _string_chains(head):
                        parts = tuple(chain.split("."))
                        found.setdefault(parts[0], []).append((head, parts, access.scope))
        return found

    def reads(self, node: ImportNode, head: str) -> list[Read]:
        """Every read of ``head`` that Python may resolve to the binding the import ``node`` makes of it.

        A read counts wherever the name may stand for that binding — in the import's scope, in nested
        functions that see it, through ``global`` — before or after the import (a loop reads it again).
        libcst's own links are narrower on both counts: they drop bindings made later in the same scope,
        and link ``a.b.c`` to ``import a.b.c`` even in a function whose parameter is ``a``. So the head of
        each read is resolved again here, in the scope it is read in, position-blind."""
        found: list[Read] = []
        for name, parts, scope in self._reads.get(head, ()):
            binders = {bound for binding in _visible(scope, head) if (bound := _node_of(binding)) is not None}
            if node in binders:
                found.append(Read(name, parts, frozenset(binders)))
        return found

    def declared_outside(self, node: ImportNode, head: str) -> bool:
        """Whether the import ``node`` binds ``head`` in another scope than its own (``global``/``nonlocal``)."""
        scope = self._scopes.get(node)
        return scope is not None and any(
            _node_of(binding) is node and binding.scope is not scope for binding in scope[head]
        )

    def chain(self, name: cst.Name) -> list[cst.Attribute]:
        """The attributes of the pure name chain ``name`` heads, innermost first (``a.b``, ``a.b.c``)."""
        found: list[cst.Attribute] = []
        current: cst.CSTNode = name
        while isinstance(parent := self._parents.get(current), cst.Attribute) and parent.value is current:
            found.append(parent)
            current = parent
        return found

    def spelled(self, read: Read, depth: int) -> cst.Name | cst.Attribute | None:
        """The node that spells the first ``depth`` parts of ``read`` (``None`` inside a string)."""
        if not isinstance(read.node, cst.Name):
            return None
        return self.chain(read.node)[depth - 2] if depth > 1 else read.node

    def attribute_named(self, node: cst.CSTNode) -> str | None:
        """``"X"`` when ``node`` is the owner in ``getattr(node, "X")`` (or ``hasattr``, ``setattr``,
        ``delattr``, ``patch.object``, ``monkeypatch.setattr``): a read of ``node.X`` spelled as a call."""
        arg = self._parents.get(node)
        call = self._parents.get(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(arg, cst.Arg) or not isinstance(call, cst.Call) or arg.keyword is not None:
            return None
        positional = [a for a in call.args if a.keyword is None and not a.star]
        callee = (dotted_name(call.func) or "").rpartition(".")[2]
        if callee not in _ATTRIBUTE_CALLS or len(positional) < 2 or positional[0] is not arg:
            return None
        return string_value(positional[1].value)

    def only_tested(self, node: cst.CSTNode) -> bool:
        """Whether the value of ``node`` is only tested for truth or identity (``if m:``, ``not m``,
        ``m is None``, ``del m``), so nothing can be read from it through this use. ``m == x`` and ``m in x``
        hand it to user code, and are not."""
        parent = self._parents.get(node)
        while isinstance(parent, cst.BooleanOperation) or (
            isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not)
        ):
            if isinstance(parent, cst.UnaryOperation):
                return True  # ``not m`` is a bool
            node, parent = parent, self._parents.get(parent)  # ``m and x`` is ``m`` or ``x``: follow it
        if isinstance(parent, cst.If | cst.While | cst.Assert | cst.IfExp):
            return parent.test is node
        if isinstance(parent, cst.Comparison) and parent.left is node:
            pairs = [(target.operator, target.comparator) for target in parent.comparisons]
        elif isinstance(parent, cst.ComparisonTarget) and parent.comparator is node:
            comparison = self._parents.get(parent)
            other = comparison.left if isinstance(comparison, cst.Comparison) else node
            pairs = [(parent.operator, other)]
        else:
            return isinstance(parent, cst.Del)
        return all(isinstance(op, cst.Is | cst.IsNot) and _constant(other) for op, other in pairs)

    def unbound_reads(self, head: str) -> bool:
        """Whether ``head`` is read somewhere no binding may reach (a star import may bind it there)."""
        return any(_may_be_unbound(scope, head) for _, _, scope in self._reads.get(head, ()))

    def line(self, node: cst.CSTNode) -> int:
        """The line ``node`` starts on."""
        return self._positions[node].start.line

    def paths(self, node: cst.BaseExpression) -> set[str]:
        """Absolute paths ``node`` may evaluate to."""
        found: set[str] = set()
        if isinstance(node, cst.Name | cst.Attribute):
            qualified = self._qualified.get(node, set())
            found = {name for name in (_real(q.name, self.package) for q in qualified) if name}
        if isinstance(node, cst.Name):
            found |= self.dynamic.get(node.value, set())
            if not found:
                found = {f"{star}.{node.value}" for star in self.stars}
        elif isinstance(node, cst.Attribute):
            found |= {f"{owner}.{node.attr.value}" for owner in self.paths(node.value)}
        else:
            found |= called_module(node)
        return {path for path in found if "<locals>" not in path}

    def annotation_paths(self, node: cst.SimpleString) -> dict[str, set[str]]:
        """For a string annotation (``"LLMAdapter"``, ``"m.LLMAdapter"``): each dotted name it spells, and
        the absolute paths that name has in the scope the string sits in."""
        scope = self._scopes.get(node)
        if scope is None:
            return {}
        return {
            chain: {p for p in (self._absolute(q) for q in scope.get_qualified_names_for(chain)) if p}
            for chain in _string_chains(node)
        }

    def _absolute(self, qualified: QualifiedName) -> str | None:
        """A scope's qualified name made absolute, as the provider does for nodes."""
        name = qualified.name
        if qualified.source is QualifiedNameSource.LOCAL:
            return None if "<locals>" in name else f"{self.own or '__main__'}.{name}"
        rest = name.lstrip(".")
        if rest == name:
            return name
        return resolve_relative(self.package, len(name) - len(rest), rest)


class _Chains(cst.CSTVisitor):
    """The outermost pure name chains under a node."""

    def __init__(self, found: list[str]) -> None:
        super().__init__()
        self.found = found

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is None:
            return True
        self.found.append(dotted)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node.value)


class _Resolver(cst.CSTVisitor):
    def __init__(self, table: MigrationMap, names: Names, package_self: str | None) -> None:
        super().__init__()
        self.table = table
        self.names = names
        self.segments = table.segments()
        self.package_self = package_self  # the package this ``__init__`` is, for ``__all__``
        self.refs: list[Ref] = []
        self.pending: list[cst.Name | cst.Attribute] = []
        self.pending_calls: list[tuple[cst.Call, cst.BaseExpression, str]] = []
        self._quiet: set[cst.SimpleString] = set()  # docstrings and logger names
        self._all: set[cst.SimpleString] = set()
        self.result: list[Ref] = []

    # -- helpers -------------------------------------------------------------------------------------

    def _add(self, node: cst.CSTNode, kind: RefKind, path: str, code: str) -> None:
        if self.table.mentions_segment(path) or kind in ("prefix", "unresolved"):
            self.refs.append(Ref(self.names.line(node), kind, path, code))

    def _spells(self, text: str | None) -> bool:
        return self.table.mentions_segment(text)

    # -- imports -------------------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if dotted is not None:
                self._add(node, "import", dotted, f"import {dotted}")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.names.package, len(node.relative), module)
        names = [] if isinstance(node.names, cst.ImportStar) else [dotted_name(a.name) or "" for a in node.names]
        code = f"from {'.' * len(node.relative)}{module or ''} import {', '.join(names) or '*'}"
        if absolute is None:
            for segment in sorted(s for s in self.segments if self._spells(module) or any(map(self._spells, names))):
                self._add(node, "unresolved", segment, code)
            return False
        self._add(node, "import", absolute, code)
        if isinstance(node.names, cst.ImportStar):
            self.names.stars.append(absolute)
        for name in names:
            self._add(node, "import", f"{absolute}.{name}", code)
        return False

    # -- names and attributes, resolved once the whole file is seen -------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.segments:
            self.pending.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self.segments:
            self.pending.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = [dotted_name(t.target) for t in node.targets]
        modules = called_module(node.value)
        for target in targets:
            if target is not None and "." not in target and modules:
                self.names.dynamic.setdefault(target, set()).update(modules)
        if "__all__" in targets and isinstance(node.value, cst.List | cst.Tuple):
            self._all.update(e.value for e in node.value.elements if isinstance(e.value, cst.SimpleString))

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted_name(node.func) or ""
        last = callee.rpartition(".")[2]
        if last == "getLogger" and node.args and isinstance(node.args[0].value, cst.SimpleString):
            self._quiet.add(node.args[0].value)
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword in LOGGER_KEYWORDS and isinstance(arg.value, cst.SimpleString):
                self._quiet.add(arg.value)
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        if last in _ATTRIBUTE_CALLS and positional:
            name = positional[1] if len(positional) >= 2 else keywords.get("name")
            if isinstance(name, cst.SimpleString) and self._spells(name.raw_value):
                self.pending_calls.append((node, positional[0], name.raw_value))
        if last in _IMPORT_CALLS:
            for module in self._relative_import_call(positional, keywords):
                self._add(node, "name", module, callee)

    def _relative_import_call(
        self, positional: list[cst.BaseExpression], keywords: dict[str, cst.BaseExpression]
    ) -> list[str]:
        """``import_module(".llm_adapter", package="hermes.core")``: the relative name, resolved."""
        if not positional or not isinstance(positional[0], cst.SimpleString):
            return []
        text = positional[0].raw_value
        anchor = keywords.get("package", positional[1] if len(positional) > 1 else None)
        if not text.startswith(".") or not isinstance(anchor, cst.SimpleString):
            return []
        rest = text.lstrip(".")
        resolved = resolve_relative(anchor.raw_value, len(text) - len(rest), rest or None)
        return [resolved] if resolved else []

    # -- strings -------------------------------------------------------------------------------------

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.SimpleString):
            self._quiet.add(node.value)  # a docstring is evaluated and thrown away

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node in self._quiet or "b" in node.prefix.lower():
            return
        value = node.raw_value
        if not is_dotted_name(value) or not self._spells(value):
            return
        if node in self._all and self.package_self:
            self._add(node, "name", f"{self.package_self}.{value}", f"__all__ entry {value!r}")
        self._add(node, "string", value, repr(value))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        first = node.parts[0] if node.parts else None
        if isinstance(first, cst.FormattedStringText) and len(node.parts) > 1:
            text = first.value
            if is_dotted_name(text.rstrip(".")) and self._spells(text):
                self._add(node, "prefix", text, f"f-string {text!r}…")

    # -- the whole file ------------------------------------------------------------------------------

    def leave_Module(self, original_node: cst.Module) -> None:
        """Names are resolved last: a star import or a dynamic import may come after the use."""
        for node in self.pending:
            for path in sorted(self.names.paths(node)):
                self._add(node, "name", path, _code(node))
        for call, owner, name in self.pending_calls:
            for path in sorted(self.names.paths(owner)):
                self._add(call, "name", f"{path}.{name}", f"{_code(call.func)}(…, {name!r})")
        self.result = sorted(set(self.refs), key=lambda ref: (ref.line, ref.kind, ref.path))


def _code(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=()).code_for_node(node).split())
    return text if len(text) <= 60 else text[:59] + "…"


def under(path: str, module: str) -> bool:
    """``path`` is ``module`` or something inside it."""
    return path == module or path.startswith(module + ".")


def called_module(value: cst.BaseExpression) -> set[str]:
    """Modules a call like ``importlib.import_module("a.b")`` or ``sys.modules["a.b"]`` returns."""
    if isinstance(value, cst.Subscript):
        element = value.slice[0].slice if len(value.slice) == 1 else None
        indexed = isinstance(element, cst.Index) and isinstance(element.value, cst.SimpleString)
        if indexed and dotted_name(value.value) in ("sys.modules", "modules"):
            assert isinstance(element, cst.Index) and isinstance(element.value, cst.SimpleString)
            return {element.value.raw_value}
        return set()
    args = [a.value for a in value.args if a.keyword is None and not a.star] if isinstance(value, cst.Call) else []
    if not args or not isinstance(args[0], cst.SimpleString) or not is_dotted_name(args[0].raw_value):
        return set()
    assert isinstance(value, cst.Call)
    name, callee = args[0].raw_value, dotted_name(value.func) or ""
    if callee.rpartition(".")[2] == "import_module" or callee in ("sys.modules.get", "modules.get"):
        return {name}
    # ``__import__`` returns the top package, or the module itself when given a fromlist.
    return {name, name.split(".", 1)[0]} if callee == "__import__" else set()
