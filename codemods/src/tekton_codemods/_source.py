"""Bytes ↔ text for Python source, so a rewrite gives back the exact bytes it was not asked to change.

The encoding comes from the BOM or the PEP 263 cookie exactly as the interpreter would read it; the
text keeps its own line endings (nothing goes through universal-newline translation), and encoding
with the same codec restores the BOM.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass


class SourceDecodeError(ValueError):
    """The bytes are not valid source in the encoding they declare."""


@dataclass(frozen=True)
class SourceText:
    """Decoded source plus the codec that reproduces its bytes (``utf-8-sig`` keeps a BOM)."""

    text: str
    encoding: str

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(data: bytes) -> SourceText:
    """Decode like the interpreter does; undecodable input raises :class:`SourceDecodeError`."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return SourceText(data.decode(encoding), encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceDecodeError(f"cannot decode: {exc}") from exc


def source_lines(text: str) -> list[str]:
    """Lines as the tokenizer counts them: split only at ``\\n``, ``\\r\\n`` and ``\\r`` (``str.splitlines``
    would also split at form feeds and other separators Python treats as ordinary whitespace)."""
    return io.StringIO(text, newline="").readlines()
