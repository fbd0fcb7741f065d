"""The legacy-module → shim-module table.

It is data, not code, so a component tree can add its own legacy modules (from ``pyproject.toml`` or
``--map``) without touching the transformers. Matching is on whole dotted segments only, so
``terma.core.llm_adapter2`` never matches ``terma.core.llm_adapter``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_MAPPING: Mapping[str, str] = MappingProxyType(
    {
        "terma.core.llm_adapter": "tekton_llm_shims.terma",
        "hermes.core.llm_adapter": "tekton_llm_shims.hermes",
        "telos.core.llm_adapter": "tekton_llm_shims.telos",
        "engram.core.llm_adapter": "tekton_llm_shims.engram",
    }
)

# Module-level names each shim is known to export. legacy-adapters.md specifies only ``LLMAdapter`` as the
# public module-level surface of all four originals; anything else a caller imports stays on the legacy
# module and is reported, because moving it would turn a working import into an ImportError.
DEFAULT_PROVIDES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "tekton_llm_shims.terma": frozenset({"LLMAdapter"}),
        "tekton_llm_shims.hermes": frozenset({"LLMAdapter"}),
        "tekton_llm_shims.telos": frozenset({"LLMAdapter"}),
        "tekton_llm_shims.engram": frozenset({"LLMAdapter"}),
    }
)

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class MappingError(ValueError):
    """A mapping entry is malformed or would make the rewrite non-idempotent."""


def is_dotted_name(text: str) -> bool:
    """True for ``a``, ``a.b_c.d``; false for anything with spaces, dashes, empty segments."""
    return _DOTTED.match(text) is not None


@dataclass(frozen=True)
class ModuleMatch:
    """A module name that falls under a mapping entry.

    ``legacy`` is the mapping key, ``target`` the new name for the *whole* matched module (the key's
    target plus any submodule suffix), ``exact`` whether the name was the key itself.
    """

    legacy: str
    target: str
    shim: str
    exact: bool


@dataclass(frozen=True)
class MigrationMap:
    """Legacy module → shim module, plus which names each shim provides.

    A shim absent from ``provides`` is treated as providing every name (a tree that maps its own module
    and says nothing else expects everything to move).
    """

    mapping: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MAPPING))
    provides: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_PROVIDES))
    _keys: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())
    _segments: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        # Plain dicts keep the table picklable for the ``-j`` process pool.
        object.__setattr__(self, "mapping", dict(self.mapping))
        object.__setattr__(self, "provides", {k: frozenset(v) for k, v in self.provides.items()})
        for old, new in self.mapping.items():
            if not is_dotted_name(old) or not is_dotted_name(new):
                raise MappingError(f"mapping entries must be dotted module names: {old!r} = {new!r}")
        for old in self.mapping:
            for new in self.mapping.values():
                if new == old or new.startswith(old + "."):
                    # A target inside a legacy module would be rewritten again on the next run.
                    raise MappingError(f"target {new!r} lies inside legacy module {old!r}")
        for shim, names in self.provides.items():
            bad = [n for n in names if not n.isidentifier()]
            if not is_dotted_name(shim) or bad:
                raise MappingError(f"provides entry for {shim!r} has invalid names: {bad}")
        # Longest keys first so ``a.b.c`` wins over ``a.b`` for ``a.b.c.d``.
        object.__setattr__(self, "_keys", tuple(sorted(self.mapping, key=len, reverse=True)))
        object.__setattr__(self, "_segments", frozenset(key.rsplit(".", 1)[-1] for key in self.mapping))

    def extended(
        self,
        mapping: Mapping[str, str] | None = None,
        provides: Mapping[str, Iterable[str]] | None = None,
    ) -> MigrationMap:
        """Return a copy with extra or overriding entries (later configuration wins)."""
        new_mapping = dict(self.mapping)
        new_mapping.update(mapping or {})
        new_provides = dict(self.provides)
        for shim, names in (provides or {}).items():
            new_provides[shim] = frozenset(names)
        return MigrationMap(new_mapping, new_provides)

    def match(self, module: str | None) -> ModuleMatch | None:
        """The mapping entry ``module`` falls under, if any."""
        if not module:
            return None
        for key in self._keys:
            if module == key:
                return ModuleMatch(key, self.mapping[key], self.mapping[key], True)
            if module.startswith(key) and module[len(key)] == ".":
                shim = self.mapping[key]
                return ModuleMatch(key, shim + module[len(key) :], shim, False)
        return None

    def provides_name(self, match: ModuleMatch, name: str) -> bool:
        """Whether ``name`` may be taken from ``match.target`` instead of the legacy module.

        Only the mapped module itself is restricted; a submodule of a mapped package moves whole.
        """
        if not match.exact:
            return True
        names = self.provides.get(match.shim)
        return names is None or name in names

    def segments(self) -> frozenset[str]:
        """The last segments of the mapping keys (``llm_adapter``): every spelling of a legacy module has one."""
        return self._segments

    def mentions_segment(self, dotted: str | None) -> bool:
        """Whether any segment of ``dotted`` is the last segment of a mapping key."""
        if not dotted:
            return False
        return any(part in self._segments for part in dotted.split("."))

    def keys_ending_with(self, module: str) -> tuple[str, ...]:
        """Keys of which ``module`` is a proper dotted suffix (``core.llm_adapter`` for ``terma.core.llm_adapter``).

        Such a name is what a legacy module is called when its top-level package is missing from the
        package chain (a namespace package without ``--source-root``, or a ``sys.path`` entry inside it).
        """
        return tuple(sorted(key for key in self.mapping if key.endswith("." + module)))

    def may_hold(self, package: str, segment: str) -> bool:
        """Whether ``package.<segment>`` may be a legacy module: ``package`` is the parent of a key ending in
        ``segment``, under that name or under a shorter or longer one (another ``sys.path`` entry).

        Cleanup uses it to tell the module attribute ``llm_endpoints.llm_adapter`` (a variable of some other
        module) from the submodule ``core.llm_adapter``; a key without a parent package could be anyone's.
        """
        for key in self.mapping:
            parent, _, last = key.rpartition(".")
            if last != segment:
                continue
            if not parent or package == parent:
                return True
            if parent.endswith("." + package) or package.endswith("." + parent):
                return True
        return False

    def leaves_under(self, package: str) -> list[str]:
        """Last segments of the keys directly inside ``package`` (what ``from package import *`` may bind)."""
        return sorted(key.rpartition(".")[2] for key in self.mapping if key.rpartition(".")[0] == package)

    def near(self, module: str) -> bool:
        """Whether ``module`` is a legacy module, lies inside one, or is a package above one."""
        return self.match(module) is not None or any(key.startswith(module + ".") for key in self.mapping)

    def touches(self, module: str) -> bool:
        """Whether an import of ``module`` concerns a legacy module: it is :meth:`near` one, or is one under a
        shorter name (``core.llm_adapter``, ``llm_adapter``)."""
        return self.near(module) or bool(self.keys_ending_with(module))

    def needles(self) -> tuple[bytes, ...]:
        """Byte strings at least one of which every reference to a mapped module must contain.

        The last dotted segment suffices: absolute names, ``from pkg import llm_adapter`` and relative
        imports all spell it out.
        """
        return tuple(sorted(segment.encode("ascii") for segment in self.segments()))


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``OLD=NEW`` (from ``--map``) into a validated pair."""
    old, sep, new = text.partition("=")
    old, new = old.strip(), new.strip()
    if not sep or not is_dotted_name(old) or not is_dotted_name(new):
        raise MappingError(f"expected OLD=NEW with dotted module names, got {text!r}")
    return old, new


def parse_provides(text: str) -> tuple[str, frozenset[str]]:
    """Split ``SHIM=Name1,Name2`` (from ``--provides``) into a validated pair."""
    shim, sep, names_text = text.partition("=")
    shim = shim.strip()
    names = frozenset(n.strip() for n in names_text.split(",") if n.strip())
    if not sep or not is_dotted_name(shim) or not all(n.isidentifier() for n in names):
        raise MappingError(f"expected SHIM=Name[,Name...], got {text!r}")
    return shim, names
