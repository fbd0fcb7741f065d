"""P1: ``tekton-migrate rewrite --check`` over the CPython standard library, against grep and libcst.

Prints a markdown table. The floor is ``grep -rl llm_adapter`` on the same directory; the peer is
``python -m libcst.tool codemod rename.RenameCommand`` doing the same rename. The peer parses every file,
so it runs on an evenly spread sample (copied to a temporary directory, since it writes in place) and
its per-file rate is extrapolated to the whole tree. A second sample, with a legacy import and a
mock.patch string appended to every file, makes every file a candidate: it shows the parse path and
proves the rewrite breaks nothing there. The standard library itself is only read, and its digest is
compared before and after.

Targets (issue 3): at most 3x the grep time, at least 50x faster than the peer, 0 files broken.
Installs nothing; run it with the interpreter that has tekton-codemods and libcst installed.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tekton_codemods._discovery import discover

OLD = "terma.core.llm_adapter"
NEW = "tekton_llm_shims.terma"
SEED = f'\nfrom {OLD} import LLMAdapter  # seeded by bench_rewrite\nSEEDED_TARGET = "{OLD}.LLMAdapter"\n'.encode()
SEED_AFTER = SEED.replace(OLD.encode(), NEW.encode())


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def migrate_command() -> list[str]:
    script = Path(sys.executable).with_name("tekton-migrate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tekton_codemods"]


def peer_command(*paths: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "libcst.tool",
        "codemod",
        "rename.RenameCommand",
        "--old_name",
        OLD,
        "--new_name",
        NEW,
        "--no-format",
        "--hide-progress",
        "-j",
        "1",
        *map(str, paths),
    ]


def timed(command: Sequence[str], repeat: int, cwd: Path | None = None) -> tuple[float, int]:
    """Median wall time of ``repeat`` runs (after one warm-up when repeating) and the last exit code."""
    times: list[float] = []
    code = 0
    for attempt in range(repeat + (1 if repeat > 1 else 0)):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - start
        code = done.returncode
        if repeat == 1 or attempt > 0:
            times.append(elapsed)
    return statistics.median(times), code


def digest(paths: Sequence[str]) -> dict[str, str]:
    return {path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in paths}


def parses(data: bytes) -> bool:
    try:
        ast.parse(data)
    except (SyntaxError, ValueError):
        return False
    return True


def choose_sample(files: Sequence[str], size: int) -> list[Path]:
    """Every k-th file of the sorted tree that the running interpreter can parse (the stdlib ships
    deliberately broken test data, which neither tool should be timed on)."""
    step = max(1, len(files) // size)
    sample: list[Path] = []
    for offset in range(step):
        for path in files[offset::step]:
            data = Path(path).read_bytes()
            if path.endswith(".py") and parses(data) and parses(data + SEED):
                sample.append(Path(path))
            if len(sample) == size:
                return sample
    return sample


def copy_sample(sample: Sequence[Path], target: Path, seeded: bool) -> list[Path]:
    copies = []
    for index, path in enumerate(sample):
        dest = target / f"f{index:04d}_{path.name}"
        data = path.read_bytes()
        dest.write_bytes(data + SEED if seeded else data)
        copies.append(dest)
    return copies


def broken_after_rewrite(originals: Sequence[Path], copies: Sequence[Path], expect_rewrite: bool) -> int:
    """Files whose bytes differ from what a correct run must leave, or that no longer parse."""
    broken = 0
    for original, copy in zip(originals, copies, strict=True):
        expected = original.read_bytes() + (SEED_AFTER if expect_rewrite else b"")
        data = copy.read_bytes()
        if data != expected or not parses(data):
            broken += 1
    return broken


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.1f} ms"
    return f"{seconds * 1e6:,.0f} µs"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per fast command (median)")
    parser.add_argument("--sample", type=int, default=40, help="files in the peer's sample")
    parser.add_argument("--tree", type=Path, default=None, help="directory to use instead of the stdlib")
    args = parser.parse_args(argv)

    tree = args.tree or stdlib_dir()
    files = discover([tree]).files
    all_files = sum(len(names) for _, _, names in os.walk(tree))
    before = digest(files)

    grep = shutil.which("grep")
    grep_time = timed([grep, "-rl", "llm_adapter", str(tree)], args.repeat)[0] if grep else float("nan")
    ours_time, ours_code = timed([*migrate_command(), "rewrite", "--check", str(tree)], args.repeat)
    stdlib_changed = sum(1 for path, sha in digest(files).items() if before[path] != sha)

    sample = choose_sample(files, args.sample)
    with tempfile.TemporaryDirectory(prefix="bench-rewrite-") as temp:
        dirs = {name: Path(temp) / name for name in ("plain", "peer-plain", "seeded", "peer-seeded", "empty")}
        for directory in dirs.values():
            directory.mkdir()
        plain = copy_sample(sample, dirs["plain"], seeded=False)
        peer_plain_copies = copy_sample(sample, dirs["peer-plain"], seeded=False)
        seeded = copy_sample(sample, dirs["seeded"], seeded=True)
        copy_sample(sample, dirs["peer-seeded"], seeded=True)

        ours_plain, _ = timed([*migrate_command(), "rewrite", str(dirs["plain"])], args.repeat)
        broken_ours_plain = broken_after_rewrite(sample, plain, expect_rewrite=False)
        peer_plain, _ = timed(peer_command(dirs["peer-plain"]), 1)
        peer_startup, _ = timed(peer_command(dirs["empty"]), 1)
        broken_peer_plain = broken_after_rewrite(sample, peer_plain_copies, expect_rewrite=False)

        ours_seeded, seeded_code = timed([*migrate_command(), "rewrite", str(dirs["seeded"])], 1)
        broken_ours_seeded = broken_after_rewrite(sample, seeded, expect_rewrite=True)
        second_run = subprocess.run(
            [*migrate_command(), "rewrite", "--check", str(dirs["seeded"])], capture_output=True, check=False
        )
        peer_seeded_time, _ = timed(peer_command(dirs["peer-seeded"]), 1)

    n, s = len(files), len(sample)
    # Start-up is paid once per run, not per file: take it out of the rate, add it back once.
    peer_rate = max(peer_plain - peer_startup, 0.0) / s
    peer_whole = peer_startup + peer_rate * n
    vs_grep = ours_time / grep_time if grep else float("nan")
    vs_peer = peer_whole / ours_time
    broken_total = stdlib_changed + broken_ours_plain + broken_ours_seeded + (second_run.returncode != 0)

    print("## P1 — `tekton-migrate rewrite --check` over the CPython standard library\n")
    print(
        f"Tree: `{tree}` — {n:,} Python files ({all_files:,} files in all, which grep reads). "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, every tool single-process (`-j 1`). "
        f"Fast commands: median of {args.repeat} runs after a warm-up; the peer: one run on a sample of {s} "
        f"files (evenly spread over the sorted tree), because it parses every file.\n"
    )
    print("| run | files | wall time | per file | ratio |")
    print("|---|---:|---:|---:|---:|")
    if grep:
        print(f"| `grep -rl llm_adapter` (floor) | {all_files:,} | {fmt_seconds(grep_time)} | – | 1.00× grep |")
    print(
        f"| `tekton-migrate rewrite --check` (exit {ours_code}) | {n:,} | {fmt_seconds(ours_time)} "
        f"| {fmt_seconds(ours_time / n)} | {vs_grep:.2f}× grep |"
    )
    print(
        f"| libcst `RenameCommand` (peer), sample | {s} | {fmt_seconds(peer_plain)} | {fmt_seconds(peer_plain / s)} "
        f"| {peer_plain / ours_plain:,.0f}× ours on the same sample |"
    )
    print(f"| peer start-up alone (empty directory) | 0 | {fmt_seconds(peer_startup)} | – | – |")
    print(
        f"| peer extrapolated to the tree (start-up + rate × files) | {n:,} | ≈ {fmt_seconds(peer_whole)} "
        f"| {fmt_seconds(peer_rate)} "
        f"| **{vs_peer:,.0f}×** slower than ours |"
    )
    print(
        f"| `tekton-migrate rewrite`, seeded sample (every file a candidate, exit {seeded_code}) | {s} "
        f"| {fmt_seconds(ours_seeded)} | {fmt_seconds(ours_seeded / s)} | parse path |"
    )
    print(
        f"| peer on the seeded sample | {s} | {fmt_seconds(peer_seeded_time)} "
        f"| {fmt_seconds(peer_seeded_time / s)} | {peer_seeded_time / ours_seeded:.2f}× ours |"
    )
    print()
    verdict = {True: "met", False: "**missed**"}
    print(f"- ≤ 3× grep: {verdict[vs_grep <= 3]} ({vs_grep:.2f}×)")
    print(f"- ≥ 50× faster than the peer: {verdict[vs_peer >= 50]} ({vs_peer:,.0f}×, extrapolated from the sample)")
    print(
        f"- files broken: {broken_total} — stdlib files modified: {stdlib_changed}; sample files changed by a "
        f"no-op rewrite: {broken_ours_plain}; seeded files not exactly rewritten or not parsing: "
        f"{broken_ours_seeded}/{s}; second run over the seeded copy found changes: "
        f"{'yes' if second_run.returncode else 'no'} (peer, for reference: {broken_peer_plain} broken on the "
        f"plain sample)"
    )
    return 0 if broken_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
