"""Accounting for every spelling of a legacy module's last segment, so that cleanup deletes only on proof.

A legacy module can be reached without any import naming it: ``from terma import core`` and then
``core.llm_adapter``, ``getattr(package, "llm_adapter")``, ``import_module(".llm_adapter", package=…)``,
``from terma.core import *`` and then ``llm_adapter``. Every one of those spells the module's last
segment, so the rule is: a file keeps a legacy module alive when its text contains that segment,
unless every occurrence is positively explained — a comment, a docstring, a longer identifier, a name
this file binds itself, an import or a dotted string that names some other module, ``self.llm_adapter``.
An occurrence that is not explained is a :class:`Doubt`, and a doubt keeps the module (and says why).

An attribute *of a module that cannot be the legacy module's parent package* is explained too:
``llm_endpoints.llm_adapter`` after ``from hermes.api import llm_endpoints``, ``getattr``/``setattr``/
``monkeypatch.setattr``/``mock.patch.object`` on such a module with the name as a string, and
``mock.patch``/``monkeypatch.setattr`` targets like ``"hermes.api.llm_endpoints.llm_adapter"``. Such an
attribute can only be the legacy module if something imported it (a submodule becomes an attribute of its
package, not of other modules, only when some code imports it by a name that spells the segment), and that
import is a reference or a doubt of its own in the file that makes it. The owner must resolve through this
file's imports (no other binding, no star import, no unresolvable relative import); any other owner, and
any owner that is or may be (under a shorter or longer name) a legacy module's parent, stays a doubt.

The occurrences found in the syntax tree are counted against the occurrences in the text; any
difference (a construct this module does not know) is a doubt too, so unknown syntax can only make
cleanup keep more.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ._dotted import code_of, dotted_name
from ._mapping import MigrationMap, is_dotted_name
from ._modules import resolve_relative
from ._source import source_lines

_Verdict = Literal["ref", "other", "doubt"]

# Calls whose second argument names an attribute of their first: ``getattr(owner, "llm_adapter")``.
_ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_ATTRIBUTE_MOCKS = frozenset({"unittest.mock.patch.object", "mock.patch.object"})
# Calls whose first argument is a dotted target ``"package.module.attribute"``.
_TARGET_MOCKS = frozenset({"unittest.mock.patch", "mock.patch"})
# pytest's fixture, known by its conventional parameter name; it takes both forms.
_FIXTURE_SETATTR = "monkeypatch.setattr"
_CALLEE_ENDINGS = frozenset({*_ATTRIBUTE_BUILTINS, "object", "patch"})


@dataclass(frozen=True)
class Doubt:
    """An occurrence of ``segment`` that might reach any legacy module ending in it."""

    line: int
    segment: str
    reason: str


@dataclass
class Evidence:
    """What one file proves about the legacy modules: which it certainly uses, and what is unclear."""

    path: str
    references: set[str] = field(default_factory=set)
    doubts: list[Doubt] = field(default_factory=list)


def gather_evidence(
    path: str, text: str, wrapper: MetadataWrapper, table: MigrationMap, package: str | None, own: str | None
) -> Evidence:
    """Classify every occurrence of a mapped module's last segment in one parsed file."""
    segments = sorted(segment for segment in table.segments() if segment in text)
    evidence = Evidence(path)
    if not segments:
        return evidence
    accountant = _Accountant(table, segments, package, own)
    wrapper.visit(accountant)
    accountant.finish(text, evidence)
    return evidence


def _occurrences(text: str, segment: str) -> int:
    count, start = 0, text.find(segment)
    while start != -1:
        count += 1
        start = text.find(segment, start + 1)
    return count


def _word(segment: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(segment)}(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class _Deferred:
    """An occurrence whose meaning depends on the whole file (bindings, star imports)."""

    line: int
    segment: str
    kind: Literal["load", "chain", "self", "attribute-name", "patch-target"]
    dotted: str  # the name or chain; the owner for "attribute-name"; the string for "patch-target"
    callee: str = ""  # the call a string is passed to, for the last two kinds


class _Accountant(cst.CSTVisitor):
    """One pass that gives every spelling of a segment a verdict (reference, explained, doubt) or defers it
    to :meth:`finish` when the answer depends on bindings elsewhere in the file."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, table: MigrationMap, segments: Sequence[str], package: str | None, own: str | None) -> None:
        super().__init__()
        self.table = table
        self.segments = segments
        self.package = package
        self.own = own
        self.words = {segment: _word(segment) for segment in segments}
        self.accounted: Counter[str] = Counter()
        self.spans: list[tuple[int, int]] = []
        self.references: set[str] = set()
        self.doubts: list[Doubt] = []
        self.deferred: list[_Deferred] = []
        # What the whole file binds, for the deferred decisions.
        self.import_paths: dict[str, set[str]] = {}
        self.other_bindings: Counter[str] = Counter()
        self.param_bindings: Counter[str] = Counter()
        self.plain_modules: set[str] = set()
        self.star_imports: list[str] = []
        self.unresolved_names: set[str] = set()  # bound by a relative import that cannot be resolved
        # Nodes whose role is known from their parent.
        self._handled: set[cst.CSTNode] = set()
        self._bindings: set[cst.CSTNode] = set()
        self._params: set[cst.CSTNode] = set()
        self._inert: set[cst.CSTNode] = set()
        self._stored_attributes: set[cst.CSTNode] = set()
        self._discarded: set[cst.CSTNode] = set()
        self._attribute_names: dict[cst.CSTNode, tuple[str, str]] = {}  # string -> (callee, owner chain)
        self._patch_targets: dict[cst.CSTNode, str] = {}  # string -> callee
        self._scopes: list[str | None] = []  # per function: the name of ``self``/``cls`` when it is a method
        self._class_depth: list[int] = [0]

    # -- bookkeeping ---------------------------------------------------------------------------------

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _take(self, node: cst.CSTNode, text: str) -> list[str]:
        """The segments spelled in ``text`` (the source of ``node``); their occurrences are now accounted."""
        found = [segment for segment in self.segments if segment in text]
        if found:
            position = self.get_metadata(PositionProvider, node)
            self.spans.append((position.start.line, position.end.line))
            for segment in found:
                self.accounted[segment] += _occurrences(text, segment)
        return found

    def _verdict(self, node: cst.CSTNode, segment: str, verdict: _Verdict, detail: str) -> None:
        if verdict == "ref":
            self.references.add(detail)
        elif verdict == "doubt":
            self.doubts.append(Doubt(self._line(node), segment, detail))

    def _module_verdict(self, module: str) -> tuple[_Verdict, str]:
        """What importing ``module`` (a name the import system resolves) means for cleanup."""
        match = self.table.match(module)
        if match is not None:
            return "ref", match.legacy
        keys = self.table.keys_ending_with(module)
        if keys:
            return "doubt", f"{module} may be {' or '.join(keys)} imported under a shorter name"
        return "other", ""

    # -- tokens that cannot reach a module -----------------------------------------------------------

    def visit_Comment(self, node: cst.Comment) -> None:
        self._take(node, node.value)

    def visit_Expr(self, node: cst.Expr) -> None:
        """A string statement (a docstring) is evaluated and thrown away: it cannot name anything."""
        pending: list[cst.BaseExpression] = [node.value]
        while pending:
            value = pending.pop()
            if isinstance(value, cst.SimpleString):
                self._discarded.add(value)
            elif isinstance(value, cst.ConcatenatedString):
                pending += [value.left, value.right]

    # -- strings -------------------------------------------------------------------------------------

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        for segment in self._take(node, node.value):
            if node in self._discarded or "b" in node.prefix.lower():
                continue
            value = node.raw_value
            if is_dotted_name(value):
                match = self.table.match(value)
                if match is not None:
                    self._verdict(node, segment, "ref", match.legacy)
                elif segment in value.split("."):
                    self._dotted_string(node, segment, value)
            elif self.words[segment].search(value):
                self._verdict(node, segment, "doubt", f"string {_short(value)!r} may name it")

    def _dotted_string(self, node: cst.SimpleString, segment: str, value: str) -> None:
        """A doubt, unless it is an attribute name or a patch target whose owner the whole file may clear."""
        if value == segment and node in self._attribute_names:
            callee, owner = self._attribute_names[node]
            self.deferred.append(_Deferred(self._line(node), segment, "attribute-name", owner, callee))
        elif node in self._patch_targets:
            callee = self._patch_targets[node]
            self.deferred.append(_Deferred(self._line(node), segment, "patch-target", value, callee))
        else:
            self._verdict(node, segment, "doubt", f"string {value!r} may name it")

    def visit_Call(self, node: cst.Call) -> None:
        """Note the strings that may be an attribute name or a patch target (visited after this call).

        Whether the callee really is ``getattr``/``monkeypatch.setattr``/``mock.patch…`` and what the owner
        is depend on bindings anywhere in the file, so they are decided in :meth:`finish`.
        """
        callee = dotted_name(node.func)
        if callee is None or callee.rpartition(".")[2] not in _CALLEE_ENDINGS:
            return
        positional: list[cst.BaseExpression] = []
        for arg in node.args:
            if arg.keyword is not None or arg.star:
                break
            positional.append(arg.value)
        if positional and isinstance(positional[0], cst.SimpleString):
            self._patch_targets[positional[0]] = callee
        elif len(positional) >= 2 and isinstance(positional[1], cst.SimpleString):
            owner = dotted_name(positional[0])
            if owner is not None:
                self._attribute_names[positional[1]] = (callee, owner)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        for segment in self._take(node, node.value):
            if self.words[segment].search(node.value):
                self._verdict(node, segment, "doubt", f"f-string text {_short(node.value)!r} may build its name")

    # -- imports -------------------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            self._handled.update(_names_in(alias.name))
            self._import_alias(alias)
            if dotted is None:
                continue
            if alias.asname is not None:
                self._bind_import(dotted_name(alias.asname.name), dotted)
            else:
                self.plain_modules.add(dotted)
                top = dotted.split(".", 1)[0]
                self._bind_import(top, top)
            parts = dotted.split(".")
            for index, part in enumerate(parts):
                for segment in self._take(alias.name, part):
                    if part == segment:
                        self._verdict(node, segment, *self._module_verdict(".".join(parts[: index + 1])))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        if node.module is not None:
            self._handled.update(_names_in(node.module))
            self._module_part(node, module or "", absolute)
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.append(absolute or f"{'.' * len(node.relative)}{module or ''}")
            return
        for alias in node.names:
            self._handled.update(_names_in(alias.name))
            self._import_alias(alias)
            name = dotted_name(alias.name) or ""
            bound = dotted_name(alias.asname.name) if alias.asname is not None else name
            self._bind_import(bound, f"{absolute}.{name}" if absolute is not None else None)
            for segment in self._take(alias.name, name):
                if name != segment:
                    continue
                if absolute is None:
                    self._verdict(node, segment, "doubt", "cannot resolve this relative import; pass --source-root")
                    continue
                verdict, detail = self._module_verdict(f"{absolute}.{name}")
                if verdict == "other":
                    verdict, detail = "doubt", f"imports {name} from {absolute}, which may hand out a legacy module"
                self._verdict(node, segment, verdict, detail)

    def _module_part(self, node: cst.ImportFrom, module: str, absolute: str | None) -> None:
        parts = module.split(".") if module else []
        offset = len(absolute.split(".")) - len(parts) if absolute is not None else 0
        for index, part in enumerate(parts):
            for segment in self._take(node.module or node, part):
                if part != segment:
                    continue
                if absolute is None:
                    self._verdict(node, segment, "doubt", "cannot resolve this relative import; pass --source-root")
                else:
                    prefix = ".".join(absolute.split(".")[: offset + index + 1])
                    self._verdict(node, segment, *self._module_verdict(prefix))

    def _import_alias(self, alias: cst.ImportAlias) -> None:
        """The ``as`` name of an import only binds; what it binds is judged from the imported path."""
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            self._handled.add(alias.asname.name)
            self._take(alias.asname.name, alias.asname.name.value)

    def _bind_import(self, bound: str | None, path: str | None) -> None:
        if bound is None:
            return
        paths = self.import_paths.setdefault(bound, set())
        if path is not None:
            paths.add(path)
        else:
            self.unresolved_names.add(bound)

    # -- bindings and other positions where a name is not a use --------------------------------------

    def _targets(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._bindings.add(target)
        elif isinstance(target, cst.Attribute):
            self._stored_attributes.add(target)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._targets(element.value)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._targets(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._targets(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._targets(node.name)

    def visit_Param(self, node: cst.Param) -> None:
        self._params.add(node.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bindings.add(node.name)
        self._class_depth.append(len(self._scopes))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_depth.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bindings.add(node.name)
        in_class = self._class_depth[-1] == len(self._scopes) and len(self._class_depth) > 1
        static = any((dotted_name(d.decorator) or "").endswith("staticmethod") for d in node.decorators)
        first = [*node.params.posonly_params, *node.params.params][:1]
        self._scopes.append(first[0].name.value if in_class and not static and first else None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    def visit_Global(self, node: cst.Global) -> None:
        self._inert.update(item.name for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self._inert.update(item.name for item in node.names)

    def visit_Del(self, node: cst.Del) -> None:
        if isinstance(node.target, cst.Name):
            self._inert.add(node.target)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._inert.add(node.keyword)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bindings.add(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bindings.add(node.name)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bindings.add(node.rest)

    # -- names and attributes ------------------------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        if node in self._handled:
            return
        if node in self._bindings:
            self.other_bindings[node.value] += 1
        elif node in self._params:
            self.param_bindings[node.value] += 1
        for segment in self._take(node, node.value):
            if node.value != segment or node in self._bindings or node in self._params or node in self._inert:
                continue  # a longer identifier, or a binding / declaration / keyword of this name
            self.deferred.append(_Deferred(self._line(node), segment, "load", segment))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr
        if attr in self._handled:
            return  # part of an imported module path
        self._handled.add(attr)
        for segment in self._take(attr, attr.value):
            if attr.value != segment or node in self._stored_attributes:
                continue  # another attribute, or an assignment to this one
            dotted = dotted_name(node)
            if dotted is None:
                reason = f"{_short(code_of(node))}: cannot tell whether the owner is a package containing {segment}"
                self._verdict(node, segment, "doubt", reason)
                continue
            owner, _, _ = dotted.rpartition(".")
            is_self = "." not in owner and self._scopes and self._scopes[-1] == owner
            self.deferred.append(_Deferred(self._line(node), segment, "self" if is_self else "chain", dotted))

    # -- decisions that need the whole file ----------------------------------------------------------

    def finish(self, text: str, evidence: Evidence) -> None:
        for item in self.deferred:
            verdict, detail = self._decide(item)
            if verdict == "ref":
                self.references.add(detail)
            elif verdict == "doubt":
                self.doubts.append(Doubt(item.line, item.segment, detail))
        for segment in self.segments:
            missing = _occurrences(text, segment) - self.accounted[segment]
            if missing:
                line = self._first_unexplained_line(text, segment)
                self.doubts.append(Doubt(line, segment, f"{segment} is spelled in a construct not analysed"))
        evidence.references = set(self.references)
        evidence.doubts = sorted(set(self.doubts), key=lambda d: (d.line, d.segment, d.reason))

    def _decide(self, item: _Deferred) -> tuple[_Verdict, str]:
        if item.kind == "load":
            return self._decide_load(item.segment)
        if item.kind == "self":
            owner = item.dotted.split(".", 1)[0]
            if not self.other_bindings[owner] and owner not in self.import_paths:
                return "other", ""
            return "doubt", f"{item.dotted}: '{owner}' is rebound in this file"
        if item.kind == "attribute-name":
            return self._decide_attribute_name(item)
        if item.kind == "patch-target":
            return self._decide_patch_target(item)
        return self._decide_chain(item.dotted, item.segment)

    def _decide_load(self, segment: str) -> tuple[_Verdict, str]:
        """A bare ``llm_adapter``: harmless when this file binds that name itself and nothing else can."""
        if self.star_imports:
            return "doubt", f"'{segment}' may come from `from {self.star_imports[0]} import *`"
        if self.own is not None and f"{self.own}.{segment}" in self.table.mapping:
            return "doubt", f"'{segment}' inside package {self.own} may be its legacy submodule"
        bound = self.other_bindings[segment] + self.param_bindings[segment]
        if bound or segment in self.import_paths:
            return "other", ""
        return "doubt", f"'{segment}' is not bound in this file; it may be the module"

    def _decide_chain(self, dotted: str, segment: str) -> tuple[_Verdict, str]:
        """``owner.llm_adapter``: a reference when ``owner`` is imported as the package above a legacy module."""
        head, _, rest = dotted.partition(".")
        paths = self.import_paths.get(head, set())
        unknown = f"{dotted}: cannot tell whether '{dotted.rpartition('.')[0]}' is a package containing {segment}"
        if not paths or self.other_bindings[head] or self.param_bindings[head]:
            return "doubt", unknown
        refs = set()
        for path in paths:
            full = f"{path}.{rest}"
            match = self.table.match(full)
            if match is not None:
                refs.add(match.legacy)
            elif full not in self.plain_modules and not self._cannot_hold(head, full.rpartition(".")[0], segment):
                return "doubt", unknown
        if refs:
            self.references.update(refs)
            return "ref", sorted(refs)[0]
        return "other", ""

    def _decide_attribute_name(self, item: _Deferred) -> tuple[_Verdict, str]:
        """``getattr(owner, "llm_adapter")`` and kin: harmless when ``owner`` is an imported non-parent module."""
        doubt: tuple[_Verdict, str] = ("doubt", f"string {item.segment!r} may name it")
        builtin = item.callee in _ATTRIBUTE_BUILTINS and self._is_builtin(item.callee)
        if not (builtin or self._is_fixture(item.callee) or self._is_imported(item.callee, _ATTRIBUTE_MOCKS)):
            return doubt
        head, _, rest = item.dotted.partition(".")
        paths = self.import_paths.get(head)
        if not paths or self.other_bindings[head] or self.param_bindings[head]:
            return doubt
        for path in paths:
            if not self._cannot_hold(head, f"{path}.{rest}" if rest else path, item.segment):
                return doubt
        return "other", ""

    def _decide_patch_target(self, item: _Deferred) -> tuple[_Verdict, str]:
        """``mock.patch("pkg.mod.llm_adapter")``: harmless when no prefix before the segment may be a parent."""
        doubt: tuple[_Verdict, str] = ("doubt", f"string {item.dotted!r} may name it")
        if not (self._is_fixture(item.callee) or self._is_imported(item.callee, _TARGET_MOCKS)):
            return doubt
        parts = item.dotted.split(".")
        for index, part in enumerate(parts):
            if part == item.segment and (index == 0 or self.table.may_hold(".".join(parts[:index]), item.segment)):
                return doubt
        return "other", ""

    def _cannot_hold(self, head: str, module: str, segment: str) -> bool:
        """Whether ``module.<segment>`` (``module`` reached through the import bound to ``head``) is certainly
        an attribute of some module other than a legacy module's parent package."""
        if head in self.unresolved_names or self.star_imports:
            return False  # the name may be bound to something else as well
        return not self.table.may_hold(module, segment)

    def _is_builtin(self, name: str) -> bool:
        bound = self.other_bindings[name] or self.param_bindings[name] or name in self.import_paths
        return not bound and not self.star_imports

    def _is_fixture(self, callee: str) -> bool:
        return callee == _FIXTURE_SETATTR and callee.partition(".")[0] not in self.import_paths

    def _is_imported(self, callee: str, accepted: frozenset[str]) -> bool:
        """Whether ``callee`` is one of ``accepted`` through this file's imports only (``mock.patch`` after
        ``from unittest import mock``, ``patch.object`` after ``from unittest.mock import patch``)."""
        head, _, rest = callee.partition(".")
        paths = self.import_paths.get(head)
        if not paths or head in self.unresolved_names or self.other_bindings[head] or self.param_bindings[head]:
            return False
        return all((f"{path}.{rest}" if rest else path) in accepted for path in paths)

    def _first_unexplained_line(self, text: str, segment: str) -> int:
        for number, line in enumerate(source_lines(text), start=1):
            if segment in line and not any(start <= number <= end for start, end in self.spans):
                return number
        return 1


def _names_in(node: cst.BaseExpression) -> Iterable[cst.Name]:
    while isinstance(node, cst.Attribute):
        yield node.attr
        node = node.value
    if isinstance(node, cst.Name):
        yield node


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
