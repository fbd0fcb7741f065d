"""What a file uses from the legacy adapter modules: import forms, names, and members of adapter objects.

Component owners read this before migrating, to see which legacy classes, methods and attributes the
shims must cover. The analysis is file-wide and by name (an object counts as an adapter when it is
assigned from, or annotated with, a legacy class), which is how the legacy call sites are written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ._dotted import code_of, dotted_name
from ._mapping import MigrationMap, is_dotted_name
from ._modules import module_name, package_name, resolve_relative, unresolved_relative
from ._scan import Candidate
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
    chain_refs: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)

    @property
    def modules(self) -> set[str]:
        """Legacy modules this file depends on in any way."""
        found = {site.module for site in self.imports} | {site.module for site in self.strings}
        return found | set(self.names) | set(self.members) | self.chain_refs


def inventory_source(path: str, source: str, table: MigrationMap, package: str | None) -> FileInventory:
    """Inventory one module's source (raises ``libcst.ParserSyntaxError`` on invalid code)."""
    return inventory_module(path, MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True), table, package)


def inventory_module(path: str, wrapper: MetadataWrapper, table: MigrationMap, package: str | None) -> FileInventory:
    """Inventory one parsed module (the wrapper may be shared with other analyses of the same parse)."""
    result = FileInventory(path)
    bindings = _Bindings(table, package, result)
    wrapper.visit(bindings)
    instances = _Instances(bindings)
    wrapper.module.visit(instances)
    wrapper.module.visit(_Uses(table, bindings, instances.found, result))
    return result


class _Bindings(cst.CSTVisitor):
    """Imports and string references, and the names they bind."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, table: MigrationMap, package: str | None, result: FileInventory) -> None:
        super().__init__()
        self.table = table
        self.package = package
        self.result = result
        self.classes: dict[str, tuple[str, str]] = {}  # bound name -> (legacy module, original name)
        self.module_aliases: dict[str, str] = {}  # bound name -> legacy module
        self.plain: dict[str, str] = {}  # dotted module imported without ``as`` -> legacy module
        self.packages: dict[str, set[str]] = {}  # bound name -> package above a legacy module (``terma.core``)
        self.star_leaves: dict[str, str] = {}  # ``llm_adapter`` -> legacy module, after ``from terma.core import *``

    def _site(self, node: cst.CSTNode, module: str, form: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        code = code_of(node).rstrip().removesuffix(";").rstrip()
        self.result.imports.append(ImportSite(line, module, form, code))

    def _package(self, bound: str | None, path: str) -> None:
        """Remember ``bound`` if it names a package some legacy module lies under."""
        if bound and any(key.startswith(path + ".") for key in self.table.mapping):
            self.packages.setdefault(bound, set()).add(path)

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = dotted_name(alias.name)
            match = self.table.match(dotted)
            if dotted is None or match is None:
                if dotted is not None and alias.asname is not None:
                    self._package(dotted_name(alias.asname.name), dotted)
                elif dotted is not None:
                    self._package(dotted.split(".", 1)[0], dotted.split(".", 1)[0])
                continue
            if alias.asname is not None:
                self.module_aliases[dotted_name(alias.asname.name) or ""] = match.legacy
                self._site(node, match.legacy, "import-as")
            else:
                self.plain[dotted] = match.legacy
                self._site(node, match.legacy, "import")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted_name(node.module) if node.module is not None else None
        absolute = resolve_relative(self.package, len(node.relative), module)
        if absolute is None:
            if node.relative and self._may_name_legacy(module, node.names):
                line = self.get_metadata(PositionProvider, node).start.line
                code = code_of(node).rstrip().removesuffix(";").rstrip()
                self.result.unresolved.append(unresolved_relative(line, code, self.package))
            return False
        match = self.table.match(absolute)
        if match is not None:
            self._from_legacy(node, match.legacy)
        elif isinstance(node.names, cst.ImportStar):
            for key in self.table.mapping:
                parent, _, leaf = key.rpartition(".")
                if parent == absolute:
                    self.star_leaves[leaf] = key
        else:
            self._from_package(node, node.names, absolute)
        return False

    def _from_legacy(self, node: cst.ImportFrom, legacy: str) -> None:
        """``from <legacy module> import names``."""
        if isinstance(node.names, cst.ImportStar):
            self._site(node, legacy, "star-import")
            return
        self._site(node, legacy, "relative-import-from" if node.relative else "import-from")
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            bound = dotted_name(alias.asname.name) if alias.asname is not None else name
            self.classes[bound or name] = (legacy, name)
            self.result.names[legacy][(name, "import")] += 1

    def _from_package(self, node: cst.ImportFrom, names: Sequence[cst.ImportAlias], absolute: str) -> None:
        """``from <package> import names``: a name may be a legacy module, or a package above one."""
        for alias in names:
            name = dotted_name(alias.name) or ""
            bound = (dotted_name(alias.asname.name) if alias.asname is not None else name) or name
            sub = self.table.match(f"{absolute}.{name}")
            if sub is not None:
                self.module_aliases[bound] = sub.legacy
                self._site(node, sub.legacy, "import-module-from")
            else:
                self._package(bound, f"{absolute}.{name}")

    def _may_name_legacy(self, module: str | None, names: Sequence[cst.ImportAlias] | cst.ImportStar) -> bool:
        if self.table.mentions_segment(module):
            return True
        return not isinstance(names, cst.ImportStar) and any(
            self.table.mentions_segment(dotted_name(alias.name)) for alias in names
        )

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "b" in node.prefix.lower() or not is_dotted_name(node.raw_value):
            return
        match = self.table.match(node.raw_value)
        if match is None:
            return
        line = self.get_metadata(PositionProvider, node).start.line
        self.result.strings.append(StringSite(line, match.legacy, node.raw_value))
        rest = node.raw_value[len(match.legacy) + 1 :]
        if rest:
            self.result.names[match.legacy][(rest.split(".", 1)[0], "string")] += 1

    def legacy_object(self, dotted: str | None) -> tuple[str, str] | None:
        """``(legacy module, name)`` when ``dotted`` names something imported from a legacy module."""
        if dotted is None:
            return None
        if dotted in self.classes:
            return self.classes[dotted]
        return self._through_alias(dotted) or self._through_package_path(dotted)

    def _through_alias(self, dotted: str) -> tuple[str, str] | None:
        """``m.X`` for a module alias, a star-imported leaf, or a plain ``import a.b.llm_adapter``."""
        head, _, rest = dotted.partition(".")
        if rest and "." not in rest and head in self.module_aliases:
            return self.module_aliases[head], rest
        if rest and "." not in rest and head in self.star_leaves and head not in self.classes:
            return self.star_leaves[head], rest
        module, _, name = dotted.rpartition(".")
        return (self.plain[module], name) if module in self.plain else None

    def _through_package_path(self, dotted: str) -> tuple[str, str] | None:
        for path in self.through_package(dotted):
            module, _, name = path.rpartition(".")
            match = self.table.match(module)
            if match is not None and match.exact:
                return match.legacy, name
        return None

    def through_package(self, dotted: str) -> list[str]:
        """Absolute paths for ``dotted`` when its head names a package above a legacy module
        (``core.llm_adapter.X`` -> ``terma.core.llm_adapter.X`` after ``from terma import core``)."""
        head, _, rest = dotted.partition(".")
        if not rest:
            return []
        return [f"{path}.{rest}" for path in sorted(self.packages.get(head, ()))]


def _chains(node: cst.CSTNode) -> Iterator[str]:
    """Dotted chains and string contents appearing anywhere under ``node`` (for annotations)."""
    finder = _ChainFinder()
    node.visit(finder)
    yield from finder.found


class _ChainFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = dotted_name(node)
        if dotted is not None:
            self.found.append(dotted)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if is_dotted_name(node.raw_value):
            self.found.append(node.raw_value)


class _Instances(cst.CSTVisitor):
    """Names (or ``self.x`` chains) that hold an object made from, or typed as, a legacy class."""

    def __init__(self, bindings: _Bindings) -> None:
        super().__init__()
        self.bindings = bindings
        self.found: dict[str, str] = {}  # instance chain -> legacy module

    def _legacy_call(self, value: cst.BaseExpression | None) -> str | None:
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            target = self.bindings.legacy_object(dotted_name(value.func))
            if target is not None:
                return target[0]
        return None

    def _legacy_annotation(self, annotation: cst.Annotation | None) -> str | None:
        if annotation is None:
            return None
        for chain in _chains(annotation.annotation):
            target = self.bindings.legacy_object(chain)
            if target is not None:
                return target[0]
        return None

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

    def _add(self, target: cst.BaseExpression, legacy: str) -> None:
        dotted = dotted_name(target)
        if dotted is not None:
            self.found[dotted] = legacy


class _Uses(cst.CSTVisitor):
    """Counts references to legacy names and members of adapter objects, by context."""

    def __init__(
        self, table: MigrationMap, bindings: _Bindings, instances: dict[str, str], result: FileInventory
    ) -> None:
        super().__init__()
        self.table = table
        self.bindings = bindings
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
        target = self.bindings.legacy_object(dotted_name(value.func))
        if target is not None:
            kind = "method" if node in self._calls else "attribute"
            self.result.members[target[0]][(node.attr.value, kind)] += 1

    def visit_Name(self, node: cst.Name) -> None:
        self._chain(node, node.value)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def _context(self, node: cst.CSTNode) -> str:
        if node in self._calls:
            return "call"
        return "annotation" if self._annotation_depth else "reference"

    def _chain(self, node: cst.CSTNode, dotted: str) -> None:
        for path in [dotted, *self.bindings.through_package(dotted)]:
            match = self.table.match(path)
            if match is not None:
                self.result.chain_refs.add(match.legacy)
        target = self.bindings.legacy_object(dotted)
        if target is not None:
            legacy, name = target
            self.result.names[legacy][(name, self._context(node))] += 1
            return
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            owner = ".".join(parts[:cut])
            if owner in self.instances:
                member = parts[cut]
                is_method = node in self._calls and cut == len(parts) - 1
                kind = "method" if is_method else "attribute"
                self.result.members[self.instances[owner]][(member, kind)] += 1
                return


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


def parse_candidate(candidate: Candidate, source_root: Path | None) -> ParsedFile | InventoryFailure:
    """Decode and parse one candidate; what cannot be decoded or parsed comes back as a failure."""
    path, data = candidate.path, candidate.data
    try:
        text = decode_source(data).text
        module = cst.parse_module(text)
    except SourceDecodeError as exc:
        return InventoryFailure(path, str(exc), data)
    except cst.ParserSyntaxError as exc:
        from ._rewrite import syntax_error_text

        return InventoryFailure(path, syntax_error_text(text, exc), data)
    except (RecursionError, ValueError) as exc:
        return InventoryFailure(path, f"cannot analyse: {type(exc).__name__}: {exc}", data)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    file = Path(path)
    return ParsedFile(path, data, text, wrapper, package_name(file, source_root), module_name(file, source_root))


def inventory_files(
    candidates: Sequence[Candidate], table: MigrationMap, source_root: Path | None
) -> tuple[list[FileInventory], list[InventoryFailure]]:
    """Inventory every candidate. Files that cannot be decoded or parsed, and files whose relative imports
    may reach a legacy module but cannot be resolved, are returned as failures."""
    found: list[FileInventory] = []
    failures: list[InventoryFailure] = []
    for candidate in candidates:
        parsed = parse_candidate(candidate, source_root)
        if isinstance(parsed, InventoryFailure):
            failures.append(parsed)
            continue
        try:
            inventory = inventory_module(parsed.path, parsed.wrapper, table, parsed.package)
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
    inventory.chain_refs.discard(own)
