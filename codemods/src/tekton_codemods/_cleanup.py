"""Phase 3: find legacy adapter modules nothing references any more, and delete them on request.

A legacy module file is one whose dotted name (from its package chain or the source root) is a mapping
key. It is dead when no other scanned file imports it in any form or names it in a dotted string. Files
that could not be analysed count as references to every legacy module whose name their bytes contain:
a module is deleted only when the evidence is complete. Nothing but those module files is ever removed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._inventory import FileInventory, InventoryFailure
from ._mapping import MigrationMap
from ._modules import module_name

CleanupStatus = Literal["dead", "deleted", "in-use", "failed"]


@dataclass
class LegacyModule:
    module: str
    path: str
    status: CleanupStatus = "in-use"
    referenced_by: list[str] = field(default_factory=list)
    error: str | None = None


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
    legacy: list[LegacyModule], inventories: Sequence[FileInventory], failures: Sequence[InventoryFailure]
) -> list[LegacyModule]:
    """Fill in ``status`` and ``referenced_by`` for each legacy module."""
    for entry in legacy:
        own = os.path.realpath(entry.path)
        last = entry.module.rsplit(".", 1)[-1].encode("ascii")
        refs = [inv.path for inv in inventories if entry.module in inv.modules]
        refs += [failure.path for failure in failures if failure.data is None or last in failure.data]
        entry.referenced_by = sorted(path for path in refs if os.path.realpath(path) != own)
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
