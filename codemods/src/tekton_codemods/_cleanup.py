"""Phase 3: find legacy adapter modules nothing can reach any more, and delete them on request.

A legacy module file is one whose dotted name (from its package chain or the source root) is a mapping
key. It is kept only on evidence that something can reach it at run time (resolved by :mod:`._names`):

* an import that resolves to it or into it — absolute, relative, through a package's ``__init__``, or a
  name bound to its parent package (``from terma import core`` then ``core.llm_adapter``), a star import
  of the parent, ``getattr``/``monkeypatch.setattr``/``mock.patch.object`` on the parent;
* a string whose whole dotted path is the module or lies under it (``mock.patch``, ``import_module``,
  ``__import__``);
* a file that cannot be parsed (or read) and spells something that could resolve to it — a *doubt*,
  printed with file and line.

Plain words (``"llm_adapter"`` as a tag), look-alike or foreign dotted paths (``metis.llm_adapter``), logger
names, a module's own spellings and other packages' own ``llm_adapter`` modules are not evidence. Nothing
but the legacy module files is ever removed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._inventory import InventoryFailure, parse_candidate
from ._mapping import MigrationMap
from ._modules import module_name, package_name, resolve_relative
from ._names import FileRefs, Ref, resolve_file, under
from ._scan import Candidate
from ._source import SourceDecodeError, decode_source, source_lines

CleanupStatus = Literal["dead", "deleted", "in-use", "failed"]


@dataclass
class LegacyModule:
    module: str
    path: str
    status: CleanupStatus = "in-use"
    referenced_by: list[str] = field(default_factory=list)
    doubts: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, why it may be a use)
    error: str | None = None


@dataclass(frozen=True)
class Unparsed:
    """A file that could not be analysed; ``text`` is ``None`` when it could not even be read."""

    path: str
    error: str
    text: str | None
    package: str | None = None


@dataclass
class Analysis:
    """What cleanup knows about the scanned files: resolved references, and files it could not parse."""

    files: list[FileRefs] = field(default_factory=list)
    failures: list[Unparsed] = field(default_factory=list)


def analyse(candidates: Sequence[Candidate], table: MigrationMap, source_root: Path | None) -> Analysis:
    """Resolve each candidate's references; the stdlib pre-pass spares libcst the files that cannot reach one."""
    result = Analysis()
    for candidate in candidates:
        outcome = _analyse_one(candidate, table, source_root)
        if isinstance(outcome, Unparsed):
            result.failures.append(outcome)
        elif outcome is not None:
            result.files.append(outcome)
    return result


def _analyse_one(candidate: Candidate, table: MigrationMap, source_root: Path | None) -> FileRefs | Unparsed | None:
    parsed = parse_candidate(candidate, source_root, table)
    if parsed is None:
        return None
    if isinstance(parsed, InventoryFailure):
        package = package_name(Path(candidate.path), source_root)
        return Unparsed(parsed.path, parsed.error, _readable(candidate.data), package)
    path, package, own = parsed.path, parsed.package, parsed.own
    try:
        return resolve_file(path, parsed.wrapper, table, package, own, Path(path).name == "__init__.py")
    except (RecursionError, ValueError) as exc:
        return Unparsed(path, f"cannot analyse: {type(exc).__name__}: {exc}", parsed.text, package)


def _readable(data: bytes) -> str:
    """The text of a file that could not be analysed, as its doubts are searched for: decoded as the
    interpreter would, or byte for byte when it cannot be."""
    try:
        return decode_source(data).text
    except SourceDecodeError:
        return data.decode("latin-1")


def find_legacy_modules(files: Sequence[str], table: MigrationMap, source_root: Path | None) -> list[LegacyModule]:
    """Module files in ``files`` whose import name is a mapping key (packages are never candidates)."""
    last_segments = table.segments()
    found = []
    for path in files:
        base = os.path.basename(path)
        if not base.endswith(".py") or base[:-3] not in last_segments:
            continue
        name = module_name(Path(path), source_root)
        if name is not None and name in table.mapping:
            found.append(LegacyModule(name, path))
    return found


def plan_cleanup(legacy: list[LegacyModule], analysis: Analysis) -> list[LegacyModule]:
    """Fill in ``status``, ``referenced_by`` and ``doubts`` for each legacy module."""
    for entry in legacy:
        own = os.path.realpath(entry.path)
        refs: set[str] = set()
        doubts: list[tuple[str, int, str]] = []
        for file in analysis.files:
            if os.path.realpath(file.path) == own:
                continue  # a module naming itself (its logger, say) is not a use of it
            for ref in file.refs:
                verdict = _judge(ref, entry, own, file.path)
                if verdict == "ref":
                    refs.add(file.path)
                elif verdict:
                    doubts.append((file.path, ref.line, verdict))
        for failure in analysis.failures:
            if os.path.realpath(failure.path) != own:
                doubts += [(failure.path, line, why) for line, why in _text_doubts(failure, entry.module)]
        entry.doubts = sorted(set(doubts))
        entry.referenced_by = sorted(refs | {path for path, _, _ in entry.doubts})
        entry.status = "in-use" if entry.referenced_by else "dead"
    return legacy


def _judge(ref: Ref, entry: LegacyModule, own: str, where: str) -> str | None:
    """``"ref"`` when ``ref`` reaches the module, a reason when it may, ``None`` when it cannot."""
    module = entry.module
    if ref.kind == "unresolved":
        if module.rpartition(".")[2] == ref.path:
            return f"cannot resolve relative import `{ref.code}`; pass --source-root"
        return None
    if ref.kind == "prefix":
        return f"{ref.code} may build its name" if ref.path.startswith(module) else None
    if under(ref.path, module):
        return "ref"
    if ref.kind != "string":
        root = _sys_path_root(ref.path, own, where)
        if root is not None:
            return f"{ref.code}: {ref.path} is this module when {root} is on sys.path"
    return None


def _sys_path_root(path: str, legacy_file: str, importer: str) -> str | None:
    """The directory that, on ``sys.path``, makes ``path`` (or a prefix of it) the legacy file, if that
    directory is the importer's own or one above it (a script's directory is on ``sys.path``)."""
    parts = path.split(".")
    importer_dir = os.path.dirname(os.path.realpath(importer))
    for size in range(len(parts), 0, -1):
        rel = os.path.join(*parts[:size]) + ".py"
        if legacy_file.endswith(os.sep + rel):
            root = legacy_file[: -len(rel) - 1]
            if importer_dir == root or importer_dir.startswith(root + os.sep):
                return root
    return None


_TOKEN = re.compile(r"\.*[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")
_FROM = re.compile(r"^\s*from\s+(\.*)\s*([A-Za-z0-9_.]*)\s+import\s+\(?([A-Za-z0-9_,\s]*)")


def _text_doubts(failure: Unparsed, module: str) -> list[tuple[int, str]]:
    """Lines of an unparseable (or unreadable) file that spell something that could resolve to ``module``."""
    if failure.text is None:
        return [(0, f"cannot be read ({failure.error}); it may use {module}")]
    segment = module.rpartition(".")[2]
    found: list[tuple[int, str]] = []
    for number, line in enumerate(source_lines(failure.text), start=1):
        if segment not in line:
            continue
        spelled = [re.sub(r"\s", "", token) for token in _TOKEN.findall(line)]
        spelled += _from_import(line, failure.package)
        for text in spelled:
            if under(text, module) or (text.count(".") and module.endswith("." + text)):
                found.append((number, f"does not parse ({failure.error}) and spells {text}"))
                break
    return found


def _from_import(line: str, package: str | None) -> list[str]:
    """Absolute names a ``from … import …`` line would import, as far as the text tells."""
    match = _FROM.match(line)
    if match is None:
        return []
    dots, module, names = match.groups()
    absolute = resolve_relative(package, len(dots), module or None)
    if absolute is None:
        return []
    imported = [part.split()[0] for part in names.split(",") if part.split()]
    return [absolute, *(f"{absolute}.{name}" for name in imported)]


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
