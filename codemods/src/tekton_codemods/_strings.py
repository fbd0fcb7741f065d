"""Rewrite string literals that spell a dotted path into a legacy adapter module.

``mock.patch("terma.core.llm_adapter.LLMAdapter")`` and ``importlib.import_module("hermes.core.llm_adapter")``
keep working after an import rewrite only if their strings move too; left behind, tests patch a module
nobody uses any more and pass for the wrong reason. Only literals that are *exactly* a dotted path are
touched (no prose, no f-strings, no bytes); prefix and quote style are kept. Logger names are left alone
because the shims keep the legacy logger names.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from ._dotted import code_of
from ._mapping import MigrationMap, is_dotted_name
from ._records import Change, Unmoved

_LOGGER_KEYWORDS = frozenset({"logger", "logger_name"})


class StringRefRewriter(cst.CSTTransformer):
    """Moves dotted-path strings to the shims. It never changes line structure, so it may run first."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, table: MigrationMap) -> None:
        super().__init__()
        self.table = table
        self.changes: list[Change] = []
        self.unmoved: list[Unmoved] = []
        self._logger_names: set[cst.CSTNode] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        attr = func.attr.value if isinstance(func, cst.Attribute) else None
        is_get_logger = (isinstance(func, cst.Name) and func.value == "getLogger") or attr == "getLogger"
        if is_get_logger and node.args and node.args[0].keyword is None:
            self._logger_names.add(node.args[0].value)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in _LOGGER_KEYWORDS:
                self._logger_names.add(arg.value)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        prefix = original_node.prefix
        if "b" in prefix.lower():
            return updated_node
        body = original_node.raw_value
        if not is_dotted_name(body):
            return updated_node
        match = self.table.match(body)
        if match is None:
            return updated_node
        line = self.get_metadata(PositionProvider, original_node).start.line
        if original_node in self._logger_names:
            reason = "logger name; the shims keep legacy logger names"
            self.unmoved.append(Unmoved(line, match.legacy, body, reason, "string"))
            return updated_node
        rest = body[len(match.legacy) + 1 :] if len(body) > len(match.legacy) else ""
        first = rest.split(".", 1)[0]
        key_match = self.table.match(match.legacy)  # provides applies to names of the mapped module
        if first and key_match is not None and not self.table.provides_name(key_match, first):
            self.unmoved.append(Unmoved(line, match.legacy, first, f"{match.shim} does not provide it", "string"))
            return updated_node
        new_body = match.shim + body[len(match.legacy) :]
        quote = original_node.quote
        result = updated_node.with_changes(value=f"{prefix}{quote}{new_body}{quote}")
        self.changes.append(Change(line, line, "string", code_of(original_node), code_of(result)))
        return result
