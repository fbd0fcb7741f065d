"""Engram's memory store: namespaced notes with plain substring search (kept in process for this sample)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Memory:
    memory_id: str
    namespace: str
    content: str


class MemoryStore:
    """Memories in insertion order; ids are stable for the store's lifetime."""

    def __init__(self) -> None:
        self._memories: dict[str, Memory] = {}
        self._ids = itertools.count(1)

    def add(self, content: str, namespace: str = "conversations") -> Memory:
        memory = Memory(f"mem-{next(self._ids)}", namespace, content)
        self._memories[memory.memory_id] = memory
        return memory

    def get(self, memory_id: str) -> Memory | None:
        return self._memories.get(memory_id)

    def search(self, query: str, namespace: str | None = None) -> list[Memory]:
        needle = query.lower()
        return [
            m
            for m in self._memories.values()
            if needle in m.content.lower() and (namespace is None or m.namespace == namespace)
        ]
