"""An opt-in response cache for repeated, deterministic requests.

Only a request at ``temperature == 0`` asks for the same answer every time, so only those are cached; anything
sampled would turn a cache hit into a silent change of behaviour. Errors and fallback answers are never stored:
a cached "LLM service unavailable" would outlive the outage. Entries expire after ``ttl`` seconds and the least
recently used entry goes first when the cache is full.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ._request import LLMRequest
from .exceptions import ConfigurationError
from .models import CompletionResponse

__all__ = ["CacheStats", "ResponseCache", "cache_key"]


def cache_key(request: LLMRequest) -> str | None:
    """Stable hash of what decides the answer, or ``None`` when the request must not be cached.

    The key covers messages, system prompt, model, provider, temperature, max tokens, top_p, stop sequences and
    the pass-through options in ``extra`` (which may change the answer too). Ids, context ids, timeouts and the
    stream flag do not change the answer and are left out, so a streamed and a non-streamed call share an entry.
    """
    if request.temperature is None or request.temperature != 0:
        return None
    logical = {
        "messages": request.messages,
        "system_prompt": request.system_prompt,
        "model": request.model,
        "provider": request.provider,
        "temperature": 0.0,
        "max_tokens": request.max_tokens,
        "top_p": request.top_p,
        "stop": request.stop,
        "extra": request.extra,
    }
    encoded = json.dumps(logical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since creation (or the last ``clear``); lookups of uncacheable requests are not counted."""

    hits: int
    misses: int
    size: int
    evictions: int
    expirations: int

    @property
    def hit_rate(self) -> float:
        """Hits per counted lookup (0.0 before the first lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class ResponseCache:
    """LRU cache with a time-to-live, keyed by :func:`cache_key`. Thread safe; ``clock`` is injectable for tests."""

    def __init__(
        self,
        max_entries: int = 256,
        ttl: float = 300.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries <= 0:
            raise ConfigurationError("max_entries must be positive")
        if ttl <= 0:
            raise ConfigurationError("ttl must be positive")
        self.max_entries = max_entries
        self.ttl = float(ttl)
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, CompletionResponse]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = self._evictions = self._expirations = 0

    def __repr__(self) -> str:
        return f"ResponseCache(max_entries={self.max_entries}, ttl={self.ttl}, size={len(self._entries)})"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, request: LLMRequest) -> CompletionResponse | None:
        """A copy of the cached answer, or ``None`` (uncacheable request, unknown or expired entry)."""
        key = cache_key(request)
        if key is None:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now >= entry[0]:
                del self._entries[key]
                self._expirations += 1
                entry = None
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            response = entry[1]
        # A copy, so a caller editing its response cannot change what later callers get.
        return response.model_copy(deep=True)

    def put(self, request: LLMRequest, response: CompletionResponse) -> bool:
        """Store an answer; ``False`` when it must not be cached (uncacheable request, error or fallback)."""
        key = cache_key(request)
        if key is None or response.fallback or response.error is not None:
            return False
        expires = self._clock() + self.ttl
        stored = response.model_copy(deep=True)
        with self._lock:
            self._entries[key] = (expires, stored)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
                self._evictions += 1
        return True

    def invalidate(self, request: LLMRequest) -> bool:
        """Drop the entry of one request; ``True`` if there was one."""
        key = cache_key(request)
        if key is None:
            return False
        with self._lock:
            return self._entries.pop(key, None) is not None

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = self._evictions = self._expirations = 0

    @property
    def stats(self) -> CacheStats:
        """Current counters."""
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._entries), self._evictions, self._expirations)

    def contains(self, request: LLMRequest) -> bool:
        """Whether a live entry exists (does not count as a lookup or refresh recency)."""
        key = cache_key(request)
        if key is None:
            return False
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and self._clock() < entry[0]

