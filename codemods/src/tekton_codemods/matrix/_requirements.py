"""Reading pip requirement files the way pip does, keeping where every line came from.

Tekton's components declare their dependencies in ``requirements.txt`` files that include shared ones
(``-r ../shared/requirements/web.txt``); the matrix must see every line, know which file and line it came from (to
say why a heavy stack was left out), and resolve relative paths against the file that names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Requirement", "RequirementFileError", "RequirementSet", "normalize", "read_requirements"]

_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = ("-r", "--requirement")
_CONSTRAINT = ("-c", "--constraint")
_EDITABLE = ("-e", "--editable")


class RequirementFileError(ValueError):
    """A requirement file that cannot be read, or a line that is not a requirement."""


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name (``Sentence_Transformers`` → ``sentence-transformers``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirement:
    """One requirement line: ``name`` is normalized ("" for a path), ``spec`` is what follows name and extras."""

    name: str
    extras: tuple[str, ...]
    spec: str
    line: str
    origin: str
    """``path:line`` of the requirement file, relative to the folder the reading started from when possible."""

    @property
    def is_path(self) -> bool:
        return not self.name


@dataclass
class RequirementSet:
    """Everything a requirement file and its includes declare, in order."""

    requirements: list[Requirement]
    constraints: list[Requirement]
    options: list[str]
    """Option lines other than includes (``--index-url …``), passed on unchanged."""
    files: list[Path]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, content) with comments removed and ``\\`` continuations joined."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        joined = " ".join([*pending, line]).strip()
        pending = []
        if joined:
            result.append((start, joined))
    if pending and " ".join(pending).strip():
        result.append((start, " ".join(pending).strip()))
    return result


def _split_option(line: str, flags: tuple[str, ...]) -> str | None:
    """The argument of ``-r x`` / ``--requirement x`` / ``--requirement=x``, or None if ``line`` is not that option."""
    for flag in flags:
        if line.startswith(flag + "=") and flag.startswith("--"):
            return line[len(flag) + 1 :].strip()
        if line == flag:
            raise RequirementFileError(f"{flag} needs an argument")
        if line.startswith(flag) and line[len(flag)] in " \t":
            return line[len(flag) :].strip()
        if flag == "-r" and line.startswith("-r") and not line.startswith("--") and len(line) > 2:
            return line[2:].strip()
    return None


def parse_line(line: str, origin: str, base: Path) -> Requirement:
    """One requirement; a local path (``./pkg``, ``../x``, ``/abs``) is made absolute against ``base``."""
    if line.startswith((".", "/", "~")) or line.startswith("file:"):
        target = line.removeprefix("file:").removeprefix("//")
        return Requirement("", (), "", str((base / Path(target).expanduser()).resolve()), origin)
    match = _NAME.match(line)
    if match is None:
        raise RequirementFileError(f"{origin}: not a requirement: {line!r}")
    name, extras, spec = match.groups()
    parsed_extras = tuple(part.strip() for part in (extras or "[]")[1:-1].split(",") if part.strip())
    return Requirement(normalize(name), parsed_extras, spec.strip(), line, origin)


class _Reader:
    def __init__(self, display_root: Path) -> None:
        self.display_root = display_root
        self.result = RequirementSet([], [], [], [])

    def origin(self, path: Path, number: int) -> str:
        try:
            shown = path.relative_to(self.display_root)
        except ValueError:
            shown = path
        return f"{shown.as_posix()}:{number}"

    def read(self, path: Path, *, constraints: bool, stack: tuple[Path, ...]) -> None:
        path = path.resolve()
        if path in stack:
            raise RequirementFileError(f"{path}: includes itself (through {' → '.join(p.name for p in stack)})")
        if path not in self.result.files:
            self.result.files.append(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RequirementFileError(f"cannot read requirement file {path}: {error}") from error
        for number, line in _logical_lines(text):
            self.line(path, number, line, constraints=constraints, stack=(*stack, path))

    def line(self, path: Path, number: int, line: str, *, constraints: bool, stack: tuple[Path, ...]) -> None:
        origin = self.origin(path, number)
        included = _split_option(line, _INCLUDE)
        constrained = _split_option(line, _CONSTRAINT)
        if included is not None or constrained is not None:
            target = path.parent / (included if included is not None else constrained or "")
            if not target.is_file():
                raise RequirementFileError(f"{origin}: included file {target} does not exist")
            self.read(target, constraints=constraints or constrained is not None, stack=stack)
            return
        editable = _split_option(line, _EDITABLE)
        if editable is not None:
            self.result.requirements.append(parse_line(editable, origin, path.parent))
            return
        if line.startswith("-"):
            self.result.options.append(line)
            return
        target_list = self.result.constraints if constraints else self.result.requirements
        target_list.append(parse_line(line, origin, path.parent))


def read_requirements(path: Path, *, display_root: Path | None = None) -> RequirementSet:
    """Every requirement of ``path`` and the files it includes (``-r``) or constrains with (``-c``).

    Origins are shown relative to ``display_root`` (default: the file's folder's parent, i.e. the tree).
    """
    reader = _Reader((display_root or path.parent.parent).resolve())
    reader.read(path, constraints=False, stack=())
    return reader.result
