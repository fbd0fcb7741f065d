"""The installed CPython standard library, with the default mapping: nothing changes, nothing fails.

Three runs, one per path through the tool. The whole tree through the CLI shows the prefilter: it
rejects every file (the stdlib never spells ``llm_adapter``), so nothing is parsed and nothing changes.
An evenly spread sample of real modules goes straight through ``rewrite_source``, so every one of them
is parsed, transformed and left byte-identical. Copies of the same sample with a legacy import and a
dotted string appended go through the CLI, so every file is a candidate and must come back rewritten
exactly there and nowhere else. Any exception or failed file fails the test.
"""

from __future__ import annotations

import functools
import shutil
import sysconfig
import warnings
from pathlib import Path

from tekton_codemods import rewrite_source
from tekton_codemods._discovery import discover
from tekton_codemods._modules import package_name
from tekton_codemods._source import decode_source

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLE_SIZE = 40
SEED = "\nfrom terma.core.llm_adapter import LLMAdapter  # seeded\nSEEDED = 'terma.core.llm_adapter.LLMAdapter'\n"
SEED_AFTER = SEED.replace("terma.core.llm_adapter", "tekton_llm_shims.terma")


def _is_valid_python(data: bytes, path: Path) -> bool:
    """What the running interpreter accepts; the stdlib ships deliberately broken files as test data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


@functools.cache
def stdlib_sample() -> tuple[Path, ...]:
    """About ``SAMPLE_SIZE`` small valid modules spread evenly over the tree (small: libcst needs ~0.1 s
    per 10 kB, and breadth matters more than size here). An invalid pick is replaced by the next file."""
    files = sorted(Path(p) for p in discover([STDLIB]).files if "site-packages" not in p)
    small = [path for path in files if path.stat().st_size < 12_000]
    step = max(1, len(small) // SAMPLE_SIZE)
    sample: list[Path] = []
    for start in range(0, len(small), step):
        for path in small[start : start + step]:
            if _is_valid_python(path.read_bytes(), path):
                sample.append(path)
                break
    return tuple(sample[:SAMPLE_SIZE])


def test_check_over_the_whole_stdlib_parses_nothing_and_changes_nothing(cli) -> None:
    result = cli("rewrite", "--check", STDLIB)
    scanned, candidates, changed, failed = result.summary
    assert result.code == 0, result.err
    assert scanned > 1000
    assert candidates == 0  # the prefilter path: no stdlib file spells a legacy module
    assert changed == 0
    assert failed == 0
    assert result.out == ""


def test_every_sampled_stdlib_module_is_parsed_and_left_unchanged() -> None:
    sample = stdlib_sample()
    assert len(sample) >= SAMPLE_SIZE * 3 // 4
    for path in sample:
        text = decode_source(path.read_bytes()).text
        result = rewrite_source(text, package=package_name(path))  # raises on any failure
        assert result.new_source == text, path
        assert result.changes == () and result.unmoved == (), path


def test_seeded_stdlib_copies_are_rewritten_exactly_through_the_cli(tmp_path, cli, read_report) -> None:
    sample = stdlib_sample()
    tree = tmp_path / "seeded"
    tree.mkdir()
    originals: dict[Path, bytes] = {}
    for index, path in enumerate(sample):
        copy = tree / f"m{index:02d}_{path.name}"
        shutil.copyfile(path, copy)
        data = copy.read_bytes()
        newline = b"\r\n" if b"\r\n" in data else b"\n"
        originals[copy] = data
        copy.write_bytes(data + SEED.encode("ascii").replace(b"\n", newline))
    report = tmp_path / "report.json"

    result = cli("rewrite", tree, "--report", report)

    assert result.code == 0, result.err
    assert result.summary == (len(sample), len(sample), len(sample), 0)
    for copy, data in originals.items():
        newline = b"\r\n" if b"\r\n" in data else b"\n"
        assert copy.read_bytes() == data + SEED_AFTER.encode("ascii").replace(b"\n", newline), copy
    entries = read_report(report)["files"]
    assert [entry["status"] for entry in entries] == ["changed"] * len(sample)
    assert all([change["kind"] for change in entry["changes"]] == ["import-from", "string"] for entry in entries)
    assert all(entry["unmoved_names"] == [] for entry in entries)

    again = cli("rewrite", "--check", tree)
    assert again.code == 0, again.err
    assert again.summary == (len(sample), 0, 0, 0)
