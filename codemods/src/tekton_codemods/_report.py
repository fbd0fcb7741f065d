"""The machine-readable documents (``--report``, ``inventory --json``) and the human one-line summary.

The JSON layout is versioned and documented in the README; CI jobs parse it, so fields are only ever
added, never renamed, within a version.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._records import FileOutcome

if TYPE_CHECKING:
    from ._cleanup import LegacyModule
    from ._inventory import FileInventory
    from ._mapping import MigrationMap

SCHEMA_VERSION = 1
TOOL = "tekton-migrate"


@dataclass
class Summary:
    """Counters shown on the last line of every run and stored in every report."""

    scanned: int = 0
    candidates: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{TOOL}: {_count(self.scanned, 'file')} scanned, {_count(self.candidates, 'candidate')}, "
            f"{self.changed} changed, {self.failed} failed in {self.seconds:.2f}s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "candidates": self.candidates,
            "changed": self.changed,
            "failed": self.failed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass(frozen=True)
class Site:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class SplitPatchTarget:
    """A legacy module that a run moved off in some places and kept in others, where a patch string and the
    code it patches ended up on different sides. Each file is rewritten on its own, so nothing else sees both.

    ``split``: dotted strings moved to the shim while some file still imports the legacy module (a test's
    ``mock.patch("terma.core.llm_adapter.X")`` now patches the shim; the code keeps the legacy module).
    ``stale``: dotted strings left on the legacy module (a name the shim lacks, the module itself) while
    files moved their imports to the shim (the patch no longer reaches the code). Either way the test
    stops patching without failing.
    """

    kind: Literal["split", "stale"]
    module: str
    shim: str
    strings: tuple[Site, ...]
    imports: tuple[Site, ...]

    def message(self) -> str:
        files = len({site.path for site in self.imports})
        name = "names" if len(self.strings) == 1 else "name"
        imports = "imports" if files == 1 else "import"
        sites = [f"{site} (string)" for site in self.strings] + [f"{site} (import)" for site in self.imports]
        if self.kind == "split":
            return (
                f"{_count(len(self.strings), 'dotted string')} now {name} {self.shim}, but {_count(files, 'file')} "
                f"still {imports} {self.module} (a mock.patch on the shim does not reach code still on the legacy "
                f"module): {', '.join(sites)}"
            )
        return (
            f"{_count(len(self.strings), 'dotted string')} still {name} {self.module}, but {_count(files, 'file')} "
            f"now {imports} {self.shim} instead (a mock.patch on the legacy module does not reach code moved to "
            f"the shim): {', '.join(sites)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": f"{self.kind}-patch-target",
            "module": self.module,
            "shim": self.shim,
            "message": self.message(),
            "strings": [{"path": site.path, "line": site.line} for site in self.strings],
            "imports": [{"path": site.path, "line": site.line} for site in self.imports],
        }


def split_patch_targets(outcomes: Sequence[FileOutcome], table: MigrationMap) -> list[SplitPatchTarget]:
    """The run's patch-target warnings, one per legacy module and direction (see :class:`SplitPatchTarget`).
    Only ``changed`` files count as moved (a failed file kept everything)."""
    moved_strings: dict[str, set[Site]] = {}
    moved_imports: dict[str, set[Site]] = {}
    for outcome in outcomes:
        for change in outcome.changes if outcome.status == "changed" else ():
            if change.kind == "attribute":
                continue  # its import statement is the site
            moved = moved_strings if change.kind == "string" else moved_imports
            for legacy in change.modules:
                moved.setdefault(legacy, set()).add(Site(outcome.path, change.line))
    kept_strings: dict[str, set[Site]] = {}
    kept_imports: dict[str, set[Site]] = {}
    for outcome in outcomes:
        for record in outcome.unmoved:
            match = table.match(record.module)
            if match is None or record.reason.startswith(("logger name", "string annotation")):
                continue  # the shims keep the legacy logger names; an annotation patches nothing
            kept = kept_strings if record.site == "string" else kept_imports
            kept.setdefault(match.legacy, set()).add(Site(outcome.path, record.line))
    found = [
        SplitPatchTarget("split", legacy, table.mapping[legacy], _sorted(moved_strings[legacy]), _sorted(sites))
        for legacy, sites in kept_imports.items()
        if legacy in moved_strings
    ]
    found += [
        SplitPatchTarget("stale", legacy, table.mapping[legacy], _sorted(sites), _sorted(moved_imports[legacy]))
        for legacy, sites in kept_strings.items()
        if legacy in moved_imports
    ]
    return sorted(found, key=lambda warning: (warning.module, warning.kind))


def _sorted(sites: set[Site]) -> tuple[Site, ...]:
    return tuple(sorted(sites, key=lambda site: (site.path, site.line)))


def rewrite_document(
    mode: str,
    mapping: Mapping[str, str],
    outcomes: Sequence[FileOutcome],
    summary: Summary,
    warnings: Sequence[SplitPatchTarget] = (),
) -> dict[str, Any]:
    """Report of a ``rewrite`` run: every candidate, failure and skipped path, the summary, and ``warnings``
    only when the run has some (like ``doubts`` in the cleanup report)."""
    return {
        "version": SCHEMA_VERSION,
        "tool": TOOL,
        "command": "rewrite",
        "mode": mode,
        "mapping": dict(sorted(mapping.items())),
        "files": [_file_entry(outcome) for outcome in outcomes],
        **({"warnings": [warning.as_dict() for warning in warnings]} if warnings else {}),
        "summary": summary.as_dict(),
    }


def _file_entry(outcome: FileOutcome) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": outcome.path,
        "status": outcome.status,
        "changes": [
            {"line": c.line, "end_line": c.end_line, "kind": c.kind, "old": c.old, "new": c.new}
            for c in outcome.changes
        ],
        "unmoved_names": [
            {"line": u.line, "module": u.module, "name": u.name, "reason": u.reason} for u in outcome.unmoved
        ],
    }
    if outcome.status == "failed":
        entry["error"] = outcome.error or "unknown error"
    elif outcome.status == "skipped":
        entry["reason"] = outcome.error or ""
    return entry


def inventory_document(
    mapping: Mapping[str, str], inventories: Sequence[FileInventory], failures: Sequence[FileOutcome], summary: Summary
) -> dict[str, Any]:
    """Per legacy module: the files using it, their import forms, the names and members they use."""
    components = []
    for legacy in sorted({module for inventory in inventories for module in inventory.modules}):
        files = [inv for inv in inventories if legacy in inv.modules]
        names: dict[str, Counter[str]] = {}
        methods: Counter[str] = Counter()
        attributes: Counter[str] = Counter()
        calls: dict[str, Counter[str]] = {}
        for inv in files:
            for (name, context), count in inv.names.get(legacy, Counter()).items():
                names.setdefault(name, Counter())[context] += count
            for (member, kind), count in inv.members.get(legacy, Counter()).items():
                (methods if kind == "method" else attributes)[member] += count
            for (legacy_class, method), count in inv.calls.get(legacy, Counter()).items():
                calls.setdefault(legacy_class, Counter())[method] += count
        components.append(
            {
                "component": legacy.split(".", 1)[0],
                "module": legacy,
                "target": mapping.get(legacy),
                "files": [
                    {
                        "path": inv.path,
                        "imports": [
                            {"line": s.line, "form": s.form, "code": s.code} for s in inv.imports if s.module == legacy
                        ],
                        "strings": [{"line": s.line, "value": s.value} for s in inv.strings if s.module == legacy],
                    }
                    for inv in files
                ],
                "forms": _form_counts(files, legacy),
                "names": {name: dict(sorted(counts.items())) for name, counts in sorted(names.items())},
                # The class-less view of ``calls`` (method -> calls summed over classes), kept for compatibility.
                "methods": dict(sorted(methods.items())),
                "attributes": dict(sorted(attributes.items())),
                # class -> method -> calls: (component, class, method) is the key of the shims' live counter
                # tekton.shim.calls.
                "calls": {cls: dict(sorted(counts.items())) for cls, counts in sorted(calls.items())},
            }
        )
    return {
        "version": SCHEMA_VERSION,
        "tool": TOOL,
        "command": "inventory",
        "components": components,
        "failed": [{"path": f.path, "error": f.error} for f in failures],
        "summary": summary.as_dict(),
    }


def _form_counts(files: Sequence[FileInventory], legacy: str) -> dict[str, int]:
    counts = Counter(site.form for inv in files for site in inv.imports if site.module == legacy)
    return dict(sorted(counts.items()))


def inventory_text(document: Mapping[str, Any]) -> str:
    """The inventory for people: one block per legacy module; method calls as ``class.method``, the key the shims
    count live."""
    lines: list[str] = []
    for component in document["components"]:
        target = component["target"] or "(unmapped)"
        lines.append(f"{component['module']} -> {target}  [{component['component']}]")
        lines.append(f"  files ({len(component['files'])}):")
        for entry in component["files"]:
            lines.append(f"    {entry['path']}")
            for site in entry["imports"]:
                lines.append(f"      {site['line']:>5}  {site['form']:<21} {_one_line(site['code'])}")
            for site in entry["strings"]:
                lines.append(f"      {site['line']:>5}  {'string':<21} {site['value']!r}")
        if component["names"]:
            described = [
                f"{name} ({', '.join(f'{k} {v}' for k, v in counts.items())})"
                for name, counts in component["names"].items()
            ]
            lines.append("  names: " + "; ".join(described))
        calls = {f"{cls}.{method}": n for cls, methods in component["calls"].items() for method, n in methods.items()}
        for label, counts in (("calls", calls), ("attributes", component["attributes"])):
            if counts:
                lines.append(f"  {label}: " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
        lines.append("")
    for failure in document["failed"]:
        lines.append(f"{failure['path']}: error: {failure['error']}")
    if not document["components"] and not document["failed"]:
        lines.append("no legacy adapter references found")
    return "\n".join(lines).rstrip("\n") + "\n"


def _one_line(code: str) -> str:
    return " ".join(code.split())


def cleanup_document(mode: str, modules: Sequence[LegacyModule], summary: Summary) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": TOOL,
        "command": "cleanup",
        "mode": mode,
        "modules": [
            {
                "module": m.module,
                "path": m.path,
                "status": m.status,
                "referenced_by": list(m.referenced_by),
                **({"doubts": [{"path": p, "line": n, "reason": r} for p, n, r in m.doubts]} if m.doubts else {}),
                **({"error": m.error} if m.error else {}),
            }
            for m in modules
        ],
        "summary": summary.as_dict(),
    }


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write a report; the directory must exist (a typo should fail loudly, not create trees)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
