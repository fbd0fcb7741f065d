"""Links of the fallback chain after Rhetor: Ollama, then the local canned answer."""

from __future__ import annotations

from .base import FallbackLink
from .fallback import FALLBACK_MODEL, FALLBACK_PROVIDER, FALLBACK_TEXT, FallbackAdapter, LocalFallbackAdapter
from .ollama import OllamaAdapter

__all__ = [
    "FALLBACK_MODEL",
    "FALLBACK_PROVIDER",
    "FALLBACK_TEXT",
    "FallbackAdapter",
    "FallbackLink",
    "LocalFallbackAdapter",
    "OllamaAdapter",
]
