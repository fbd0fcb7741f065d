"""Token counting: the heuristic, the exact tiktoken path from local files only, and never a download."""

from __future__ import annotations

import base64
import hashlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tekton_llm_client.utils import token_counter as tc
from tekton_llm_client.utils.token_counter import (
    count_message_tokens,
    count_tokens,
    estimate_tokens,
    token_counting_backend,
    truncate_text_to_token_limit,
)

try:
    import tiktoken
    import tiktoken.load as tiktoken_load
    import tiktoken.registry as tiktoken_registry
except ImportError:  # the heuristic tests still run; the tiktoken ones are skipped
    tiktoken = tiktoken_load = tiktoken_registry = None  # type: ignore[assignment]

needs_tiktoken = pytest.mark.skipif(tiktoken is None, reason="tiktoken (the 'tokens' extra) is not installed")

SYNTHETIC = "tekton_test_bpe"
SYNTHETIC_URL = "https://example.invalid/encodings/tekton_test_bpe.tiktoken"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Empty tiktoken cache, no local file, and every network path of tiktoken recorded and refused."""
    attempts: list[str] = []

    def refuse_read(blobpath: str) -> bytes:
        attempts.append(blobpath)
        raise AssertionError(f"tiktoken tried to fetch {blobpath}")

    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(f"connect {host}")
            raise AssertionError(f"network connection attempted to {host}")
        real_connect(self, address)

    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.delenv("TEKTON_TIKTOKEN_FILE", raising=False)
    if tiktoken_load is not None:
        monkeypatch.setattr(tiktoken_load, "read_file", refuse_read)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    tc._load_encoder.cache_clear()
    yield attempts
    tc._load_encoder.cache_clear()


def _synthetic_rank_file(path: Path) -> str:
    """A byte-level BPE with three merges: ``he``, ``ll``, ``hell``. Returns the file's SHA-256."""
    ranks = [bytes([b]) for b in range(256)] + [b"he", b"ll", b"hell"]
    lines = [f"{base64.b64encode(token).decode()} {rank}" for rank, token in enumerate(ranks)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def synthetic_encoding(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Register a tiny encoding with tiktoken the way its plugins do (its ranks load from ``SYNTHETIC_URL``)."""
    if tiktoken is None:
        pytest.skip("tiktoken (the 'tokens' extra) is not installed")
    rank_file = tmp_path / "tekton_test_bpe.tiktoken"
    sha = _synthetic_rank_file(rank_file)

    def constructor() -> dict[str, Any]:
        return {
            "name": SYNTHETIC,
            "pat_str": r"\S+|\s+",
            "mergeable_ranks": tiktoken_load.load_tiktoken_bpe(SYNTHETIC_URL, expected_hash=sha),
            "special_tokens": {},
        }

    tiktoken.list_encoding_names()  # makes tiktoken build its constructor table
    assert tiktoken_registry.ENCODING_CONSTRUCTORS is not None
    monkeypatch.setitem(tiktoken_registry.ENCODING_CONSTRUCTORS, SYNTHETIC, constructor)
    monkeypatch.setitem(tc.KNOWN_ENCODINGS, SYNTHETIC, (SYNTHETIC_URL, sha))
    monkeypatch.setattr(tc, "DEFAULT_ENCODING", SYNTHETIC)
    yield rank_file, sha
    tiktoken_registry.ENCODINGS.pop(SYNTHETIC, None)


def test_heuristic_values() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("hello") == 2  # ceil((5/4 + 1.3) / 2)
    assert estimate_tokens("Hello, world!") == 4  # ceil((13/4 + 2*1.3 + 2 symbols) / 2)
    assert estimate_tokens("   ") == 1  # blank but not empty: never 0


def test_heuristic_grows_with_appended_text() -> None:
    text = "The quick brown fox, 42 times: jumps!"
    counts = [estimate_tokens(text[:i]) for i in range(len(text) + 1)]
    assert counts == sorted(counts)


@needs_tiktoken
def test_without_a_local_encoding_counts_are_heuristic_and_nothing_is_downloaded(offline: list[str]) -> None:
    assert token_counting_backend() == "heuristic (no local cl100k_base file)"
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("Hello, world!", model="gpt-4o") == 4
    assert offline == []


def test_a_cached_file_with_a_wrong_hash_is_not_used(offline: list[str]) -> None:
    cached = tc.tiktoken_cache_path("cl100k_base")
    assert cached is not None and cached.parent.is_dir()
    cached.write_bytes(b"not the real encoding\n")
    assert count_tokens("Hello, world!") == 4
    assert token_counting_backend().startswith("heuristic")
    assert cached.read_bytes() == b"not the real encoding\n"  # tiktoken never got the chance to replace it
    assert offline == []


@needs_tiktoken
def test_disabled_tiktoken_cache_means_heuristic(monkeypatch: pytest.MonkeyPatch, offline: list[str]) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert token_counting_backend() == "heuristic (tiktoken cache disabled)"
    assert count_tokens("abc") == estimate_tokens("abc")
    assert offline == []


def test_without_tiktoken_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    assert token_counting_backend() == "heuristic (tiktoken not installed)"
    assert count_tokens("Hello, world!") == 4


def test_exact_counts_from_a_file_already_in_the_cache(
    synthetic_encoding: tuple[Path, str], offline: list[str]
) -> None:
    rank_file, _ = synthetic_encoding
    cached = tc.tiktoken_cache_path(SYNTHETIC)
    assert cached is not None
    cached.write_bytes(rank_file.read_bytes())
    assert token_counting_backend() == f"tiktoken {SYNTHETIC} from cache"
    # hello → "hell" + "o"; " " → 1; world → 5 single bytes (no merges apply).
    assert count_tokens("hello world") == 8
    assert estimate_tokens("hello world") == 3  # the heuristic would have said otherwise
    assert truncate_text_to_token_limit("hello world", 3) == "hello "
    assert truncate_text_to_token_limit("hello world", 8) == "hello world"
    assert offline == []


def test_exact_counts_from_tekton_tiktoken_file(
    synthetic_encoding: tuple[Path, str], offline: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rank_file, _ = synthetic_encoding
    monkeypatch.setenv("TEKTON_TIKTOKEN_FILE", str(rank_file))
    assert count_tokens("hello hello") == 5  # hell o ␠ hell o
    assert token_counting_backend() == f"tiktoken {SYNTHETIC} from TEKTON_TIKTOKEN_FILE"
    cached = tc.tiktoken_cache_path(SYNTHETIC)
    assert cached is not None and cached.read_bytes() == rank_file.read_bytes()
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temp file left behind
    assert offline == []


def test_tekton_tiktoken_file_with_other_content_is_ignored(
    synthetic_encoding: tuple[Path, str], offline: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "other.tiktoken"
    other.write_bytes(b"aGVsbG8= 0\n")
    monkeypatch.setenv("TEKTON_TIKTOKEN_FILE", str(other))
    assert count_tokens("hello world") == 3
    assert token_counting_backend() == f"heuristic (no local {SYNTHETIC} file)"
    assert offline == []


def test_message_tokens_add_framing_per_message() -> None:
    one = [{"role": "user", "content": "hello"}]
    assert count_message_tokens([]) == 0
    # 3 framing + "user" (2) + "hello" (2), then 3 to prime the reply.
    assert count_message_tokens(one) == 10
    two = [*one, {"role": "assistant", "content": "Hello, world!"}]
    assert count_message_tokens(two) == 10 + 3 + estimate_tokens("assistant") + 4


def test_message_tokens_accept_message_models() -> None:
    from tekton_llm_client.models import Message

    as_dicts = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    as_models = [Message(role="system", content="Be brief."), Message(role="user", content="hi")]
    assert count_message_tokens(as_models) == count_message_tokens(as_dicts)


def test_heuristic_truncation_returns_the_longest_fitting_prefix() -> None:
    text = "one two three four five six seven eight nine ten"
    cut = truncate_text_to_token_limit(text, 5)
    assert text.startswith(cut) and estimate_tokens(cut) <= 5
    assert estimate_tokens(text[: len(cut) + 1]) > 5
    assert truncate_text_to_token_limit(text, 0) == ""
    assert truncate_text_to_token_limit(text, 1000) == text


def test_model_names_choose_the_encoding() -> None:
    assert tc.encoding_name_for_model(None) == "cl100k_base"
    assert tc.encoding_name_for_model("gpt-4o-mini") == "o200k_base"
    assert tc.encoding_name_for_model("claude-3-sonnet-20240229") == "cl100k_base"
    assert tc.encoding_name_for_model("text-davinci-003") == "p50k_base"
