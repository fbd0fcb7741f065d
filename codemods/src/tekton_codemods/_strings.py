"""Rewrite string literals that spell a dotted path into a legacy adapter module.

``mock.patch("terma.core.llm_adapter.LLMAdapter")`` keeps working after an import rewrite only if its string
moves too; left behind, tests patch a module nobody uses any more and pass for the wrong reason. Only literals
that are *exactly* a dotted path are touched (no prose, no f-strings, no bytes); prefix and quote style are
kept. Logger names are left alone because the shims keep the legacy logger names; a string naming the module
itself (a logger name, a ``sys.modules`` key, an ``import_module`` argument) stays, and so does any string in a
file that keeps an import of its module.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import libcst as cst
from libcst.metadata import PositionProvider

from ._dotted import code_of
from ._mapping import MigrationMap, ModuleMatch, is_dotted_name
from ._records import Change, Unmoved

LOGGER_KEYWORDS = frozenset({"logger", "logger_name"})


class StringRefRewriter(cst.CSTTransformer):
    """Moves dotted-path strings to the shims. It never changes line structure, so it may run first."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(
        self,
        table: MigrationMap,
        *,
        legacy_bound: AbstractSet[str] = frozenset(),
        bound_packages: AbstractSet[str] = frozenset(),
        staying: AbstractSet[str] = frozenset(),
    ) -> None:
        """What the import rewrite decided for this file: a string annotation is resolved in the module's names,
        so where the legacy path resolves today (a name an import of a legacy module binds, ``legacy_bound``)
        it may name the shim only when the rewritten file binds the shim's package (``bound_packages``); a
        string naming a legacy module the file keeps importing (``staying``) stays with the import, or a
        ``mock.patch`` here would patch the shim while this file's own code stays on the legacy module."""
        super().__init__()
        self.table = table
        self.legacy_bound = legacy_bound
        self.bound_packages = bound_packages
        self.staying = staying
        self.changes: list[Change] = []
        self.unmoved: list[Unmoved] = []
        self._logger_names: set[cst.CSTNode] = set()
        self._annotations = 0

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotations += 1

    def leave_Annotation(self, original_node: cst.Annotation, updated_node: cst.Annotation) -> cst.Annotation:
        self._annotations -= 1
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        self._logger_names.update(logger_names(node))

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        body = original_node.raw_value
        match = self.table.match(body) if is_dotted_name(body) and "b" not in original_node.prefix.lower() else None
        if match is None:
            return updated_node
        line = self.get_metadata(PositionProvider, original_node).start.line
        left = self._left(original_node, body, match)
        if left is not None:
            self.unmoved.append(Unmoved(line, match.legacy, left[0], left[1], "string"))
            return updated_node
        prefix = original_node.prefix
        new_body = match.shim + body[len(match.legacy) :]
        quote = original_node.quote
        result = updated_node.with_changes(value=f"{prefix}{quote}{new_body}{quote}")
        change = Change(line, line, "string", code_of(original_node), code_of(result), (match.legacy,))
        self.changes.append(change)
        return result

    def _left(self, node: cst.SimpleString, body: str, match: ModuleMatch) -> tuple[str, str] | None:
        """Why the dotted string ``body`` stays on the legacy module, as (name reported, reason)."""
        if node in self._logger_names:
            return body, "logger name; the shims keep legacy logger names"
        left = string_left_alone(self.table, body, match)
        if left is not None:
            return left
        if match.legacy in self.staying:
            return body, f"this file keeps an import of {match.legacy}; the string stays with it"
        shim_top, legacy_top = match.shim.split(".", 1)[0], match.legacy.split(".", 1)[0]
        if self._annotations and legacy_top in self.legacy_bound and shim_top not in self.bound_packages:
            # It resolves today through an import of ``terma`` that stays; ``tekton_llm_shims`` would not.
            return body, f"string annotation; nothing here imports {shim_top}, so {match.shim} would not resolve"
        return None


def logger_names(call: cst.Call) -> list[cst.BaseExpression]:
    """The arguments of ``call`` that are logger names: ``getLogger(x)``'s first, and ``logger=``/``logger_name=``."""
    func = call.func
    attr = func.attr.value if isinstance(func, cst.Attribute) else None
    found: list[cst.BaseExpression] = []
    is_get_logger = (isinstance(func, cst.Name) and func.value == "getLogger") or attr == "getLogger"
    if is_get_logger and call.args and call.args[0].keyword is None:
        found.append(call.args[0].value)
    found += [arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value in LOGGER_KEYWORDS]
    return found


def string_left_alone(table: MigrationMap, body: str, match: ModuleMatch) -> tuple[str, str] | None:
    """Why the dotted string ``body`` (under ``match``) stays on the legacy module whatever the file's imports
    do, as (name reported, reason): it names the module itself, or a name the shim does not provide."""
    if body == match.legacy:
        # A logger name (the shims keep those), a ``sys.modules`` key, an import or a prefix: what uses it
        # cannot be followed, and each would need its own answer.
        return body, "names the module itself; what uses the string cannot be followed: change it by hand"
    first = body[len(match.legacy) + 1 :].split(".", 1)[0]
    key_match = table.match(match.legacy)  # provides applies to names of the mapped module
    if key_match is not None and not table.provides_name(key_match, first):
        return first, f"{match.shim} does not provide it"
    return None
