"""Codemods that move Tekton components from their legacy ``llm_adapter`` modules onto the shims.

Importing the package stays cheap (no libcst) so the CLI can reject a clean tree before loading a
parser; the programmatic API below is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._mapping import DEFAULT_MAPPING, DEFAULT_PROVIDES, MappingError, MigrationMap

__version__ = "0.3.0"

if TYPE_CHECKING:
    from ._records import Change, Unmoved
    from ._rewrite import RewriteError, RewriteResult, rewrite_source

__all__ = [
    "DEFAULT_MAPPING",
    "DEFAULT_PROVIDES",
    "Change",
    "MappingError",
    "MigrationMap",
    "RewriteError",
    "RewriteResult",
    "Unmoved",
    "__version__",
    "rewrite_source",
]

_LAZY = {
    "Change": "_records",
    "Unmoved": "_records",
    "RewriteError": "_rewrite",
    "RewriteResult": "_rewrite",
    "rewrite_source": "_rewrite",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tekton_codemods' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
