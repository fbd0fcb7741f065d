"""The byte-level test that keeps parsing off the hot path.

A file can only reach a mapped module by spelling the module's last segment somewhere (absolute
imports, ``from pkg import llm_adapter``, relative imports and string references all contain it), so a
substring search over the raw bytes rejects almost every file of a monorepo before any decode or parse.
"""

from __future__ import annotations

from collections.abc import Iterable


class Prefilter:
    """Decides whether a file's bytes could reference a mapped module."""

    __slots__ = ("_needles",)

    def __init__(self, needles: Iterable[bytes]) -> None:
        self._needles = tuple(needles)

    def matches(self, data: bytes) -> bool:
        return any(needle in data for needle in self._needles)
