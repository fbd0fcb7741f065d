"""The installed CPython standard library, with the default mapping: nothing changes, nothing fails.

The CLI run shows the prefilter keeps a tree of thousands of files fast; the direct run over a sample
bypasses the prefilter to show the transformers themselves leave arbitrary real code untouched.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

from tekton_codemods import rewrite_source
from tekton_codemods._discovery import discover
from tekton_codemods._source import SourceDecodeError, decode_source

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def test_check_over_the_whole_stdlib_finds_nothing_and_fails_nothing(cli) -> None:
    result = cli("rewrite", "--check", STDLIB)
    scanned, _candidates, changed, failed = result.summary
    assert result.code == 0, result.err
    assert scanned > 1000
    assert changed == 0
    assert failed == 0
    assert result.out == ""


def test_transformers_leave_a_stdlib_sample_unchanged() -> None:
    # Small files only: libcst needs ~0.1 s per 10 kB, and breadth matters more than size here.
    files = [Path(p) for p in discover([STDLIB]).files if "site-packages" not in p]
    small = [path for path in files if path.stat().st_size < 12_000]
    sample = small[:: max(1, len(small) // 40)][:40]
    assert len(sample) >= 20
    rewritten = 0
    for path in sample:
        try:
            text = decode_source(path.read_bytes()).text
        except SourceDecodeError:
            continue  # deliberately broken test data in the stdlib
        try:
            result = rewrite_source(text)
        except Exception:
            continue
        rewritten += 1
        assert not result.changed, path
        assert result.changes == () and result.unmoved == (), path
    assert rewritten >= 15
