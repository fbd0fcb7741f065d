"""P1: ``tekton-migrate rewrite --check`` over the CPython standard library and over a real-shaped monorepo,
against grep and libcst.

Prints markdown tables. The floor is ``grep -rl llm_adapter`` on the same directory; the peer is
``python -m libcst.tool codemod rename.RenameCommand`` doing the same rename. The peer parses every file,
so it runs on an evenly spread sample (copied to a temporary directory, since it writes in place) and
its per-file rate is extrapolated to the whole tree. A second sample, with a legacy import and a
mock.patch string appended to every file, makes every file a candidate: it shows the parse path and
proves the rewrite breaks nothing there. The standard library itself is only read, and its digest is
compared before and after.

The monorepo section (issue 11) generates, at bench time, a tree shaped like Tekton (commit 7a37122a: 3,590
files, 1,805 of them Python at ~10 KB on average, ~50 MB of docs, JSON and JS that grep reads too): thousands of
files in component folders, dozens of candidates that spell ``llm_adapter`` without needing a change (logger names,
debug tags, component-name lists, other components' own adapters reached by relative imports) and a few
that do (function-local relative imports, absolute imports, a ``mock.patch`` string). ``grep`` and
``rewrite --check -j 1`` run interleaved, each ``--repeat`` times; medians and spread (min–max) are shown.
``--monorepo PATH`` measures a given tree instead (``--check`` writes nothing), e.g. a Tekton checkout.

Targets: stdlib ≤ 3× grep, ≥ 50× faster than the peer; monorepo ≤ 10× grep; the parse path (seeded sample)
≥ 5× faster than the peer; 0 files broken. Timings on a shared machine are noisy: read the spread.
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
from typing import Any

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


def run_once(command: Sequence[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Each command once per round, ``repeat`` rounds after one warm-up round, so load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(repeat + 1):
        for name, command in commands.items():
            elapsed, _ = run_once(command)
            if round_number:
                times[name].append(elapsed)
    return times


def spread(values: Sequence[float]) -> str:
    return f"{fmt_seconds(statistics.median(values))} ({fmt_seconds(min(values))}–{fmt_seconds(max(values))})"


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


# -- the real-shaped monorepo ---------------------------------------------------------------------------

COMPONENTS = (
    "terma",
    "hermes",
    "telos",
    "engram",
    "budget",
    "metis",
    "prometheus",
    "sophia",
    "synthesis",
    "apollo",
    "athena",
    "ergon",
    "harmonia",
    "hephaestus",
    "rhetor",
    "codex",
)
LEGACY_COMPONENTS = ("terma", "hermes", "telos", "engram")


def _filler(component: str, index: int) -> str:
    """An ordinary module of ~250 lines (~10 KB, the real tree's mean) that never mentions the legacy module."""
    return (
        f'"""{component} module {index}."""\n\nimport json\nimport logging\nimport os\n'
        f"from typing import Any\n\nlogger = logging.getLogger(__name__)\n\n\n"
        + "".join(
            f"class Handler{n}:\n    \"\"\"Handles step {n} of the {component} pipeline.\"\"\"\n\n"
            f"    def __init__(self, config: dict[str, Any]) -> None:\n"
            f"        self.config = config\n        self.path = os.path.join('/tmp', '{component}', '{n}')\n\n"
            f"    def run(self, payload: str) -> dict[str, Any]:\n        data = json.loads(payload)\n"
            f"        if not isinstance(data, dict):\n            raise ValueError('expected an object')\n"
            f"        logger.debug('handler {n} got %s', data)\n        return {{'ok': True, 'n': {n}, **data}}\n\n\n"
            for n in range(16)
        )
    )


def _other_file(component: str, index: int) -> tuple[str, str]:
    """A non-Python file as the real tree has them (docs, JSON, JS, ~28 KB on average): grep reads them too."""
    kind = ("md", "json", "js")[index % 3]
    line = {
        "md": f"The {component} component handles request {index} and reports to Hermes.\n",
        "json": f'  {{"component": "{component}", "index": {index}, "enabled": true}},\n',
        "js": f"export function handle{index}(request) {{ return fetch('/api/{component}', request); }}\n",
    }[kind]
    return f"doc{index:03d}.{kind}", line * (28_000 // len(line))


def _mentions(component: str, index: int) -> str:
    """A candidate that spells llm_adapter and needs no change (the shapes found in the real tree)."""
    shapes = [
        f'import logging\n\nlogger = logging.getLogger("{component}.llm_adapter")\n',
        "def log(debug_log):\n" + "".join(f'    debug_log.info("llm_adapter", "step {n}")\n' for n in range(20)),
        'CAPABILITIES = {"integration_targets": ["hermes", "engram", "llm_adapter"]}\n',
        "from .llm_adapter import get_llm_adapter\n\nllm_adapter = get_llm_adapter()\n",
        "from ..core import llm_adapter\n\n\ndef ask(q):\n    return llm_adapter.ask(q)\n",
    ]
    # Relative imports of ``llm_adapter`` reach the component's own adapter: only harmless where that is not legacy.
    usable = shapes if component not in LEGACY_COMPONENTS else shapes[:3]
    return _filler(component, index) + "\n\n" + usable[index % len(usable)]


def _needs_change(component: str, index: int) -> str:
    shapes = [
        "\n\nasync def llm_status():\n    from ..core.llm_adapter import LLMAdapter\n\n    return LLMAdapter()\n",
        f"\nfrom {component}.core.llm_adapter import LLMAdapter\n\nADAPTER = LLMAdapter()\n",
        f"\nfrom unittest import mock\n\nPATCH = mock.patch('{component}.core.llm_adapter.LLMAdapter.chat')\n",
    ]
    return _filler(component, index) + shapes[index % len(shapes)]


def make_monorepo(root: Path, files_per_component: int = 112) -> int:
    """Write the tree; returns how many files need a change."""
    changed = 0
    for c_index, component in enumerate(COMPONENTS):
        base = root / component.capitalize() / component
        for sub in ("", "core", "api", "utils"):
            (base / sub).mkdir(parents=True, exist_ok=True)
            (base / sub / "__init__.py").write_text("")
        adapter = f'import logging\n\nlogger = logging.getLogger("{component}.llm_adapter")\n\nclass LLMAdapter: ...\n'
        (base / "core" / "llm_adapter.py").write_text(adapter)
        for index in range(files_per_component):
            folder = base / ("api", "utils", "core")[index % 3]
            if index % 40 == 7:
                text = _mentions(component, index + c_index)
            elif component in LEGACY_COMPONENTS and index == 11:
                text, changed = _needs_change(component, index + c_index), changed + 1
            else:
                text = _filler(component, index)
            (folder / f"m{index:03d}.py").write_text(text)
            name, other = _other_file(component, index)
            (base.parent / "docs").mkdir(exist_ok=True)
            (base.parent / "docs" / name).write_text(other)
    return changed


def monorepo_section(tree: Path | None, repeat: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-monorepo-") as temp:
        root = tree or Path(temp) / "tekton"
        expected = None if tree else make_monorepo(root)
        files = discover([root]).files
        grep = shutil.which("grep")
        ours = [*migrate_command(), "rewrite", "--check", "-j", "1", str(root)]
        commands = {"grep": [grep, "-rl", "llm_adapter", str(root)]} if grep else {}
        commands["ours"] = ours
        times = interleaved(commands, repeat)
        done = subprocess.run(ours, capture_output=True, text=True, check=False)
        candidates = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"
        would = done.stdout.count("would rewrite ")
    source = f"`{tree}`" if tree else "synthetic, generated for this run"
    print(f"\n## P1b — `rewrite --check -j 1` over a real-shaped monorepo ({source})\n")
    print(
        f"{len(files):,} Python files; {candidates.removeprefix('tekton-migrate: ')}. "
        f"Interleaved runs: {repeat} per command after a warm-up round; median (min–max).\n"
    )
    print("| run | wall time | ratio (medians) |")
    print("|---|---:|---:|")
    if grep:
        print(f"| `grep -rl llm_adapter` (floor) | {spread(times['grep'])} | 1.00× grep |")
    ratio = statistics.median(times["ours"]) / statistics.median(times["grep"]) if grep else float("nan")
    print(
        f"| `tekton-migrate rewrite --check -j 1` (exit {done.returncode}) | {spread(times['ours'])} "
        f"| {ratio:.1f}× grep |"
    )
    ok = expected is None or would == expected
    print(f"\n- ≤ 10× grep: {'met' if ratio <= 10 else '**missed**'} ({ratio:.1f}×)")
    if expected is not None:
        print(f"- files that would change: {would} (expected {expected}): {'ok' if ok else '**wrong**'}")
    return ok


# -- the standard library -----------------------------------------------------------------------------


def stdlib_section(args: argparse.Namespace) -> int:
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
        results = _sample_runs(sample, Path(temp), args.repeat)
    n, s = len(files), len(sample)
    peer_plain, peer_startup = results["peer_plain"], results["peer_startup"]
    peer_rate = max(peer_plain - peer_startup, 0.0) / s
    peer_whole = peer_startup + peer_rate * n
    vs_grep = ours_time / grep_time if grep else float("nan")
    vs_peer = peer_whole / ours_time
    ours_seeded = statistics.median(results["ours_seeded"])
    peer_seeded = statistics.median(results["peer_seeded"])
    broken_total = stdlib_changed + results["broken_plain"] + results["broken_seeded"] + results["second_run"]

    print("## P1 — `tekton-migrate rewrite --check` over the CPython standard library\n")
    print(
        f"Tree: `{tree}` — {n:,} Python files ({all_files:,} files in all, which grep reads). "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, every tool single-process (`-j 1`). "
        f"Fast commands: median of {args.repeat} runs after a warm-up; the peer on the plain sample: one run "
        f"on {s} files (evenly spread over the sorted tree), because it parses every file; the seeded "
        f"sample: ours and the peer interleaved, {args.repeat} runs each, median (min–max).\n"
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
        f"| {peer_plain / results['ours_plain']:,.0f}× ours on the same sample |"
    )
    print(f"| peer start-up alone (empty directory) | 0 | {fmt_seconds(peer_startup)} | – | – |")
    print(
        f"| peer extrapolated to the tree (start-up + rate × files) | {n:,} | ≈ {fmt_seconds(peer_whole)} "
        f"| {fmt_seconds(peer_rate)} | **{vs_peer:,.0f}×** slower than ours |"
    )
    print(
        f"| `tekton-migrate rewrite -j 1`, seeded sample (every file a candidate) | {s} "
        f"| {spread(results['ours_seeded'])} | {fmt_seconds(ours_seeded / s)} | parse path |"
    )
    print(
        f"| peer on the seeded sample | {s} | {spread(results['peer_seeded'])} "
        f"| {fmt_seconds(peer_seeded / s)} | **{peer_seeded / ours_seeded:.2f}×** ours |"
    )
    print()
    verdict = {True: "met", False: "**missed**"}
    print(f"- ≤ 3× grep: {verdict[vs_grep <= 3]} ({vs_grep:.2f}×)")
    print(f"- ≥ 50× faster than the peer: {verdict[vs_peer >= 50]} ({vs_peer:,.0f}×, extrapolated from the sample)")
    print(
        f"- parse path ≥ 5× faster than the peer: {verdict[peer_seeded / ours_seeded >= 5]} "
        f"({peer_seeded / ours_seeded:.2f}×, medians)"
    )
    print(
        f"- files broken: {broken_total} — stdlib files modified: {stdlib_changed}; sample files changed by a "
        f"no-op rewrite: {results['broken_plain']}; seeded files not exactly rewritten or not parsing: "
        f"{results['broken_seeded']}/{s}; second run over the seeded copy found changes: "
        f"{'yes' if results['second_run'] else 'no'}"
    )
    return broken_total


def _sample_runs(sample: Sequence[Path], temp: Path, repeat: int) -> dict[str, Any]:
    """The sample runs: plain (ours, peer once), seeded (ours and the peer interleaved, fresh copies each)."""
    dirs = {name: temp / name for name in ("plain", "peer-plain", "empty")}
    for directory in dirs.values():
        directory.mkdir()
    plain = copy_sample(sample, dirs["plain"], seeded=False)
    copy_sample(sample, dirs["peer-plain"], seeded=False)
    ours_plain, _ = timed([*migrate_command(), "rewrite", "-j", "1", str(dirs["plain"])], repeat)
    peer_plain, _ = timed(peer_command(dirs["peer-plain"]), 1)
    peer_startup, _ = timed(peer_command(dirs["empty"]), 1)
    ours_seeded: list[float] = []
    peer_seeded: list[float] = []
    broken_seeded = second = 0
    for attempt in range(repeat + 1):
        ours_dir, peer_dir = temp / f"seeded-{attempt}", temp / f"peer-seeded-{attempt}"
        ours_dir.mkdir()
        peer_dir.mkdir()
        seeded = copy_sample(sample, ours_dir, seeded=True)
        copy_sample(sample, peer_dir, seeded=True)
        ours_time, _ = run_once([*migrate_command(), "rewrite", "-j", "1", str(ours_dir)])
        peer_time, _ = run_once(peer_command(peer_dir))
        if attempt:
            ours_seeded.append(ours_time)
            peer_seeded.append(peer_time)
        else:  # the warm-up run is the one checked
            broken_seeded = broken_after_rewrite(sample, seeded, expect_rewrite=True)
            again = subprocess.run(
                [*migrate_command(), "rewrite", "--check", str(ours_dir)], capture_output=True, check=False
            )
            second = int(again.returncode != 0)
    return {
        "ours_plain": ours_plain,
        "broken_plain": broken_after_rewrite(sample, plain, expect_rewrite=False),
        "peer_plain": peer_plain,
        "peer_startup": peer_startup,
        "ours_seeded": ours_seeded,
        "peer_seeded": peer_seeded,
        "broken_seeded": broken_seeded,
        "second_run": second,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (median and spread)")
    parser.add_argument("--sample", type=int, default=40, help="files in the peer's sample")
    parser.add_argument("--tree", type=Path, default=None, help="directory to use instead of the stdlib")
    parser.add_argument("--monorepo", type=Path, default=None, help="tree to use instead of the synthetic monorepo")
    parser.add_argument("--only", choices=("stdlib", "monorepo"), help="run one section only")
    args = parser.parse_args(argv)
    broken = 0 if args.only == "monorepo" else stdlib_section(args)
    ok = True if args.only == "stdlib" else monorepo_section(args.monorepo, args.repeat)
    return 0 if broken == 0 and ok else 1


if __name__ == "__main__":
    sys.exit(main())
