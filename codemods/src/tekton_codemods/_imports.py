"""Rewrite every import that reaches a legacy adapter module so it reaches the shim instead.

Handled forms (absolute or relative, at any nesting depth)::

    from terma.core.llm_adapter import LLMAdapter [as A], ...   -> from tekton_llm_shims.terma import ...
    from ..core.llm_adapter import LLMAdapter                   -> from tekton_llm_shims.terma import ...
    from terma.core.llm_adapter import *                        -> stays (reported) when the shim declares provides
    from terma.core import llm_adapter [as m]                   -> from tekton_llm_shims import terma as m
    import terma.core.llm_adapter [as m]                        -> import tekton_llm_shims.terma [as m]
    terma.core.llm_adapter.LLMAdapter (after the plain import)  -> tekton_llm_shims.terma.LLMAdapter

Only the name part of a statement is replaced, so comments, parentheses and trailing commas survive. A
name the shim does not provide stays on the legacy module (a mixed ``from`` import is split in two) and
is reported; a module import stays, reported, for each reason :meth:`ImportRewriter._blockers` finds (a
missing name read, the module used as a value, a class-body read, dynamic reads, a string that pins it, a
package ``__init__`` binding its own submodule). Uses that no
import names (``core.llm_adapter.X`` after ``from terma import core``, ``llm_adapter`` after a star import
of its package) are reported, not rewritten. A relative import that spells a legacy segment but cannot
be resolved is collected in ``unresolved``: the caller must not treat such a file as migrated.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import PositionProvider

from ._dotted import alias_name, code_of, dotted_name, name_expr, string_value
from ._mapping import MigrationMap, ModuleMatch
from ._modules import resolve_relative, unresolved_relative
from ._names import Names, Read
from ._records import Change, Unmoved
from ._statements import ImportNode, StatementIndex
from ._strings import string_left_alone

_SmallResult = cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement] | cst.RemovalSentinel
_StatementResult = cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel


class ImportRewriter(cst.CSTTransformer):
    """Moves imports to the shims; ``changes`` and ``unmoved`` describe what it did and did not do."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, table: MigrationMap, package: str | None, *, is_package: bool = False) -> None:
        super().__init__()
        self.table = table
        self.package = package
        self.is_package = is_package  # the file is ``package``'s ``__init__``
        self.changes: list[Change] = []
        self.unmoved: list[Unmoved] = []
        self.unresolved: list[str] = []
        self._names: Names | None = None
        self._index = StatementIndex()
        # (import, bound name) -> why that binding cannot move: (name reported, reason), one per problem
        self._blocked: dict[tuple[ImportNode, str], list[tuple[str, str]]] = {}
        self._staying: set[str] = set()
        self._pinned: dict[str, str] = {}  # legacy module -> a string of this file that keeps it
        self._moving: dict[tuple[cst.Import, str], str] = {}  # ``import a.b.m`` that moves -> its target
        self._plain_moves: dict[cst.CSTNode, ModuleMatch] = {}  # each read of ``a.b.m`` through one -> its match
        self._legacy_reads: set[cst.CSTNode] = set()  # every read of a legacy module a plain import binds
        self._package_roots: set[str] = set()
        self._star_leaves: dict[cst.ImportFrom, list[str]] = {}

    # -- decisions that depend on the whole file ---------------------------------------------------

    def prepare(self, index: StatementIndex, names: Names) -> None:
        """Take the decisions that need the whole file before visiting any statement, for the imports that
        concern a legacy module (``index.imports``): ``names`` says where their bindings are read. It is asked
        only about imports that bind a legacy module or a package above one, and only when the chains the
        file spells (``index.chains``) leave the answer open."""
        self._names = names
        self._index = index
        # A string that stays on a legacy module (``sys.modules["terma.core.llm_adapter"]``, a patch of a name
        # the shim lacks) needs that module loaded and used here: the file's imports of it stay too.
        for body in index.dotted_strings:
            match = self.table.match(body)
            if match is not None and string_left_alone(self.table, body, match) is not None:
                self._pinned.setdefault(match.legacy, body)
        self._staying |= set(self._pinned)
        plain: list[tuple[cst.Import, str, ModuleMatch]] = []
        for node in index.imports:
            if isinstance(node, cst.Import):
                plain += self._prepare_import(node)
            else:
                self._prepare_import_from(node)
        self._decide_plain_imports(plain)

    def bound_packages(self) -> set[str]:
        """Top-level packages the rewritten file binds by a moved plain import (``tekton_llm_shims``)."""
        return {target.split(".", 1)[0] for target in self._moving.values()}

    def watched_names(self) -> set[str]:
        """Names whose attribute chains this rewriter may change or report (after :meth:`prepare`)."""
        moving = {dotted.split(".", 1)[0] for (node, dotted) in self._moving}
        return moving | self._package_roots

    def _prepare_import(self, node: cst.Import) -> list[tuple[cst.Import, str, ModuleMatch]]:
        plain: list[tuple[cst.Import, str, ModuleMatch]] = []
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if dotted is None:
                continue
            match = self.table.match(dotted)
            bound = alias_name(alias)
            if match is None:
                if self._above_legacy(dotted if bound else dotted.split(".", 1)[0]):
                    self._package_roots.add(bound or dotted.split(".", 1)[0])
            elif bound is not None:
                self._block(node, bound, match, self._blockers(match, node, bound))
            else:
                plain.append((node, dotted, match))
        return plain

    def _prepare_import_from(self, node: cst.ImportFrom) -> None:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        match = self.table.match(absolute)
        if match is not None and match.exact:
            names = ["*"] if isinstance(node.names, cst.ImportStar) else [dotted_name(a.name) or "" for a in node.names]
            if any(not self.table.provides_name(match, name) for name in names):
                self._staying.add(match.legacy)  # a name (or a star) the shim does not provide stays on it
        if absolute is None or match is not None:
            return  # reported as unresolved, or moved by name: no binding of a module to follow
        if isinstance(node.names, cst.ImportStar):
            leaves = self.table.leaves_under(absolute)
            self._star_leaves[node] = [leaf for leaf in leaves if self._need_names().unbound_reads(leaf)]
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            bound = alias_name(alias) or name
            match = self.table.match(f"{absolute}.{name}")
            if match is not None and bound:
                self._block(node, bound, match, self._blockers(match, node, bound))
            elif bound and self._above_legacy(f"{absolute}.{name}"):
                self._package_roots.add(bound)

    def _block(self, node: ImportNode, bound: str, match: ModuleMatch, blockers: list[tuple[str, str]]) -> None:
        self._blocked[(node, bound)] = blockers
        if blockers:
            self._staying.add(match.legacy)

    def _above_legacy(self, path: str) -> bool:
        return any(key.startswith(path + ".") for key in self.table.mapping)

    def _need_names(self) -> Names:
        assert self._names is not None, "prepare() first"
        return self._names

    def _decide_plain_imports(self, plain: list[tuple[cst.Import, str, ModuleMatch]]) -> None:
        """``import a.b.m`` binds ``a``: it may move only if the shim provides every ``a.b.m.X`` it is read
        as, and :meth:`_plain_conflict` finds nothing."""
        plain_match = {(node, dotted): match for node, dotted, match in plain}
        for node, dotted, match in plain:
            self._legacy_reads.update(chain for chain, _ in self._chains(node, dotted))
            blockers = self._blockers(match, node, dotted)
            if blockers:
                self._block(node, dotted, match, blockers)
            else:
                self._moving[(node, dotted)] = match.target
        movers = {node for node, _ in self._moving}
        for node, dotted in list(self._moving):
            top = dotted.split(".", 1)[0]
            reason = self._plain_conflict(node, top, movers)
            if reason is not None:
                del self._moving[(node, dotted)]
                self._block(node, dotted, plain_match[node, dotted], [(top, reason)])
        for node, dotted in self._moving:
            match = plain_match[node, dotted]
            self._plain_moves.update((chain, match) for chain, _ in self._chains(node, dotted))

    def _plain_conflict(self, node: cst.Import, top: str, movers: set[cst.Import]) -> str | None:
        """Why ``import a.b.m`` must stay, judged on each read of ``a`` it may bind: a read that is not a
        legacy chain (``a.other``) needs another import of package ``a`` that stays; a legacy chain, which
        the rewrite changes where it is read, must not reach anything but package ``a`` there."""
        if self._need_names().declared_outside(node, top):
            return f"'{top}' is declared global or nonlocal here; the shim's package name would not be"
        for read in self._need_names().reads(node, top):
            others = read.binders - movers
            chain = next((d for _, d in self._moving if read.parts[: d.count(".") + 1] == tuple(d.split("."))), None)
            if chain is None and not any(_binds_package(other, top) for other in others):
                return f"'{top}' is also used for other names and only this import binds it"
            if chain is not None and not all(_binds_package(other, top) for other in others):
                return f"'{top}' may be something else where {chain} is read"
        return None

    def _chains(self, node: ImportNode, dotted: str) -> list[tuple[cst.Name | cst.Attribute, Read]]:
        """The reads of ``dotted`` bound by ``node`` in code (not strings): the node that spells it, and the read."""
        names = self._need_names()
        wanted = tuple(dotted.split("."))
        found: list[tuple[cst.Name | cst.Attribute, Read]] = []
        for read in names.reads(node, wanted[0]):
            spelled = names.spelled(read, len(wanted)) if read.parts[: len(wanted)] == wanted else None
            if spelled is not None:
                found.append((spelled, read))
        return found

    def _blockers(self, match: ModuleMatch, node: ImportNode, bound: str) -> list[tuple[str, str]]:
        """Why the binding of ``bound`` (``m``, or ``a.b.m`` for a plain import) cannot move onto the shim, as
        ``(name, reason)`` pairs: a name read from it that the shim does not provide; the module used as a
        value (passed on or stored: anything may be read from it later); a plain import's chain in a string
        annotation (which the rewrite does not change); an import in a class body read through the class; a
        file that reads names dynamically; a package ``__init__`` binding its own legacy submodule's name."""
        if self.is_package and f"{self.package}.{bound}" == match.legacy:
            # ``from . import llm_adapter`` in ``terma/core/__init__.py`` sets the package's attribute: every
            # ``from terma.core import llm_adapter`` elsewhere would get the shim, reported there or not.
            reason = f"binds the package attribute {match.legacy} that other files import; leave it to cleanup"
            return [(bound, reason)]
        if match.legacy in self._pinned:
            return [(bound, self._pinned_reason(match.legacy))]
        if self._settled_by_spelling(match, node, bound):
            return []
        wanted = tuple(bound.split("."))
        found: dict[str, str] = {}
        if self._index.reads_dynamically:
            found[bound] = (
                "the file reads names dynamically (eval, exec, globals, sys.modules…), where no analysis follows"
            )
        for read in self._need_names().reads(node, wanted[0]):
            if read.parts[: len(wanted)] == wanted:
                found.update(self._read_blockers(match, bound, read))
        if self._index.in_class_body(node):
            found.update(self._class_member_blockers(match, bound))
        return sorted(found.items())

    def _pinned_reason(self, legacy: str) -> str:
        return f"this file also names {self._pinned[legacy]!r} in a string that stays; the import stays with it"

    def _read_blockers(self, match: ModuleMatch, bound: str, read: Read) -> dict[str, str]:
        """What one read of the binding of ``bound`` says against moving it."""
        depth = bound.count(".") + 1
        if len(read.parts) == depth:
            return self._bare_use(match, bound, read, depth) if isinstance(read.node, cst.Name) else {}
        found: dict[str, str] = {}
        attribute = read.parts[depth]
        if not self.table.provides_name(match, attribute):
            found[attribute] = f"used as {bound}.{attribute}; {match.target} does not provide it"
        if depth > 1 and isinstance(read.node, cst.SimpleString) and not _whole_path(read):
            found[bound] = "named inside a string annotation, which the rewrite does not change"
        return found

    def _bare_use(self, match: ModuleMatch, bound: str, read: Read, depth: int) -> dict[str, str]:
        """The module itself read: ``getattr(m, "X")`` reads ``X``; a truth or ``None`` test reads nothing;
        anything else hands it on."""
        names = self._need_names()
        spelled = names.spelled(read, depth)
        if spelled is None or names.only_tested(spelled):
            return {}
        attribute = names.attribute_named(spelled)
        if attribute is None:
            return {bound: "used as a value (passed on or stored), so any name may be read from it"}
        if self.table.provides_name(match, attribute):
            return {}
        return {attribute: f"used as {bound}.{attribute} (by name); {match.target} does not provide it"}

    def staying_modules(self) -> set[str]:
        """Legacy modules this file keeps importing (after :meth:`prepare`): its strings naming them stay too,
        or a ``mock.patch`` in it would patch the shim while its own import stays on the legacy module."""
        return self._staying

    def _settled_by_spelling(self, match: ModuleMatch, node: ImportNode, bound: str) -> bool:
        """Whether what the file spells already shows the binding can move, with no scope analysis: it never
        spells a missing name after ``bound.``, never uses ``bound`` bare, and is not in a class body.
        Scope analysis can only take reads away, so it could not find a problem either."""
        index = self._index
        if "." in bound or bound in index.bare or bound in index.words or index.in_class_body(node):
            return False
        if index.reads_dynamically:
            return False
        prefix = bound + "."
        spelled = {chain[len(prefix) :].split(".", 1)[0] for chain in self._index.chains if chain.startswith(prefix)}
        return all(self.table.provides_name(match, name) for name in spelled)

    def _class_member_blockers(self, match: ModuleMatch, bound: str) -> dict[str, str]:
        """An import in a class body binds a class attribute, read as ``Cls.m.X`` or ``self.m.X`` where no
        scope analysis follows it: every spelled chain with ``m`` after its head counts."""
        head = bound.split(".", 1)[0]
        found: dict[str, str] = {}
        if head in self._index.members:  # ``C().m``, ``type(self).m``, ``super().m``
            found[bound] = "imported in a class body and read through an object the rewrite cannot follow"
        for chain in self._index.chains:
            parts = chain.split(".")
            for at in range(1, len(parts)):
                if parts[at] != head:
                    continue
                if len(bound.split(".")) > 1:
                    found[head] = "imported in a class body and read through the class or an instance"
                elif at + 1 == len(parts):
                    found[bound] = "imported in a class body and used as a value through the class or an instance"
                elif not self.table.provides_name(match, parts[at + 1]):
                    found[parts[at + 1]] = f"used as {chain}; {match.target} does not provide it"
        return found

    # -- import statements -------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # the dotted names inside are handled whole, not as attribute uses

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> _SmallResult:
        names = list(updated_node.names)
        kinds: list[str] = []
        moved: list[str] = []
        for index, alias in enumerate(names):
            dotted = dotted_name(alias.name)
            match = self.table.match(dotted)
            if dotted is None or match is None:
                continue
            if alias.asname is not None:
                bound = dotted_name(alias.asname.name) or ""
                blockers = self._blocked.get((original_node, bound), [])
                for name, reason in blockers:
                    self._report(original_node, dotted, name, reason)
                if blockers:
                    continue
                names[index] = alias.with_changes(name=name_expr(match.target))
                kinds.append("import-as")
                moved.append(match.legacy)
            elif (original_node, dotted) in self._moving:
                names[index] = alias.with_changes(name=name_expr(self._moving[(original_node, dotted)]))
                kinds.append("import")
                moved.append(match.legacy)
            else:
                for name, reason in self._blocked.get((original_node, dotted), ()):
                    self._report(original_node, dotted, name, reason)
        if not kinds:
            return updated_node
        result = updated_node.with_changes(names=names)
        self._record(original_node, kinds[0] if len(set(kinds)) == 1 else "import", [result], moved)
        return result

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> _SmallResult:
        module = dotted_name(updated_node.module) if updated_node.module is not None else None
        absolute = resolve_relative(self.package, len(updated_node.relative), module)
        if absolute is None:
            if updated_node.relative and self._may_name_legacy(module, updated_node.names):
                line = self.get_metadata(PositionProvider, original_node).start.line
                self.unresolved.append(unresolved_relative(line, _statement_text(original_node), self.package))
            return updated_node
        match = self.table.match(absolute)
        if match is not None:
            return self._from_mapped(original_node, updated_node, absolute, match)
        if updated_node.relative:
            self._report_short_names(original_node, absolute, updated_node.names)
        if isinstance(updated_node.names, cst.ImportStar):
            self._report_star_from_package(original_node, absolute)
            return updated_node
        return self._from_parent(original_node, updated_node, absolute)

    def _may_name_legacy(self, module: str | None, names: Sequence[cst.ImportAlias] | cst.ImportStar) -> bool:
        if self.table.mentions_segment(module):
            return True
        return not isinstance(names, cst.ImportStar) and any(
            self.table.mentions_segment(dotted_name(alias.name)) for alias in names
        )

    def _report_short_names(
        self, original: cst.ImportFrom, absolute: str, names: Sequence[cst.ImportAlias] | cst.ImportStar
    ) -> None:
        """A relative import resolving to a *suffix* of a legacy name: the package chain probably stops early."""
        imported = ["*"] if isinstance(names, cst.ImportStar) else [dotted_name(alias.name) or "" for alias in names]
        candidates = [(absolute, ", ".join(imported))]
        candidates += [(f"{absolute}.{name}", name) for name in imported if name != "*"]
        for module, name in candidates:
            keys = self.table.keys_ending_with(module)
            if keys:
                reason = f"if this is {' or '.join(keys)}, the package chain stops early; pass --source-root"
                self._report(original, module, name, reason)
                return

    def _report_star_from_package(self, original: cst.ImportFrom, absolute: str) -> None:
        """``from terma.core import *`` may bind ``llm_adapter``: its reads that nothing else binds cannot be moved."""
        for leaf in self._star_leaves.get(original, ()):
            reason = f"'{leaf}' may come from this star import of {absolute}; its uses are not rewritten"
            self._report(original, f"{absolute}.{leaf}", leaf, reason)

    def _from_mapped(
        self, original: cst.ImportFrom, updated: cst.ImportFrom, absolute: str, match: ModuleMatch
    ) -> _SmallResult:
        """``from <legacy> import names``: move the names the shim provides."""
        moved = updated.with_changes(module=name_expr(match.target), relative=())
        if match.legacy in self._pinned:
            self._report(original, absolute, "*", self._pinned_reason(match.legacy))
            return updated
        if isinstance(updated.names, cst.ImportStar):
            if match.exact and match.shim in self.table.provides:
                # It binds whatever the legacy module defines (its imports, constants, logger) and the shim's
                # ``__all__`` differs: which names a read or an earlier binding gets would change unseen.
                reason = f"a star import binds whatever the module defines; import from {match.target} by name"
                self._report(original, absolute, "*", reason)
                return updated
            self._record(original, "star-import", [moved], [match.legacy])
            return moved
        moving: list[int] = []
        staying: list[int] = []
        for index, alias in enumerate(updated.names):
            name = dotted_name(alias.name) or ""
            if self.table.provides_name(match, name):
                moving.append(index)
            else:
                staying.append(index)
                self._report(original, absolute, name, f"{match.target} does not provide it")
        if not moving:
            return updated
        if not staying:
            kind = "relative-import-from" if updated.relative else "import-from"
            self._record(original, kind, [moved], [match.legacy])
            return moved
        pieces: list[cst.BaseSmallStatement] = [
            _only(moved, moving).with_changes(semicolon=cst.MaybeSentinel.DEFAULT),
            _only(updated, staying),
        ]
        self._record(original, "import-from-split", pieces, [match.legacy])
        return cst.FlattenSentinel(pieces)

    def _from_parent(self, original: cst.ImportFrom, updated: cst.ImportFrom, absolute: str) -> _SmallResult:
        """``from terma.core import llm_adapter [as m]``: the imported name is itself a legacy module."""
        assert not isinstance(updated.names, cst.ImportStar)
        new_imports: list[cst.BaseSmallStatement] = []
        moved: list[str] = []
        staying: list[int] = []
        for index, alias in enumerate(updated.names):
            name = dotted_name(alias.name) or ""
            match = self.table.match(f"{absolute}.{name}")
            if match is None:
                staying.append(index)
                continue
            bound = alias_name(alias) or name
            blockers = self._blocked.get((original, bound), [])
            if blockers:
                staying.append(index)
                for attribute, reason in blockers:
                    self._report(original, f"{absolute}.{name}", attribute, reason)
                continue
            new_imports.append(_module_import(match.target, bound))
            moved.append(match.legacy)
        if not new_imports:
            return updated
        pieces = list(new_imports)
        if staying:
            pieces.append(_only(updated, staying))
        pieces = [piece.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for piece in pieces[:-1]] + [
            pieces[-1].with_changes(semicolon=updated.semicolon)
        ]
        self._record(original, "import-module-from", pieces, moved)
        return pieces[0] if len(pieces) == 1 else cst.FlattenSentinel(pieces)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> _StatementResult:
        """A statement that became several goes on several lines, unless it shared its line."""
        if len(original_node.body) != 1 or len(updated_node.body) == 1:
            return updated_node
        newline = original_node.trailing_whitespace.newline
        last = len(updated_node.body) - 1
        lines = [
            cst.SimpleStatementLine(
                body=[statement],
                leading_lines=original_node.leading_lines if index == 0 else (),
                trailing_whitespace=(
                    original_node.trailing_whitespace if index == last else cst.TrailingWhitespace(newline=newline)
                ),
            )
            for index, statement in enumerate(updated_node.body)
        ]
        return cst.FlattenSentinel(lines)

    # -- dotted uses enabled by ``import a.b.llm_adapter`` -------------------------------------------

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        match = self._plain_moves.get(original_node)
        if match is None:
            if self._package_roots and original_node not in self._legacy_reads:
                self._report_through_package(original_node)
            return updated_node
        result = name_expr(match.target).with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
        self._record(original_node, "attribute", [result], [match.legacy])
        return result

    def _report_through_package(self, node: cst.Attribute) -> None:
        """``core.llm_adapter`` after ``from terma import core``: no import names the legacy module, so
        nothing here can move it; the owner is told (once per use, at the chain that names the module)."""
        dotted = dotted_name(node)
        head, _, rest = (dotted or "").partition(".")
        if head not in self._package_roots or not self.table.mentions_segment(rest):
            return  # only a chain that spells a legacy module's name can stand for one
        for path in sorted(self._need_names().paths(node)):
            match = self.table.match(path)
            if match is not None and match.exact and path.endswith("." + rest):
                root = path[: -len(rest) - 1]
                reason = f"reached through package {root}; not rewritten: import {match.target} instead"
                self._report(node, match.legacy, dotted or "", reason)
                return

    # -- bookkeeping -------------------------------------------------------------------------------

    def _record(self, original: cst.CSTNode, kind: str, new: Sequence[cst.CSTNode], modules: Sequence[str]) -> None:
        position = self.get_metadata(PositionProvider, original)
        text = "\n".join(_statement_text(node) for node in new)
        old = _statement_text(original)
        legacy = tuple(dict.fromkeys(modules))
        self.changes.append(Change(position.start.line, position.end.line, kind, old, text, legacy))

    def _report(self, original: cst.CSTNode, module: str, name: str, reason: str) -> None:
        position = self.get_metadata(PositionProvider, original)
        at_import = isinstance(original, ImportNode)
        self.unmoved.append(Unmoved(position.start.line, module, name, reason, "import" if at_import else "use"))


def _whole_path(read: Read) -> bool:
    """A string annotation that is exactly the chain read (``"a.b.m.X"``): the string rewrite moves it too."""
    value = string_value(read.node)
    return value is not None and value.strip() == ".".join(read.parts)


def _binds_package(node: cst.CSTNode, top: str) -> bool:
    """``node`` is an ``import top…`` without ``as``: it binds ``top`` to the package itself."""
    return isinstance(node, cst.Import) and any(
        alias.asname is None and (dotted_name(alias.name) or "").split(".", 1)[0] == top for alias in node.names
    )


def _statement_text(node: cst.CSTNode) -> str:
    """Code of a node without the ``;`` separator a small statement may carry."""
    return code_of(node).rstrip().removesuffix(";").rstrip()


def _module_import(target: str, bound: str) -> cst.BaseSmallStatement:
    """A statement binding ``bound`` to module ``target``, in ``from`` form when ``target`` has a parent."""
    parent, _, leaf = target.rpartition(".")
    if parent:
        asname = None if leaf == bound else cst.AsName(name=cst.Name(bound))
        return cst.ImportFrom(module=name_expr(parent), names=[cst.ImportAlias(name=cst.Name(leaf), asname=asname)])
    asname = None if target == bound else cst.AsName(name=cst.Name(bound))
    return cst.Import(names=[cst.ImportAlias(name=cst.Name(target), asname=asname)])


def _only(node: cst.ImportFrom, indices: list[int]) -> cst.ImportFrom:
    """``node`` importing only the aliases at ``indices``, with its closing punctuation still valid.

    The comments attached to kept names stay with them; the layout before the closing parenthesis is
    taken from the original last name so a split multi-line import still closes the way it did.
    """
    names = node.names
    assert not isinstance(names, cst.ImportStar)
    kept = [names[i] for i in indices]
    if indices[-1] == len(names) - 1:
        return node.with_changes(names=kept)
    tail = kept[-1]
    assert isinstance(tail.comma, cst.Comma)  # every name but the original last has one
    if node.lpar is None or node.rpar is None:
        kept[-1] = tail.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return node.with_changes(names=kept)
    original_last = names[-1]
    tail_space = tail.comma.whitespace_after
    if isinstance(original_last.comma, cst.Comma):
        closing = _merge_space(tail_space, original_last.comma.whitespace_after)
        kept[-1] = tail.with_changes(comma=tail.comma.with_changes(whitespace_after=closing))
        return node.with_changes(names=kept)
    if _has_comment(tail_space):
        closing = _merge_space(tail_space, node.rpar.whitespace_before)
        kept[-1] = tail.with_changes(comma=tail.comma.with_changes(whitespace_after=closing))
        return node.with_changes(names=kept, rpar=node.rpar.with_changes(whitespace_before=cst.SimpleWhitespace("")))
    kept[-1] = tail.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return node.with_changes(names=kept)


def _merge_space(
    own: cst.BaseParenthesizableWhitespace, closing: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """Keep ``own``'s end-of-line comment, then lay out the closing parenthesis like ``closing``."""
    if not isinstance(own, cst.ParenthesizedWhitespace):
        return closing
    if isinstance(closing, cst.ParenthesizedWhitespace):
        return closing.with_changes(first_line=own.first_line, empty_lines=own.empty_lines)
    return own.with_changes(indent=True, last_line=cst.SimpleWhitespace(""))


def _has_comment(space: cst.BaseParenthesizableWhitespace) -> bool:
    if not isinstance(space, cst.ParenthesizedWhitespace):
        return False
    return space.first_line.comment is not None or any(line.comment is not None for line in space.empty_lines)
