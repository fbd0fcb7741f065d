"""Rewrite every import that reaches a legacy adapter module so it reaches the shim instead.

Handled forms (absolute or relative, at any nesting depth)::

    from terma.core.llm_adapter import LLMAdapter [as A], ...   -> from tekton_llm_shims.terma import ...
    from ..core.llm_adapter import LLMAdapter                   -> from tekton_llm_shims.terma import ...
    from terma.core.llm_adapter import *                        -> from tekton_llm_shims.terma import *
    from terma.core import llm_adapter [as m]                   -> from tekton_llm_shims import terma as m
    import terma.core.llm_adapter [as m]                        -> import tekton_llm_shims.terma [as m]
    terma.core.llm_adapter.LLMAdapter (after the plain import)  -> tekton_llm_shims.terma.LLMAdapter

Only the name part of a statement is replaced, so comments, parentheses and trailing commas survive. A
name the shim does not provide stays on the legacy module (a mixed ``from`` import is split in two) and
is reported; a module import whose attribute uses include such a name is left as it was. Uses that no
import names (``core.llm_adapter.X`` after ``from terma import core``, ``llm_adapter`` after a star import
of its package) are reported, not rewritten. A relative import that spells a legacy segment but cannot
be resolved is collected in ``unresolved``: the caller must not treat such a file as migrated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import PositionProvider

from ._dotted import code_of, dotted_name, name_expr
from ._mapping import MigrationMap, ModuleMatch
from ._modules import resolve_relative, unresolved_relative
from ._records import Change, Unmoved
from ._usage import NameUsage

_SmallResult = cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement] | cst.RemovalSentinel
_StatementResult = cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel


class ImportRewriter(cst.CSTTransformer):
    """Moves imports to the shims; ``changes`` and ``unmoved`` describe what it did and did not do."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, table: MigrationMap, package: str | None) -> None:
        super().__init__()
        self.table = table
        self.package = package
        self.changes: list[Change] = []
        self.unmoved: list[Unmoved] = []
        self.unresolved: list[str] = []
        self._usage = NameUsage()
        self._plain_moves: dict[str, str] = {}
        self._plain_blocked: dict[str, list[tuple[str, str]]] = {}
        self._package_roots: dict[str, list[str]] = {}

    # -- decisions that depend on the whole file ---------------------------------------------------

    def prepare(self, usage: NameUsage) -> None:
        """Take the decisions that need the whole file, from its census (before visiting any statement)."""
        self._usage = usage
        self._decide_plain_imports()
        self._package_roots = {
            name: sorted(paths)
            for name, paths in self._usage.import_paths.items()
            if any(key.startswith(path + ".") for path in paths for key in self.table.mapping)
        }

    def watched_names(self) -> set[str]:
        """Names whose attribute chains this rewriter may change or report (after :meth:`prepare`)."""
        return {dotted.split(".", 1)[0] for dotted in self._plain_moves} | set(self._package_roots)

    def _decide_plain_imports(self) -> None:
        """``import a.b.m`` binds ``a``: it may move only if every ``a.…`` use still resolves."""
        usage = self._usage
        mapped: dict[str, ModuleMatch] = {}
        for dotted in dict.fromkeys(usage.plain_imports):
            match = self.table.match(dotted)
            if match is not None:
                mapped[dotted] = match
        for dotted, match in mapped.items():
            missing = self._unprovided(match, dotted)
            if missing:
                self._plain_blocked[dotted] = [
                    (name, f"used as {dotted}.{name}; {match.target} does not provide it") for name in missing
                ]
        binders: Counter[str] = Counter(usage.other_bindings)
        for dotted in usage.plain_imports:
            if dotted not in mapped or dotted in self._plain_blocked:
                binders[dotted.split(".", 1)[0]] += 1
        for dotted, match in mapped.items():
            if dotted in self._plain_blocked:
                continue
            top = dotted.split(".", 1)[0]
            if binders[top] == 0 and self._has_other_uses(top, mapped):
                self._plain_blocked[dotted] = [
                    (top, f"'{top}' is also used for other names and only this import binds it")
                ]
            else:
                self._plain_moves[dotted] = match.target

    def _has_other_uses(self, top: str, mapped: dict[str, ModuleMatch]) -> bool:
        for chain in self._usage.chains:
            if chain != top and not chain.startswith(top + "."):
                continue
            if not any(chain == key or chain.startswith(key + ".") for key in mapped):
                return True
        return False

    def _unprovided(self, match: ModuleMatch, bound: str) -> list[str]:
        attributes = self._usage.attributes_of(bound)
        return sorted(name for name in attributes if not self.table.provides_name(match, name))

    # -- import statements -------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # the dotted names inside are handled whole, not as attribute uses

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> _SmallResult:
        names = list(updated_node.names)
        kinds: list[str] = []
        for index, alias in enumerate(names):
            dotted = dotted_name(alias.name)
            match = self.table.match(dotted)
            if dotted is None or match is None:
                continue
            if alias.asname is not None:
                bound = dotted_name(alias.asname.name) or ""
                missing = self._unprovided(match, bound)
                if missing:
                    for name in missing:
                        reason = f"used as {bound}.{name}; {match.target} does not provide it"
                        self._report(original_node, dotted, name, reason)
                    continue
                names[index] = alias.with_changes(name=name_expr(match.target))
                kinds.append("import-as")
            elif dotted in self._plain_moves:
                names[index] = alias.with_changes(name=name_expr(self._plain_moves[dotted]))
                kinds.append("import")
            else:
                for name, reason in self._plain_blocked.get(dotted, ()):
                    self._report(original_node, dotted, name, reason)
        if not kinds:
            return updated_node
        result = updated_node.with_changes(names=names)
        self._record(original_node, kinds[0] if len(set(kinds)) == 1 else "import", [result])
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
        """``from terma.core import *`` may bind ``llm_adapter``; its uses cannot be moved."""
        for key in self.table.mapping:
            parent, _, leaf = key.rpartition(".")
            if parent != absolute or leaf in self._usage.other_bindings:
                continue
            if any(chain == leaf or chain.startswith(leaf + ".") for chain in self._usage.chains):
                reason = f"'{leaf}' may come from this star import of {absolute}; its uses are not rewritten"
                self._report(original, key, leaf, reason)

    def _from_mapped(
        self, original: cst.ImportFrom, updated: cst.ImportFrom, absolute: str, match: ModuleMatch
    ) -> _SmallResult:
        """``from <legacy> import names``: move the names the shim provides."""
        moved = updated.with_changes(module=name_expr(match.target), relative=())
        if isinstance(updated.names, cst.ImportStar):
            self._record(original, "star-import", [moved])
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
            self._record(original, "relative-import-from" if updated.relative else "import-from", [moved])
            return moved
        pieces: list[cst.BaseSmallStatement] = [
            _only(moved, moving).with_changes(semicolon=cst.MaybeSentinel.DEFAULT),
            _only(updated, staying),
        ]
        self._record(original, "import-from-split", pieces)
        return cst.FlattenSentinel(pieces)

    def _from_parent(self, original: cst.ImportFrom, updated: cst.ImportFrom, absolute: str) -> _SmallResult:
        """``from terma.core import llm_adapter [as m]``: the imported name is itself a legacy module."""
        assert not isinstance(updated.names, cst.ImportStar)
        new_imports: list[cst.BaseSmallStatement] = []
        staying: list[int] = []
        for index, alias in enumerate(updated.names):
            name = dotted_name(alias.name) or ""
            match = self.table.match(f"{absolute}.{name}")
            if match is None:
                staying.append(index)
                continue
            bound = dotted_name(alias.asname.name) if alias.asname is not None else name
            bound = bound or name
            missing = self._unprovided(match, bound)
            if missing:
                staying.append(index)
                for attribute in missing:
                    reason = f"used as {bound}.{attribute}; {match.target} does not provide it"
                    self._report(original, f"{absolute}.{name}", attribute, reason)
                continue
            new_imports.append(_module_import(match.target, bound))
        if not new_imports:
            return updated
        pieces = list(new_imports)
        if staying:
            pieces.append(_only(updated, staying))
        pieces = [piece.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for piece in pieces[:-1]] + [
            pieces[-1].with_changes(semicolon=updated.semicolon)
        ]
        self._record(original, "import-module-from", pieces)
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
        if not self._plain_moves and not self._package_roots:
            return updated_node
        dotted = dotted_name(original_node)
        if dotted is None:
            return updated_node
        if dotted not in self._plain_moves:
            self._report_through_package(original_node, dotted)
            return updated_node
        result = name_expr(self._plain_moves[dotted]).with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
        self._record(original_node, "attribute", [result])
        return result

    def _report_through_package(self, node: cst.Attribute, dotted: str) -> None:
        """``core.llm_adapter`` after ``from terma import core``: no import names the legacy module, so
        nothing here can move it; the owner is told (once per use, at the chain that names the module)."""
        head, _, rest = dotted.partition(".")
        if dotted in self._plain_blocked:
            return  # already reported at its import
        for path in self._package_roots.get(head, ()):
            match = self.table.match(f"{path}.{rest}")
            if match is not None and match.exact and match.legacy.startswith(path + "."):
                reason = f"reached through package {path}; not rewritten: import {match.target} instead"
                self._report(node, match.legacy, dotted, reason)
                return

    # -- bookkeeping -------------------------------------------------------------------------------

    def _record(self, original: cst.CSTNode, kind: str, new: Sequence[cst.CSTNode]) -> None:
        position = self.get_metadata(PositionProvider, original)
        text = "\n".join(_statement_text(node) for node in new)
        old = _statement_text(original)
        self.changes.append(Change(position.start.line, position.end.line, kind, old, text))

    def _report(self, original: cst.CSTNode, module: str, name: str, reason: str) -> None:
        position = self.get_metadata(PositionProvider, original)
        self.unmoved.append(Unmoved(position.start.line, module, name, reason))


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
