"""Token counts for budgets and context trimming, exact when possible and never at the cost of a download.

tiktoken fetches its encoding files from the internet on first use, which a Tekton component must never do at run
time. So the exact path is taken only when tiktoken is importable **and** the encoding file is already on disk:

* tiktoken's own cache (``TIKTOKEN_CACHE_DIR``, else ``DATA_GYM_CACHE_DIR``, else ``<tempdir>/data-gym-cache``)
  holds the file under tiktoken's cache name with the right SHA-256 (a file with a wrong hash would make
  tiktoken delete it and download again, so it is checked first), or
* ``TEKTON_TIKTOKEN_FILE`` names a local copy of the encoding file (``cl100k_base.tiktoken`` ...); when its
  SHA-256 matches, it is copied into that cache (atomically), because tiktoken reads encodings only from there.

Everything else uses a documented heuristic (:func:`estimate_tokens`). Which path answered is visible through
:func:`token_counting_backend`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .._files import atomic_write

__all__ = [
    "DEFAULT_ENCODING",
    "KNOWN_ENCODINGS",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "count_message_tokens",
    "count_tokens",
    "encoding_name_for_model",
    "estimate_tokens",
    "tiktoken_cache_dir",
    "tiktoken_cache_path",
    "token_counting_backend",
    "truncate_text_to_token_limit",
]

logger = logging.getLogger("tekton_llm_client")

DEFAULT_ENCODING = "cl100k_base"

#: Encodings the exact path may use: where tiktoken fetches each file from (its cache key is derived from this
#: address) and the SHA-256 of the file's content.
KNOWN_ENCODINGS: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "p50k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
        "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
    ),
    "r50k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
        "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    ),
}

#: Per-message framing overhead of chat formats (role marker, separators) and the priming of the reply.
MESSAGE_OVERHEAD_TOKENS = 3
REPLY_PRIMING_TOKENS = 3

_WORD = re.compile(r"\w+", re.UNICODE)
_SYMBOL = re.compile(r"[^\w\s]", re.UNICODE)


class _Encoder(Protocol):
    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


def estimate_tokens(text: str) -> int:
    """Heuristic token count used when no local encoding is available.

    BPE tokenizers average about 4 characters per token on English prose, but short words, digits and
    punctuation cost more and long words less. The estimate blends both views: the mean of ``chars / 4`` and
    ``1.3 × words + symbols`` (a word is a run of letters/digits, a symbol any other non-space character),
    rounded up. It is within roughly ±20 % of cl100k on English text and code, never 0 for non-blank text, and
    grows monotonically as text is appended (so truncation can binary-search it).
    """
    if not text:
        return 0
    words = len(_WORD.findall(text))
    symbols = len(_SYMBOL.findall(text))
    by_chars = len(text) / 4.0
    by_words = 1.3 * words + symbols
    return max(1, math.ceil((by_chars + by_words) / 2.0))


def encoding_name_for_model(model: str | None) -> str:
    """The tiktoken encoding for a model name; Rhetor's non-OpenAI models are approximated with cl100k."""
    if not model:
        return DEFAULT_ENCODING
    name = model.lower()
    if name.startswith(("gpt-4o", "gpt-4.1", "o1", "o3", "o4", "gpt-5")):
        return "o200k_base"
    if name.startswith(("text-davinci-002", "text-davinci-003", "code-davinci")):
        return "p50k_base"
    if name.startswith(("davinci", "curie", "babbage", "ada")) and "embedding" not in name:
        return "r50k_base"
    return DEFAULT_ENCODING


def tiktoken_cache_dir() -> str:
    """The directory tiktoken caches encoding files in, following tiktoken's own environment rules."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def tiktoken_cache_path(encoding: str = DEFAULT_ENCODING) -> Path | None:
    """Where tiktoken expects a known encoding's file; ``None`` when caching is disabled or the name is unknown.

    Operators can pre-seed this path to enable exact counts offline.
    """
    known = KNOWN_ENCODINGS.get(encoding)
    cache_dir = tiktoken_cache_dir()
    if known is None or cache_dir == "":
        return None
    return Path(cache_dir) / hashlib.sha1(known[0].encode()).hexdigest()


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


_load_lock = threading.Lock()


def _install_local_file(source: Path, target: Path) -> bool:
    """Copy a verified encoding file to tiktoken's cache path atomically (a reader never sees half a file)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, source.read_bytes())
    except OSError as error:
        logger.debug("cannot install TEKTON_TIKTOKEN_FILE into the tiktoken cache: %s", type(error).__name__)
        return False
    return True


class _NoLocalEncoding(Exception):
    """Why the exact path is not available (the text goes into ``token_counting_backend``)."""


def _cached_encoding_file(encoding: str, local_file: str) -> str:
    """Make sure tiktoken's cache holds the verified file for ``encoding``; say where it came from.

    tiktoken only reads encodings through its cache, so a verified ``TEKTON_TIKTOKEN_FILE`` is placed there.
    """
    known = KNOWN_ENCODINGS.get(encoding)
    if known is None:
        raise _NoLocalEncoding(f"unknown encoding {encoding!r}")
    expected = known[1]
    cached = tiktoken_cache_path(encoding)
    if cached is None:
        raise _NoLocalEncoding("tiktoken cache disabled")
    if _sha256_of(cached) == expected:
        return "cache"
    if not local_file or _sha256_of(Path(local_file)) != expected:
        raise _NoLocalEncoding(f"no local {encoding} file")
    if not _install_local_file(Path(local_file), cached):
        raise _NoLocalEncoding("tiktoken cache not writable")
    return "TEKTON_TIKTOKEN_FILE"


@functools.lru_cache(maxsize=16)
def _load_encoder(encoding: str, cache_dir: str, local_file: str) -> tuple[_Encoder | None, str]:
    """The tiktoken encoder for ``encoding`` if it can be built from local files only, and why (or why not).

    Keyed by the environment that decides the outcome, so changing ``TIKTOKEN_CACHE_DIR`` or
    ``TEKTON_TIKTOKEN_FILE`` takes effect on the next call.
    """
    try:
        import tiktoken
    except ImportError:
        return None, "heuristic (tiktoken not installed)"
    try:
        source = _cached_encoding_file(encoding, local_file)
        # The file is in the cache with the right hash, so tiktoken reads it and never touches the network.
        encoder = tiktoken.get_encoding(encoding)
    except _NoLocalEncoding as why:
        return None, f"heuristic ({why})"
    except (ValueError, OSError) as error:
        return None, f"heuristic (tiktoken failed: {type(error).__name__})"
    return encoder, f"tiktoken {encoding} from {source}"


def _encoder(model: str | None) -> tuple[_Encoder | None, str]:
    encoding = encoding_name_for_model(model)
    with _load_lock:
        return _load_encoder(encoding, tiktoken_cache_dir(), os.environ.get("TEKTON_TIKTOKEN_FILE", ""))


def token_counting_backend(model: str | None = None) -> str:
    """Human-readable description of how tokens are counted for ``model`` (for logs and diagnostics)."""
    return _encoder(model)[1]


def count_tokens(text: str, model: str | None = None) -> int:
    """Tokens in ``text`` for ``model`` (exact with a local tiktoken encoding, else :func:`estimate_tokens`)."""
    if not text:
        return 0
    encoder, _ = _encoder(model)
    if encoder is None:
        return estimate_tokens(text)
    return len(encoder.encode(text, disallowed_special=()))


def _role_and_content(message: Any) -> tuple[str, str]:
    if isinstance(message, Mapping):
        return str(message.get("role", "")), str(message.get("content") or "")
    role = getattr(message, "role", "")
    return str(getattr(role, "value", role)), str(getattr(message, "content", "") or "")


def count_message_tokens(messages: Iterable[Any], model: str | None = None) -> int:
    """Tokens a chat message list costs: each message's role and content plus the chat-format framing.

    Accepts ``{"role", "content"}`` dicts and ``Message`` models. The framing constants follow the OpenAI chat
    format (3 tokens per message, 3 to prime the reply); other providers differ by a few tokens per message.
    """
    total = 0
    count = 0
    for message in messages:
        role, content = _role_and_content(message)
        total += MESSAGE_OVERHEAD_TOKENS + count_tokens(role, model) + count_tokens(content, model)
        count += 1
    return total + REPLY_PRIMING_TOKENS if count else 0


def truncate_text_to_token_limit(text: str, max_tokens: int, model: str | None = None) -> str:
    """The longest prefix of ``text`` that fits in ``max_tokens`` (``""`` for a limit of 0 or less)."""
    if max_tokens <= 0 or not text:
        return ""
    encoder, _ = _encoder(model)
    if encoder is not None:
        tokens = encoder.encode(text, disallowed_special=())
        if len(tokens) <= max_tokens:
            return text
        prefix = encoder.decode(tokens[:max_tokens])
        # A cut inside a multi-byte character decodes to U+FFFD: drop that partial character.
        return prefix.rstrip("\ufffd")
    if estimate_tokens(text) <= max_tokens:
        return text
    # The heuristic grows monotonically with the prefix length, so the longest fitting prefix is found by
    # bisection.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low]
