"""What a file uses from the legacy adapter modules: import forms, names, and members of adapter objects.

Component owners read this before migrating, to see which legacy classes, methods and attributes the
shims must cover. What a name, attribute or string annotation stands for comes from the shared
name-resolution layer (:mod:`._names`, libcst scope and qualified-name metadata). Which objects are
adapters is file-wide and by name (an object counts as an adapter when it is assigned from, or annotated
with, a legacy class), which is how the legacy call sites are written.

Method calls are also kept per legacy class (``calls``): (component, class, method) is the key the shims
count in live traffic (``tekton.shim.calls``), so static inventory and live counters join.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper

from ._dotted import code_of, dotted_name
from ._mapping import MigrationMap
from ._modules import module_name, package_name, resolve_relative, unresolved_relative
from ._names import Names, Ref, resolve_names, wrap
from ._scan import Candidate
from ._sketch import sketch
from ._source import SourceDecodeError, decode_source


@dataclass(frozen=True)
class ImportSite:
    line: int
    module: str
    form: str
    code: str


@dataclass(frozen=True)
class StringSite:
    line: int
    module: str
    value: str


@dataclass
class FileInventory:
    """Everything one file references, grouped by legacy module (the mapping key)."""

    path: str
    imports: list[ImportSite] = field(default_factory=list)
    strings: list[StringSite] = field(default_factory=list)
    names: defaultdict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    members: defaultdict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    calls: defaultdict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    """Per legacy module: (legacy class, method) -> calls of that method on an object of that class."""
    chain_refs: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)

    @property
    def modules(self) -> set[str]:
        """Legacy modules this file depends on in any way."""
        found = {site.module for site in self.imports} | {site.module for site in self.strings}
        return found | set(self.names) | set(self.members) | self.chain_refs


def inventory_source(path: str, source: str, table: MigrationMap, package: str | None) -> FileInventory:
    """Inventory one module's source (raises ``libcst.ParserSyntaxError`` on invalid code)."""
    wrapper = wrap(cst.parse_module(source), None, package)
    return inventory_module(path, wrapper, table, package)


def inventory_module(
    path: str, wrapper: MetadataWrapper, table: MigrationMap, package: str | None, own: str | None = None
) -> FileInventory:
    """Inventory one parsed module; every name is resolved by :mod:`._names` on ``wrapper`` (made by
    :func:`._names.wrap`, so its metadata is computed once and may be shared with other analyses)."""
    result = FileInventory(path)
    refs, names = resolve_names(path, wrapper, table, package, own, is_package=False)
    _record_refs(refs.refs, table, package, result)
    wrapper.module.visit(_ImportSites(table, names, result))
    instances = _Instances(table, names)
    wrapper.module.visit(instances)
    wrapper.module.visit(_Uses(table, names, instances.found, result))
    return result


def _record_refs(refs: Sequence[Ref], table: MigrationMap, package: str | None, result: FileInventory) -> None:
    """Strings that name a legacy module or something in it, and relative imports that cannot be resolved."""
    unresolved: dict[int, str] = {}
    for ref in refs:
        if ref.kind == "unresolved":
            unresolved.setdefault(ref.line, unresolved_relative(ref.line, ref.code, package))
            continue
        match = table.match(ref.path) if ref.kind == "string" else None
        if match is None:
            continue
        result.strings.append(StringSite(ref.line, match.legacy, ref.path))
        rest = ref.path[len(match.legacy) + 1 :]
        if rest:
            result.names[match.legacy][(rest.split(".", 1)[0], "string")] += 1
    result.unresolved = list(unresolved.values())


def legacy_object(table: MigrationMap, paths: Iterable[str]) -> tuple[str, str] | None:
    """``(legacy module, name)`` when one of ``paths`` is a name defined in a legacy module."""
    for path in sorted(paths):
        module, _, name = path.rpartition(".")
        match = table.match(module)
        if match is not None and match.exact:
            return match.legacy, name
    return None


class _ImportSites(cst.CSTVisitor):
    """Import statements that reach a legacy module, by form (how the owner wrote them, for the report)."""

    def __init__(self, table: MigrationMap, names: Names, result: FileInventory) -> None:
        super().__init__()
        self.table = table
        self.names = names
        self.result = result

    def _site(self, node: cst.Import | cst.ImportFrom, module: str, form: str) -> None:
        code = code_of(node).rstrip().removesuffix(";").rstrip()
        self.result.imports.append(ImportSite(self.names.line(node), module, form, code))

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            match = self.table.match(dotted_name(alias.name))
            if match is not None:
                self._site(node, match.legacy, "import" if alias.asname is None else "import-as")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.names.package, len(node.relative), module)
        match = self.table.match(absolute)
        if isinstance(node.names, cst.ImportStar):
            if match is not None:
                self._site(node, match.legacy, "star-import")
        elif match is not None:
            self._site(node, match.legacy, "relative-import-from" if node.relative else "import-from")
            for alias in node.names:
                self.result.names[match.legacy][(dotted_name(alias.name) or "", "import")] += 1
        elif absolute is not None:
            for alias in node.names:
                sub = self.table.match(f"{absolute}.{dotted_name(alias.name)}")
                if sub is not None:
                    self._site(node, sub.legacy, "import-module-from")
        return False


class _Instances(cst.CSTVisitor):
    """Names (or ``self.x`` chains) that hold an object made from, or typed as, a legacy class."""

    def __init__(self, table: MigrationMap, names: Names) -> None:
        super().__init__()
        self.table = table
        self.names = names
        self.found: dict[str, tuple[str, str]] = {}  # instance chain -> (legacy module, legacy class)

    def _legacy_call(self, value: cst.BaseExpression | None) -> tuple[str, str] | None:
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            return legacy_object(self.table, self.names.paths(value.func))
        return None

    def _legacy_annotation(self, annotation: cst.Annotation | None) -> tuple[str, str] | None:
        if annotation is None:
            return None
        finder = _AnnotationNames(self.names)
        annotation.annotation.visit(finder)
        return legacy_object(self.table, finder.paths)

    def visit_Assign(self, node: cst.Assign) -> None:
        legacy = self._legacy_call(node.value)
        if legacy is not None:
            for target in node.targets:
                self._add(target.target, legacy)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        legacy = self._legacy_call(node.value) or self._legacy_annotation(node.annotation)
        if legacy is not None:
            self._add(node.target, legacy)

    def visit_Param(self, node: cst.Param) -> None:
        legacy = self._legacy_annotation(node.annotation) or self._legacy_call(
            node.default if isinstance(node.default, cst.BaseExpression) else None
        )
        if legacy is not None:
            self.found[node.name.value] = legacy

    def _add(self, target: cst.BaseExpression, legacy: tuple[str, str]) -> None:
        dotted = dotted_name(target)
        if dotted is not None:
            self.found[dotted] = legacy


class _AnnotationNames(cst.CSTVisitor):
    """Absolute paths of the names in an annotation, string annotations included."""

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names
        self.paths: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if dotted_name(node) is None:
            return True
        self.paths |= self.names.paths(node)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.paths |= self.names.paths(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        for paths in self.names.annotation_paths(node).values():
            self.paths |= paths


class _Uses(cst.CSTVisitor):
    """Counts references to legacy names and members of adapter objects, by context."""

    def __init__(
        self, table: MigrationMap, names: Names, instances: dict[str, tuple[str, str]], result: FileInventory
    ) -> None:
        super().__init__()
        self.table = table
        self.names = names
        self.instances = instances
        self.result = result
        self._calls: set[cst.CSTNode] = set()
        self._annotation_depth = 0

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotation_depth += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._annotation_depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        self._calls.add(node.func)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is None:
            self._member_of_new_object(node)
            return True
        self._chain(node, dotted)
        return False

    def _member_of_new_object(self, node: cst.Attribute) -> None:
        """``LLMAdapter().analyze_requirement(...)``: a member of an adapter that is never assigned."""
        value = node.value
        if not isinstance(value, cst.Call):
            return
        target = legacy_object(self.table, self.names.paths(value.func))
        if target is not None:
            self._member(target, node.attr.value, is_method=node in self._calls)

    def visit_Name(self, node: cst.Name) -> None:
        self._chain(node, node.value)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def _context(self, node: cst.CSTNode) -> str:
        if node in self._calls:
            return "call"
        return "annotation" if self._annotation_depth else "reference"

    def _chain(self, node: cst.Name | cst.Attribute, dotted: str) -> None:
        paths = self.names.paths(node)
        for path in paths:
            match = self.table.match(path)
            if match is not None:
                self.result.chain_refs.add(match.legacy)
        target = legacy_object(self.table, paths)
        if target is not None:
            legacy, name = target
            self.result.names[legacy][(name, self._context(node))] += 1
            return
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            owner = ".".join(parts[:cut])
            if owner in self.instances:
                self._member(self.instances[owner], parts[cut], is_method=node in self._calls and cut == len(parts) - 1)
                return

    def _member(self, target: tuple[str, str], member: str, *, is_method: bool) -> None:
        """A member of an object of legacy class ``target`` (module, class); a called one is a method call."""
        legacy, legacy_class = target
        self.result.members[legacy][(member, "method" if is_method else "attribute")] += 1
        if is_method:
            self.result.calls[legacy][(legacy_class, member)] += 1


@dataclass(frozen=True)
class InventoryFailure:
    """A file that could not be analysed; ``data`` is ``None`` when it could not even be read."""

    path: str
    error: str
    data: bytes | None


@dataclass(frozen=True)
class ParsedFile:
    """A candidate decoded and parsed once, for every analysis that needs it."""

    path: str
    data: bytes
    text: str
    wrapper: MetadataWrapper
    package: str | None  # what its relative imports resolve against
    own: str | None  # its own dotted module name


def parse_candidate(
    candidate: Candidate, source_root: Path | None, table: MigrationMap
) -> ParsedFile | InventoryFailure | None:
    """Decode and parse one candidate; what cannot be decoded or parsed comes back as a failure. A candidate
    the stdlib pre-pass proves cannot reach a legacy module of ``table`` is not parsed (``None``)."""
    path, data = candidate.path, candidate.data
    file = Path(path)
    package, own = package_name(file, source_root), module_name(file, source_root)
    try:
        text = decode_source(data).text
        if not sketch(text, table, package, own, reach=True).reach:
            return None
        module = cst.parse_module(text)
    except SourceDecodeError as exc:
        return InventoryFailure(path, str(exc), data)
    except cst.ParserSyntaxError as exc:
        from ._rewrite import syntax_error_text

        return InventoryFailure(path, syntax_error_text(text, exc), data)
    except (RecursionError, ValueError) as exc:
        return InventoryFailure(path, f"cannot analyse: {type(exc).__name__}: {exc}", data)
    return ParsedFile(path, data, text, wrap(module, own, package), package, own)


def inventory_files(
    candidates: Sequence[Candidate], table: MigrationMap, source_root: Path | None
) -> tuple[list[FileInventory], list[InventoryFailure]]:
    """Inventory every candidate the stdlib pre-pass cannot rule out (the same one ``cleanup`` uses). Files that
    cannot be decoded or parsed, and files whose relative imports may reach a legacy module but cannot be
    resolved, are returned as failures."""
    found: list[FileInventory] = []
    failures: list[InventoryFailure] = []
    for candidate in candidates:
        parsed = parse_candidate(candidate, source_root, table)
        if parsed is None:
            continue
        if isinstance(parsed, InventoryFailure):
            failures.append(parsed)
            continue
        try:
            inventory = inventory_module(parsed.path, parsed.wrapper, table, parsed.package, parsed.own)
        except RecursionError as exc:
            failures.append(InventoryFailure(parsed.path, f"cannot analyse: {type(exc).__name__}: {exc}", parsed.data))
            continue
        if inventory.unresolved:
            failures.append(InventoryFailure(parsed.path, "; ".join(inventory.unresolved), parsed.data))
            continue
        forget_self(inventory, parsed.own)
        if inventory.modules:
            found.append(inventory)
    return found, failures


def forget_self(inventory: FileInventory, own: str | None) -> None:
    """A legacy module naming itself (its logger, say) is not a use of it."""
    if own is None:
        return
    inventory.imports = [site for site in inventory.imports if site.module != own]
    inventory.strings = [site for site in inventory.strings if site.module != own]
    inventory.names.pop(own, None)
    inventory.members.pop(own, None)
    inventory.calls.pop(own, None)
    inventory.chain_refs.discard(own)
