"""Phase 3: find legacy adapter modules nothing references any more, and delete them on request.

A legacy module file is one whose dotted name (from its package chain or the source root) is a mapping
key. It is dead only when no other scanned file can reach it: no import, dotted string or attribute chain
names it, and every other spelling of its last segment (``llm_adapter``) is explained as something else
(see ``_evidence``). An unexplained spelling is a doubt, and a doubt keeps the module, with its reason.
Files that could not be analysed count as references to every legacy module whose name their bytes
contain. Nothing but those module files is ever removed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._evidence import Evidence, gather_evidence
from ._inventory import FileInventory, InventoryFailure, forget_self, inventory_module, parse_candidate
from ._mapping import MigrationMap
from ._modules import module_name
from ._scan import Candidate

CleanupStatus = Literal["dead", "deleted", "in-use", "failed"]


@dataclass
class LegacyModule:
    module: str
    path: str
    status: CleanupStatus = "in-use"
    referenced_by: list[str] = field(default_factory=list)
    doubts: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, why it may be a use)
    error: str | None = None


@dataclass
class Analysis:
    """Everything cleanup knows about the candidates: definite uses, doubts, and unanalysable files."""

    inventories: list[FileInventory] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    failures: list[InventoryFailure] = field(default_factory=list)


def analyse(candidates: Sequence[Candidate], table: MigrationMap, source_root: Path | None) -> Analysis:
    """Parse each candidate once; take its inventory and account for every spelling of a legacy name."""
    result = Analysis()
    for candidate in candidates:
        parsed = parse_candidate(candidate, source_root)
        if isinstance(parsed, InventoryFailure):
            result.failures.append(parsed)
            continue
        try:
            inventory = inventory_module(parsed.path, parsed.wrapper, table, parsed.package)
            evidence = gather_evidence(parsed.path, parsed.text, parsed.wrapper, table, parsed.package, parsed.own)
        except RecursionError as exc:
            result.failures.append(InventoryFailure(parsed.path, f"cannot analyse: {exc}", parsed.data))
            continue
        forget_self(inventory, parsed.own)
        result.inventories.append(inventory)
        result.evidence.append(evidence)
    return result


def find_legacy_modules(files: Sequence[str], table: MigrationMap, source_root: Path | None) -> list[LegacyModule]:
    """Module files in ``files`` whose import name is a mapping key (packages are never candidates)."""
    last_segments = {key.rsplit(".", 1)[-1] for key in table.mapping}
    found = []
    for path in files:
        base = os.path.basename(path)
        if not base.endswith(".py") or base[:-3] not in last_segments:
            continue
        name = module_name(Path(path), source_root)
        if name is not None and name in table.mapping:
            found.append(LegacyModule(name, path))
    return found


def plan_cleanup(
    legacy: list[LegacyModule], analysis: Analysis, unreadable: Sequence[InventoryFailure] = ()
) -> list[LegacyModule]:
    """Fill in ``status``, ``referenced_by`` and ``doubts`` for each legacy module."""
    for entry in legacy:
        own = os.path.realpath(entry.path)
        segment = entry.module.rsplit(".", 1)[-1]
        refs = {inv.path for inv in analysis.inventories if entry.module in inv.modules}
        refs |= {ev.path for ev in analysis.evidence if entry.module in ev.references}
        failures = [*analysis.failures, *unreadable]
        refs |= {f.path for f in failures if f.data is None or segment.encode("ascii") in f.data}
        doubts = [
            (ev.path, doubt.line, doubt.reason)
            for ev in analysis.evidence
            for doubt in ev.doubts
            if doubt.segment == segment and os.path.realpath(ev.path) != own
        ]
        refs |= {path for path, _, _ in doubts}
        entry.referenced_by = sorted(path for path in refs if os.path.realpath(path) != own)
        entry.doubts = sorted(doubts)
        entry.status = "in-use" if entry.referenced_by else "dead"
    return legacy


def delete_dead(legacy: list[LegacyModule]) -> None:
    """Remove the dead module files (only those); a failed removal is recorded, not raised."""
    for entry in legacy:
        if entry.status != "dead":
            continue
        try:
            os.unlink(entry.path)
        except OSError as exc:
            entry.status = "failed"
            entry.error = f"cannot delete: {exc.strerror or exc}"
        else:
            entry.status = "deleted"
