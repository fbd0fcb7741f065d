"""Prompt templates: one model, a registry, and a loader for template files.

Component templates come in two dialects, often mixed in one codebase: Jinja2 (``{{ var }}``, ``{% if %}``) and
``str.format``-style single braces (``{var}``). Both render here, in a single pass, so text coming from a value is
never interpreted again, and literal JSON examples or ``${var}`` prose in a template survive untouched.

Templates may come from files, so Jinja2 runs sandboxed, YAML is read with ``safe_load`` and Python files found in a
template directory are never executed. Jinja2 and pyyaml are imported only when a template needs them: importing the
package must stay cheap.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._files import atomic_write
from .exceptions import TemplateError
from .structured import OutputFormat

if TYPE_CHECKING:
    import jinja2
    import jinja2.sandbox

__all__ = [
    "DEFAULT_TEMPLATES",
    "PromptTemplate",
    "PromptTemplateRegistry",
    "TemplateCollection",
    "TemplateInfoList",
    "load_template",
    "render_template",
]

logger = logging.getLogger(__name__)

# Jinja2 is engaged only when a template uses its syntax; a plain ``{var}`` template never imports it.
_JINJA_MARKERS = re.compile(r"\{\{|\{%|\{#.*?#\}", re.DOTALL)
# One left-to-right scan classifies every brace construct; only ``name`` matches are ever substituted.
_TOKENS = re.compile(
    r"""
    (?P<raw>\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})   # Jinja raw block: verbatim
    | (?P<jinja>\{\{.*?\}\} | \{%.*?%\} | \{\#.*?\#\})        # Jinja expression, statement, comment
    | (?P<dollar>\$\{[^{}]*\})                                # ${var} prose (shell, JS): verbatim
    | \{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}                    # single-brace placeholder
    """,
    re.DOTALL | re.VERBOSE,
)
_LITERAL_PREFIX = "_tekton_brace_"
_TEMPLATE_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".txt"})
_RESOURCE = re.compile(r"^(?P<package>[A-Za-z_][\w.]*):(?P<file>[^:]+)$")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.sandbox.SandboxedEnvironment:
    """The one Jinja2 environment: legacy block trimming, no escaping, undefined (and ``None``) renders empty."""
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=ChainableUndefined,
        finalize=lambda value: "" if value is None else value,
    )


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def render_template(source: str, values: Mapping[str, Any], *, name: str | None = None) -> str:
    """Render template text with ``values`` by the rules of :meth:`PromptTemplate.render`."""
    supplied = {key for key in values if isinstance(key, str) and key.isidentifier()}
    if not _JINJA_MARKERS.search(source):
        return _TOKENS.sub(lambda m: _plain_token(m, values, supplied), source)

    # Turn each supplied single-brace placeholder into a Jinja expression over a pre-stringified copy of the
    # value, so one Jinja pass renders everything and no inserted text is ever re-read as template syntax.
    literals: dict[str, str] = {}

    def to_jinja(match: re.Match[str]) -> str:
        key = match.group("name")
        if key is None or key not in supplied:
            return match.group(0)
        literals[_LITERAL_PREFIX + key] = str(values[key])
        return "{{ " + _LITERAL_PREFIX + key + " }}"

    jinja_source = _TOKENS.sub(to_jinja, source)
    context = {key: value for key, value in values.items() if isinstance(key, str)}
    context.update(literals)
    label = repr(name) if name else "(unnamed)"
    try:
        from jinja2 import TemplateError as JinjaTemplateError
    except ImportError as exc:  # pragma: no cover - jinja2 is a dependency
        raise TemplateError("rendering Jinja2 templates needs the jinja2 package") from exc
    try:
        return _compile(jinja_source).render(context)
    except JinjaTemplateError as exc:
        raise TemplateError(f"template {label} cannot be rendered: {exc.message or type(exc).__name__}") from exc
    except Exception as exc:
        raise TemplateError(f"template {label} cannot be rendered: {type(exc).__name__}: {exc}") from exc


def _plain_token(match: re.Match[str], values: Mapping[str, Any], supplied: set[str]) -> str:
    key = match.group("name")
    if key is not None and key in supplied:
        return str(values[key])
    return match.group(0)


class PromptTemplate(BaseModel):
    """A named prompt text; renders Jinja2 and ``{var}`` placeholders (see :meth:`render`)."""

    # defer_build: the validator is built on first use, keeping `import tekton_llm_client` cheap.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    name: str | None = None
    template: str = Field(validation_alias=AliasChoices("template", "content"))
    description: str | None = None
    version: str = "1.0.0"
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    output_format: OutputFormat | str | None = None
    variables: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_keys(cls, data: Any) -> Any:
        # Template files carry extra keys (``examples``, ``model_type``...): keep them in ``metadata``.
        if not isinstance(data, Mapping):
            return data
        known = set(cls.model_fields) | {"content"}
        unknown = {key: value for key, value in data.items() if key not in known}
        if not unknown:
            return data
        cleaned = {key: value for key, value in data.items() if key in known}
        metadata = cleaned.get("metadata")
        cleaned["metadata"] = {**(metadata if isinstance(metadata, Mapping) else {}), **unknown}
        return cleaned

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value

    @field_validator("output_format", mode="before")
    @classmethod
    def _known_format(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, OutputFormat):
            try:
                return OutputFormat(value)
            except ValueError:
                return value
        return value

    def render(self, variables: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """Render with ``variables`` updated by ``kwargs`` (the caller's dict is not changed).

        Jinja2 syntax renders with block trimming and no escaping; undefined or ``None`` values render empty.
        ``{name}`` is replaced by ``str(value)`` when ``name`` was supplied; any other ``{...}``, ``${name}`` and
        text inserted from values is left exactly as written. Failure raises ``TemplateError``.
        """
        values = {**(variables or {}), **kwargs}
        return render_template(self.template, values, name=self.name)

    def format(self, variables: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """Same as :meth:`render` (component code calls both on both template dialects)."""
        return self.render(variables, **kwargs)


class TemplateCollection(list[PromptTemplate]):
    """Several templates loaded from one file; ``name`` is the file stem. ``registry.register`` accepts it."""

    def __init__(self, templates: Iterable[PromptTemplate] = (), name: str | None = None) -> None:
        super().__init__(templates)
        self.name = name

    def __repr__(self) -> str:
        return f"TemplateCollection(name={self.name!r}, templates={[t.name for t in self]!r})"


class TemplateInfoList(list[dict[str, Any]]):
    """``list_templates()`` result: info dicts, where ``"name" in result`` also tests membership by name."""

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(info.get("name") == item for info in self)
        return super().__contains__(item)


DEFAULT_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "general_system",
        "description": "General-purpose system prompt.",
        "tags": ["system"],
        "template": (
            "You are a helpful, accurate assistant"
            "{% if component %} working inside the Tekton component {{ component }}{% endif %}.\n"
            "Answer the question that was asked, say so when you are not sure, and do not invent facts."
            "{% if instructions %}\n\n{{ instructions }}{% endif %}"
        ),
    },
    {
        "name": "code_assistant",
        "description": "System prompt for programming help.",
        "tags": ["system", "code"],
        "template": (
            "You are an experienced software engineer{% if language %} who writes {{ language }}{% endif %}.\n"
            "Give correct, idiomatic, complete code, explain only what is not obvious, "
            "and point out bugs or risks you notice."
            "{% if context %}\n\nContext:\n{{ context }}{% endif %}"
        ),
    },
    {
        "name": "concise_response",
        "description": "Asks for a short, direct answer.",
        "tags": ["style"],
        "template": (
            "Answer briefly and directly"
            "{% if max_sentences %}, in at most {{ max_sentences }} sentences{% endif %}. "
            "Leave out preambles and repetition."
        ),
    },
    {
        "name": "json_response",
        "description": "Asks for a JSON-only answer, optionally matching a schema.",
        "tags": ["format", "json"],
        "output_format": "json",
        "template": (
            "Respond with valid JSON only: no prose, no code fences."
            "{% if schema %}\nThe JSON must match this schema:\n{{ schema }}{% endif %}"
        ),
    },
    {
        "name": "structured_extraction",
        "description": "Extracts named fields from a text as JSON.",
        "tags": ["extraction", "json"],
        "output_format": "json",
        "template": (
            "Extract {% if fields %}these fields: {{ fields }}{% else %}the key facts{% endif %} "
            "from the text below and return them as one JSON object. "
            "Use null for anything the text does not state.\n\nText:\n{{ text }}"
        ),
    },
)
"""The five templates every legacy registry started with (our own wording; the names are the contract)."""


def _build(entry: Mapping[str, Any], name: str | None) -> PromptTemplate:
    data = dict(entry)
    if name is not None:
        data["name"] = str(name)
    try:
        return PromptTemplate.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, err["loc"])) or "template" for err in exc.errors())
        raise TemplateError(f"invalid template {data.get('name')!r}: bad or missing {fields}") from exc


def _is_entry(value: Any) -> bool:
    return isinstance(value, Mapping) and any(isinstance(value.get(k), str) for k in ("template", "content"))


def _templates_from_data(data: Any, stem: str, name: str | None) -> PromptTemplate | TemplateCollection:
    """Interpret decoded file content: one template, a name-keyed dict, a list, or a wrapper of lists."""
    if isinstance(data, str):
        return PromptTemplate(name=name or stem, template=data)
    if _is_entry(data):
        return _build(data, name or data.get("name") or stem)
    collection = TemplateCollection(name=name or stem)
    items = _collection_items(data, stem)
    wrapper = any(isinstance(value, list) for _key, value in items)
    for key, value in items:
        collection.extend(_members(key, value, stem, wrapper=wrapper))
    for template in collection:
        if not template.name:
            raise TemplateError(f"{stem}: every template in a list needs a name")
    if not collection:
        raise TemplateError(f"{stem}: no templates found")
    return collection


def _collection_items(data: Any, stem: str) -> list[tuple[str | None, Any]]:
    """``(key, value)`` pairs of a collection file: list items have no key."""
    if isinstance(data, list):
        return [(None, item) for item in data]
    if isinstance(data, Mapping):
        return list(data.items())
    raise TemplateError(f"{stem}: not a template, a list of templates or a mapping of templates")


def _members(key: str | None, value: Any, stem: str, *, wrapper: bool) -> list[PromptTemplate]:
    """The templates one collection entry holds. In a wrapper (a mapping of lists), non-list keys are metadata."""
    if isinstance(value, list):
        members = []
        for index, entry in enumerate(value):
            if not _is_entry(entry) or not entry.get("name"):
                raise TemplateError(f"{stem}: item {index} of {key!r} is not a named template")
            members.append(_build(entry, entry["name"]))
        return members
    if _is_entry(value):
        return [_build(value, value.get("name") or key)]
    if isinstance(value, str) and key is not None and not wrapper:
        return [PromptTemplate(name=str(key), template=value)]
    if key is None:
        raise TemplateError(f"{stem}: list item is not a named template")
    if not wrapper:
        raise TemplateError(f"{stem}: entry {key!r} is not a template")
    return []


def _load_yaml(text: str, label: str) -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise TemplateError(f"{label}: YAML templates need pyyaml: pip install 'tekton-llm-client[yaml]'") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{label}: invalid YAML: {exc}") from exc


def _decode(text: str, suffix: str, label: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"{label}: invalid JSON: {exc}") from exc
    if suffix in (".yaml", ".yml"):
        return _load_yaml(text, label)
    return text


def _read_resource(source: str) -> tuple[str, str] | None:
    """Legacy ``package.module:file`` lookup through importlib.resources; ``None`` when it does not resolve."""
    match = _RESOURCE.match(source)
    if match is None:
        return None
    from importlib import resources

    try:
        resource = resources.files(match.group("package")).joinpath(match.group("file"))
        return resource.read_text(encoding="utf-8-sig"), match.group("file")
    except (ImportError, OSError, TypeError, ValueError):
        return None


def load_template(source: str | os.PathLike[str], name: str | None = None) -> PromptTemplate | TemplateCollection:
    """Load a template file (.json/.yaml/.yml, else plain text) or a ``package.module:file`` resource.

    One template gives a :class:`PromptTemplate` (named ``name``, else its own name, else the file stem);
    a file of several gives a :class:`TemplateCollection`. Missing → ``FileNotFoundError``;
    unreadable or unparsable → ``TemplateError`` (a ``ValueError``).
    """
    path = Path(source)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"{path.name}: not UTF-8 text") from exc
        filename = path.name
    else:
        resource = _read_resource(os.fspath(source))
        if resource is None:
            raise FileNotFoundError(errno.ENOENT, "template file not found", os.fspath(source))
        text, filename = resource
    file_path = Path(filename)
    data = _decode(text, file_path.suffix.lower(), filename)
    return _templates_from_data(data, file_path.stem, name)


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "template"


class PromptTemplateRegistry:
    """Templates by name: the legacy registry surface plus the methods component code calls on it."""

    def __init__(self, templates_dir: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> None:
        self.templates: dict[str, PromptTemplate] = {}
        if load_defaults:
            for entry in DEFAULT_TEMPLATES:
                self.register(entry)
        if templates_dir is not None:
            self.load_from_directory(templates_dir)

    def __contains__(self, name: object) -> bool:
        return name in self.templates

    def __len__(self) -> int:
        return len(self.templates)

    def __repr__(self) -> str:
        return f"PromptTemplateRegistry({sorted(self.templates)!r})"

    def register(self, template: PromptTemplate | Mapping[str, Any] | Iterable[PromptTemplate]) -> str:
        """Register (or replace) a named template, a ``{"name", "template"|"content", ...}`` dict, or a collection.

        Returns the template's name (a collection's own name, or its last member's).
        """
        if isinstance(template, PromptTemplate):
            if not template.name:
                raise TemplateError("a template needs a name to be registered (or use register_template)")
            self.templates[template.name] = template
            return template.name
        if isinstance(template, Mapping):
            if not template.get("name"):
                raise TemplateError("a template dict needs a 'name' to be registered")
            if not _is_entry(template):
                raise TemplateError(f"template dict {template['name']!r} has no 'template' or 'content' text")
            return self.register(_build(template, str(template["name"])))
        if isinstance(template, (list, tuple)):
            last = ""
            for member in template:
                last = self.register(member)
            return getattr(template, "name", None) or last
        raise TemplateError(f"cannot register a {type(template).__name__} as a template")

    def register_template(self, name: str, template: PromptTemplate | Mapping[str, Any] | str) -> str:
        """Register ``template`` (object, dict or text) under ``name``, setting its name."""
        if isinstance(template, str):
            return self.register(PromptTemplate(name=name, template=template))
        if isinstance(template, PromptTemplate):
            if template.name in (None, name):
                template.name = name
                return self.register(template)
            return self.register(template.model_copy(update={"name": name}, deep=True))
        if isinstance(template, Mapping):
            return self.register(_build(template, name))
        raise TemplateError(f"cannot register a {type(template).__name__} as a template")

    def get(self, name: str) -> PromptTemplate | None:
        """The template called ``name``, or ``None``."""
        return self.templates.get(name)

    def get_template(self, name: str) -> PromptTemplate | None:
        """Same as :meth:`get`."""
        return self.templates.get(name)

    def render(self, name: str, variables: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """Render the named template; an unknown name raises ``TemplateError`` (a ``ValueError``)."""
        template = self.templates.get(name)
        if template is None:
            raise TemplateError(f"unknown template {name!r}")
        return template.render(variables, **kwargs)

    def list_templates(self) -> TemplateInfoList:
        """One ``{"name", "description", "version", "tags"}`` dict per template; ``name in result`` works."""
        return TemplateInfoList(
            {"name": t.name, "description": t.description, "version": t.version, "tags": list(t.tags)}
            for t in self.templates.values()
        )

    def update(self, name: str, changes: Mapping[str, Any] | PromptTemplate) -> bool:
        """Merge ``changes`` into the template in place; ``False`` when there is no such template."""
        current = self.templates.get(name)
        if current is None:
            return False
        if isinstance(changes, PromptTemplate):
            patch: dict[str, Any] = changes.model_dump(include=changes.model_fields_set)
        elif isinstance(changes, Mapping):
            patch = dict(changes)
            if "content" in patch and "template" not in patch:
                patch["template"] = patch.pop("content")
            patch.pop("content", None)
        else:
            raise TemplateError(f"cannot update a template from a {type(changes).__name__}")
        merged = _build({**current.model_dump(), **patch}, name)
        for field in PromptTemplate.model_fields:
            setattr(current, field, getattr(merged, field))
        return True

    def remove(self, name: str) -> bool:
        """Delete the named template; ``False`` when there is none."""
        return self.templates.pop(name, None) is not None

    def unregister(self, name: str) -> bool:
        """Same as :meth:`remove`."""
        return self.remove(name)

    def load_from_directory(self, directory: str | os.PathLike[str]) -> int:
        """Register every template file in ``directory`` (not recursive); returns how many were registered.

        Reads .json/.yaml/.yml (any shape :func:`load_template` accepts) and .txt; Python files are skipped, never
        executed. A file that cannot be loaded is logged and skipped; a missing directory gives 0 and a warning.
        """
        root = Path(directory)
        if not root.is_dir():
            logger.warning("template directory not found: %s", root)
            return 0
        count = 0
        for path in sorted(root.iterdir()):
            suffix = path.suffix.lower()
            if not path.is_file():
                continue
            if suffix == ".py":
                logger.debug("skipping %s: Python files are never executed as templates", path.name)
                continue
            if suffix not in _TEMPLATE_SUFFIXES:
                continue
            try:
                loaded = load_template(path)
            except (OSError, ValueError) as exc:
                logger.warning("skipping template file %s: %s", path.name, exc)
                continue
            members = loaded if isinstance(loaded, TemplateCollection) else [loaded]
            for member in members:
                self.register(member)
            count += len(members)
        logger.info("loaded %d template(s) from %s", count, root)
        return count

    def load_templates_from_directory(self, directory: str | os.PathLike[str]) -> int:
        """Same as :meth:`load_from_directory`."""
        return self.load_from_directory(directory)

    def save_to_file(self, name: str, path: str | os.PathLike[str]) -> bool:
        """Write one template to ``path`` (YAML for .yaml/.yml, else JSON); ``False`` if unknown or unwritable."""
        template = self.templates.get(name)
        if template is None:
            return False
        target = Path(path)
        data = template.model_dump(mode="json", exclude_none=True)
        try:
            if target.suffix.lower() in (".yaml", ".yml"):
                import yaml

                text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            else:
                text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
            atomic_write(target, text, new_mode=0o644)  # a crash never leaves half a template behind
        except (OSError, ImportError) as exc:
            logger.warning("cannot save template %r to %s: %s", name, target, exc)
            return False
        return True

    def save_all(self, directory: str | os.PathLike[str]) -> int:
        """Write every template as ``<name>.json`` into ``directory``; returns how many were written."""
        root = Path(directory)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("cannot create template directory %s: %s", root, exc)
            return 0
        return sum(self.save_to_file(name, root / f"{_safe_filename(name)}.json") for name in list(self.templates))
