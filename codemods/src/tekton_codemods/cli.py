"""``tekton-migrate``: the command line over discovery, prefilter, rewrite, inventory and cleanup.

Exit status is part of the interface (CI depends on it): 0 done or nothing to do, 1 ``--check`` found
files to change, 2 any file failed or the configuration is invalid; warnings (like ``left on`` lines) never
change it. libcst is imported only once a candidate needs it (the stdlib pre-pass settles the rest), so a
clean tree costs little more than reading it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._discovery import Discovery, discover
from ._mapping import MappingError, MigrationMap, parse_assignment, parse_provides
from ._modules import forget_packages
from ._prefilter import Prefilter
from ._progress import Progress, progress, wants_bar
from ._pyproject import find_pyproject, load_settings
from ._records import FileOutcome
from ._report import (
    Summary,
    cleanup_document,
    inventory_document,
    inventory_text,
    rewrite_document,
    split_patch_targets,
    write_json,
)
from ._scan import Candidate, read_candidates

if TYPE_CHECKING:
    from ._runner import Mode

CANDIDATE_HELP = (
    "candidate: a file whose bytes spell the last part of a legacy module name (llm_adapter), so it may "
    "reference a legacy module and is read closer; every other file is only scanned, never parsed. The "
    "summary line counts both: 'N files scanned, M candidates'."
)

EXIT_OK = 0
EXIT_CHANGES = 1
EXIT_FAILED = 2


@dataclass(frozen=True)
class Settings:
    """The merged configuration: defaults < pyproject.toml < command-line options."""

    table: MigrationMap
    exclude: tuple[str, ...]
    source_root: Path | None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tekton-migrate",
        description="Move Tekton components from their legacy llm_adapter modules onto tekton_llm_shims.",
        epilog=CANDIDATE_HELP,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rewrite = commands.add_parser(
        "rewrite", help="rewrite imports and dotted strings to the shims", epilog=CANDIDATE_HELP
    )
    _common(rewrite)
    modes = rewrite.add_mutually_exclusive_group()
    modes.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    modes.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    rewrite.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes that parse candidates (default 0: one per CPU; used only when 2+ files need a parse)",
    )
    rewrite.add_argument("--report", type=Path, metavar="FILE.json", help="write a JSON report of every file")

    inventory = commands.add_parser("inventory", help="list legacy adapter use per component", epilog=CANDIDATE_HELP)
    _common(inventory)
    inventory.add_argument("--json", action="store_true", help="print JSON instead of text")

    cleanup = commands.add_parser(
        "cleanup", help="find legacy adapter modules nothing uses any more", epilog=CANDIDATE_HELP
    )
    _common(cleanup)
    cleanup.add_argument("--write", action="store_true", help="delete the unused legacy modules")
    cleanup.add_argument("--report", type=Path, metavar="FILE.json", help="write a JSON report")
    cleanup.add_argument(
        "--root",
        type=Path,
        metavar="TREE",
        help="search this whole tree for uses (default: the enclosing .git/.hg checkout, else only PATH)",
    )
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to process")
    parser.add_argument(
        "--map", action="append", default=[], metavar="OLD=NEW", help="extra or overriding module mapping"
    )
    parser.add_argument(
        "--provides",
        action="append",
        default=[],
        metavar="SHIM=NAME[,NAME]",
        help="names a shim module exports (only these move off the legacy module)",
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB (repeatable)"
    )
    parser.add_argument("--source-root", type=Path, metavar="DIR", help="resolve module names relative to DIR")
    parser.add_argument("--config", type=Path, metavar="PYPROJECT", help="read settings from this pyproject.toml")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    forget_packages()
    try:
        settings = load_configuration(args)
    except MappingError as exc:
        _err(f"tekton-migrate: error: {exc}")
        return EXIT_FAILED
    if args.command == "rewrite":
        return _rewrite(args, settings, started)
    if args.command == "inventory":
        return _inventory(args, settings, started)
    return _cleanup(args, settings, started)


def load_configuration(args: argparse.Namespace) -> Settings:
    table = MigrationMap()
    exclude: list[str] = []
    source_root: Path | None = None
    if args.config is not None:
        if not args.config.is_file():
            raise MappingError(f"{args.config}: no such file")
        pyprojects = [args.config]
    else:
        pyprojects = list(dict.fromkeys(p for p in (find_pyproject(Path(path)) for path in args.paths) if p))
    for pyproject in pyprojects:
        project = load_settings(pyproject)
        table = table.extended(project.mapping, project.provides)
        exclude.extend(project.exclude)
        source_root = source_root or project.source_root
    table = table.extended(
        dict(parse_assignment(text) for text in args.map),
        dict(parse_provides(text) for text in args.provides),
    )
    exclude.extend(args.exclude)
    if args.source_root is not None:
        source_root = args.source_root.resolve()
    return Settings(table, tuple(exclude), source_root)


def _discover(args: argparse.Namespace, settings: Settings) -> tuple[Discovery, list[FileOutcome]]:
    """The files to scan, plus missing and skipped paths as failed/skipped outcomes."""
    found = discover(args.paths, settings.exclude)
    problems = [FileOutcome(path, "failed", error="no such file or directory") for path in found.missing]
    problems += [FileOutcome(s.path, "skipped", error=s.reason) for s in found.skipped]
    return found, problems


def _candidates(found: Discovery, settings: Settings, bar: Progress) -> tuple[list[Candidate], list[FileOutcome]]:
    """The files the prefilter keeps, plus the unreadable ones as failed outcomes."""
    candidates, unreadable = read_candidates(found.files, Prefilter(settings.table.needles()), bar)
    return candidates, [FileOutcome(f.path, "failed", error=f.error) for f in unreadable]


def _rewrite(args: argparse.Namespace, settings: Settings, started: float) -> int:
    mode: Mode = "check" if args.check else "diff" if args.diff else "write"
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    found, outcomes = _discover(args, settings)
    with progress(wants_bar()) as bar:
        candidates, unreadable = _candidates(found, settings, bar)
        outcomes += unreadable
        if candidates:
            from ._runner import RewriteOptions, rewrite_candidates

            options = RewriteOptions(settings.table, mode, settings.source_root)
            outcomes += rewrite_candidates(candidates, options, jobs=jobs, bar=bar)
    outcomes.sort(key=lambda outcome: outcome.path)
    verb = {"write": "rewrote", "check": "would rewrite", "diff": "would rewrite"}[mode]
    for outcome in outcomes:
        _print_outcome(outcome, verb, mode)
    # Decided per file (in worker processes with -j); only the whole run sees both sides of a split.
    warnings = split_patch_targets(outcomes, settings.table)
    for warning in warnings:
        _err(f"tekton-migrate: warning: {warning.message()}")
    summary = _summary(found, len(candidates), outcomes, started)
    document = partial(rewrite_document, mode, settings.table.mapping, outcomes, summary, warnings)
    report_ok = _write_report(args.report, document)
    _err(summary.line())
    if summary.failed or not report_ok:
        return EXIT_FAILED
    return EXIT_CHANGES if mode == "check" and summary.changed else EXIT_OK


def _print_outcome(outcome: FileOutcome, verb: str, mode: str) -> None:
    if outcome.status == "changed":
        if mode == "diff" and outcome.diff:
            sys.stdout.write(outcome.diff)
        else:
            print(f"{verb} {outcome.path}")
    elif outcome.status == "failed":
        _err(f"{outcome.path}: error: {outcome.error}")
    elif outcome.status == "skipped":
        _err(f"{outcome.path}: skipped: {outcome.error}")
    for item in outcome.unmoved:
        _err(f"{outcome.path}:{item.line}: left on {item.module}: {item.name} ({item.reason})")


def _summary(found: Discovery, candidates: int, outcomes: Sequence[FileOutcome], started: float) -> Summary:
    return Summary(
        scanned=len(found.files),
        candidates=candidates,
        changed=sum(o.status == "changed" for o in outcomes),
        failed=sum(o.status == "failed" for o in outcomes),
        skipped=sum(o.status == "skipped" for o in outcomes),
        seconds=time.perf_counter() - started,
    )


def _inventory(args: argparse.Namespace, settings: Settings, started: float) -> int:
    found, problems = _discover(args, settings)
    with progress(wants_bar()) as bar:
        candidates, unreadable = _candidates(found, settings, bar)
    problems += unreadable
    from ._inventory import inventory_files

    inventories, broken = inventory_files(candidates, settings.table, settings.source_root)
    problems += [FileOutcome(f.path, "failed", error=f.error) for f in broken]
    failures = [p for p in problems if p.status == "failed"]
    summary = _summary(found, len(candidates), problems, started)
    document = inventory_document(settings.table.mapping, inventories, failures, summary)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        sys.stdout.write(inventory_text(document))
    _err(summary.line())
    return EXIT_FAILED if failures else EXIT_OK


def _cleanup(args: argparse.Namespace, settings: Settings, started: float) -> int:
    found, problems = _discover(args, settings)
    from ._cleanup import Unparsed, analyse, delete_dead, find_legacy_modules, plan_cleanup

    legacy = find_legacy_modules(found.files, settings.table, settings.source_root)
    scope, note = _search_scope(args, settings, found)
    with progress(wants_bar()) as bar:
        candidates, unreadable = _candidates(scope, settings, bar)
    problems += unreadable
    analysis = analyse(candidates, settings.table, settings.source_root)
    problems += [FileOutcome(f.path, "failed", error=f.error) for f in analysis.failures]
    # An unreadable file might reference anything, so it keeps every legacy module alive.
    analysis.failures += [Unparsed(f.path, f.error or "", None) for f in unreadable]
    plan_cleanup(legacy, analysis)
    if args.write:
        delete_dead(legacy)
    for problem in problems:
        _err(f"{problem.path}: {'error' if problem.status == 'failed' else 'skipped'}: {problem.error}")
    for entry in legacy:
        label = {"dead": "unused", "deleted": "deleted", "in-use": "in use", "failed": "failed"}[entry.status]
        detail = f" by {', '.join(entry.referenced_by)}" if entry.referenced_by else ""
        detail += f": {entry.error}" if entry.error else ""
        print(f"{label:<8} {entry.path}  ({entry.module}){detail}")
        for path, line, reason in entry.doubts:
            print(f"{'':<8}   {path}:{line}: {reason}")
    if not legacy:
        print("no legacy adapter modules found")
    if note and legacy:
        _err(note)
    summary = _summary(scope, len(candidates), problems, started)
    summary.changed = sum(entry.status == "deleted" for entry in legacy)
    summary.failed += sum(entry.status == "failed" for entry in legacy)
    mode = "write" if args.write else "check"
    report_ok = _write_report(args.report, lambda: cleanup_document(mode, legacy, summary))
    _err(summary.line())
    return EXIT_FAILED if summary.failed or not report_ok else EXIT_OK


def _search_scope(args: argparse.Namespace, settings: Settings, found: Discovery) -> tuple[Discovery, str | None]:
    """The files searched for uses: the whole tree the scanned paths belong to, not only those paths, so
    cleaning one component never deletes a module another component still imports. The tree is ``--root``,
    else the nearest folder above the paths holding ``.git`` or ``.hg``; without either, only the paths."""
    root = args.root or find_tree_root(args.paths)
    if root is None:
        shown = ", ".join(str(path) for path in args.paths)
        note = f"tekton-migrate: note: no .git above {shown}, so uses were searched for in it alone as the whole tree; "
        return found, note + "if it is part of a larger tree, pass --root TREE"
    whole = discover([root], settings.exclude)
    known = {os.path.realpath(path) for path in whole.files}
    whole.files += [path for path in found.files if os.path.realpath(path) not in known]
    return whole, None


def find_tree_root(paths: Sequence[str]) -> Path | None:
    """The nearest directory at or above every path that holds a ``.git`` or ``.hg`` entry."""
    try:
        common = Path(os.path.commonpath([os.path.realpath(path) for path in paths]))
    except ValueError:
        return None
    start = common if common.is_dir() else common.parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / ".hg").exists():
            return folder
    return None


def _write_report(path: Path | None, build: Callable[[], dict[str, Any]]) -> bool:
    """Write a report if one was asked for; a report that cannot be written fails the run, loudly."""
    if path is None:
        return True
    try:
        write_json(path, build())
    except OSError as exc:
        _err(f"tekton-migrate: error: cannot write report {path}: {exc.strerror or exc}")
        return False
    return True


def _err(message: str) -> None:
    print(message, file=sys.stderr)
