"""Dotted names as CST expressions and back.

``a.b.c`` is a chain of ``Attribute`` nodes over a ``Name``; every transformer needs to read such chains
and to build new ones, and only chains made purely of names count (``f().b`` is not a module path).
"""

from __future__ import annotations

import warnings

import libcst as cst

_EMPTY_MODULE = cst.Module(body=())


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``"a.b.c"`` for a pure name chain, else ``None``."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def string_value(node: cst.BaseExpression) -> str | None:
    """What a plain string literal holds (``None`` for bytes or anything else). Evaluated quietly: an invalid
    escape such as ``"\\d"`` is the user's code, and its SyntaxWarning must not print from our tool."""
    if not isinstance(node, cst.SimpleString):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = node.evaluated_value
    return value if isinstance(value, str) else None


def alias_name(alias: cst.ImportAlias) -> str | None:
    """The ``as`` name of an imported name, if it has one."""
    return dotted_name(alias.asname.name) if alias.asname is not None else None


def name_expr(dotted: str) -> cst.Name | cst.Attribute:
    """A fresh name chain for ``dotted`` with default (tight) spacing."""
    first, *rest = dotted.split(".")
    expr: cst.Name | cst.Attribute = cst.Name(first)
    for part in rest:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr


def code_of(node: cst.CSTNode) -> str:
    """Source text of one node, for change records."""
    return _EMPTY_MODULE.code_for_node(node)
