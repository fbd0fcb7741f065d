"""Ask a model for a structured answer, then turn its text back into data.

``StructuredOutputParser`` pairs the two halves: :meth:`~StructuredOutputParser.format_prompt` appends the output
instructions for a format (or a JSON Schema), :meth:`~StructuredOutputParser.parse` reads the answer in that format.
Every parsing failure is a :class:`~tekton_llm_client.exceptions.FormatError` (a ``ValueError``), because component
code wraps parsing in ``try`` and falls back to the raw text.
"""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from .exceptions import FormatError, JSONParsingError
from .json_utils import JSONParser, iter_json

__all__ = ["OutputFormat", "StructuredOutputParser"]


class OutputFormat(str, Enum):
    """Answer formats the parser understands; members compare equal to their string values."""

    JSON = "json"
    JSON_ARRAY = "json_array"
    LIST = "list"
    KEY_VALUE = "key_value"
    MARKDOWN = "markdown"
    YAML = "yaml"
    TEXT = "text"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _missing_(cls, value: object) -> OutputFormat | None:
        # Component code passes names like "JSON" or "Json": accept any case and surrounding spaces.
        if isinstance(value, str):
            wanted = value.strip().lower()
            for member in cls:
                if member.value == wanted:
                    return member
        return None


_INSTRUCTIONS: dict[OutputFormat, str] = {
    OutputFormat.JSON: "Respond with a single valid JSON object only: no prose around it, no code fences.",
    OutputFormat.JSON_ARRAY: "Respond with a single valid JSON array only: no prose around it, no code fences.",
    OutputFormat.LIST: "Respond with a list: one item per line, each line starting with '- ', and nothing else.",
    OutputFormat.KEY_VALUE: "Respond with one 'key: value' pair per line, and nothing else.",
    OutputFormat.MARKDOWN: "Respond in Markdown, with a '#' heading for each section.",
    OutputFormat.YAML: "Respond with valid YAML only, inside a ```yaml code block.",
}

_FENCE_LINE = re.compile(r"^\s*(```|~~~)")
_CODE_BLOCK = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d+[.)]|[A-Za-z][.)](?=\s))\s+(.*\S)\s*$")
# "key: value" needs a space (or nothing) after the colon, so URLs are not split; "key=value" needs nothing.
_KEY_VALUE = {
    ":": re.compile(r"^\s*(?:[-*+•]\s+)?(?:\*\*|__)?([^:\n]{1,80}?)(?:\*\*|__)?\s*:(?:\s+(.*?))?\s*$"),
    "=": re.compile(r"^\s*(?:[-*+•]\s+)?(?:\*\*|__)?([^=\n]{1,80}?)(?:\*\*|__)?\s*=\s*(.*?)\s*$"),
}
_YAML_BLOCK = re.compile(r"```[ \t]*(?:ya?ml)?[^\n]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_SCHEMA_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _parse_list(text: str) -> list[str]:
    """Items of a bulleted or numbered list; otherwise one item per line, per comma, or the whole text."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            array = JSONParser.parse_array(stripped)
        except JSONParsingError:
            pass
        else:
            return [item if isinstance(item, str) else json.dumps(item) for item in array]
    items = _list_items(text)
    if items:
        return items
    lines = [line.strip() for line in stripped.splitlines() if line.strip()]
    if len(lines) > 1:
        return lines
    if "," in stripped:
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return [stripped]


def _list_items(text: str) -> list[str]:
    """Bulleted or numbered items; an indented line under an item continues it (wrapped text)."""
    items: list[str] = []
    item_indent: int | None = None  # indentation of the item being read; None outside an item
    for line in text.splitlines():
        match = _ITEM.match(line)
        indent = len(line) - len(line.lstrip())
        if match:
            items.append(match.group(2))
            item_indent = len(match.group(1))
        elif item_indent is not None and line.strip() and indent > item_indent:
            items[-1] = f"{items[-1]} {line.strip()}"
        else:
            item_indent = None
    return items


def _parse_key_value(text: str) -> dict[str, str]:
    """``key: value`` lines (or ``key = value``); lines without a separator continue the previous value."""
    result: dict[str, str] = {}
    for pattern in _KEY_VALUE.values():
        result.clear()
        last_key: str | None = None
        for line in text.splitlines():
            match = pattern.match(line)
            if match:
                last_key = match.group(1).strip()
                result[last_key] = (match.group(2) or "").strip()
            elif last_key is not None and line.strip():
                previous = result[last_key]
                result[last_key] = f"{previous}\n{line.strip()}" if previous else line.strip()
        if result:
            return result
    raise FormatError("no key-value pairs found in the text")


def _parse_markdown(text: str) -> dict[str, Any]:
    """Legacy shape: ``content``, ``sections`` and ``code_blocks``.

    In ``sections``, h1 titles map to their text, h2 titles sit under ``"subsections"``, h3+ under ``"hN"``.
    """
    sections: dict[str, Any] = {}
    current: tuple[int, str] | None = None
    body: list[str] = []
    in_fence = False

    def close_section() -> None:
        if current is None:
            return
        level, title = current
        content = "\n".join(body).strip()
        if level == 1:
            sections[title] = content
        else:
            bucket = "subsections" if level == 2 else f"h{level}"
            sections.setdefault(bucket, {})[title] = content

    for line in text.splitlines():
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            close_section()
            current = (len(heading.group(1)), heading.group(2).strip())
            body = []
        else:
            body.append(line)
    close_section()
    code_blocks = [
        {"language": match.group(1) or "text", "code": textwrap.dedent(match.group(2)).strip("\n")}
        for match in _CODE_BLOCK.finditer(text)
    ]
    return {"content": text, "sections": sections, "code_blocks": code_blocks}


def _parse_yaml(text: str) -> Any:
    """YAML from a fenced block (the largest) or the whole text; pyyaml is imported only when needed."""
    try:
        import yaml
    except ImportError as exc:
        raise FormatError("YAML output needs pyyaml: pip install 'tekton-llm-client[yaml]'") from exc
    blocks = _YAML_BLOCK.findall(text)
    source = max(blocks, key=len) if blocks else text
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise FormatError(f"invalid YAML: {exc}") from exc


def _check_schema(value: Any, schema: Mapping[str, Any]) -> None:
    """Check the answer against a JSON Schema: fully with ``jsonschema`` when installed, else type and required keys."""
    try:
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        try:
            jsonschema.validate(value, dict(schema))
        except jsonschema.ValidationError as exc:
            raise FormatError(f"answer does not match the schema: {exc.message}") from exc
        except jsonschema.SchemaError as exc:
            raise FormatError(f"invalid JSON Schema: {exc.message}") from exc
        return
    expected = schema.get("type")
    if isinstance(expected, str) and not isinstance(value, _SCHEMA_TYPES.get(expected, object)):
        raise FormatError(f"answer is a JSON {_json_type(value)}, the schema expects {expected}")
    if isinstance(value, dict):
        missing = [key for key in schema.get("required", []) if key not in value]
        if missing:
            raise FormatError(f"answer lacks required key(s): {', '.join(map(str, missing))}")


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "value")


_PARSERS: dict[OutputFormat, Callable[[str], Any]] = {
    OutputFormat.JSON_ARRAY: JSONParser.parse_array,
    OutputFormat.LIST: _parse_list,
    OutputFormat.KEY_VALUE: _parse_key_value,
    OutputFormat.MARKDOWN: _parse_markdown,
    OutputFormat.YAML: _parse_yaml,
}
"""The text formats besides JSON (whose parse depends on the schema); anything else is the stripped text."""


class StructuredOutputParser:
    """Output instructions and parsing for one answer format, a JSON Schema, or a pydantic model."""

    def __init__(
        self,
        format: OutputFormat | str | Mapping[str, Any] = OutputFormat.JSON,
        model: type[BaseModel] | None = None,
    ) -> None:
        self.schema: dict[str, Any] | None = None
        if isinstance(format, Mapping):
            self.schema = dict(format)
            self.format = OutputFormat.JSON_ARRAY if self.schema.get("type") == "array" else OutputFormat.JSON
        else:
            try:
                self.format = OutputFormat(format)
            except ValueError as exc:
                known = ", ".join(member.value for member in OutputFormat)
                raise FormatError(f"unknown output format {format!r} (known: {known})") from exc
        self.model = model

    def __repr__(self) -> str:
        target = "schema" if self.schema is not None else self.format.value
        return f"StructuredOutputParser({target!r}, model={getattr(self.model, '__name__', None)!r})"

    def format_prompt(self, prompt: str) -> str:
        """``prompt`` followed by instructions for this format; ``TEXT`` returns ``prompt`` unchanged."""
        schema = self.schema
        if schema is None and self.model is not None and self.format in (OutputFormat.JSON, OutputFormat.JSON_ARRAY):
            schema = self.model.model_json_schema()
            if self.format is OutputFormat.JSON_ARRAY:
                schema = {"type": "array", "items": schema}
        if schema is not None:
            return (
                f"{prompt}\n\nRespond with JSON only (no prose, no code fences), matching this JSON Schema:\n"
                f"{json.dumps(schema, indent=2)}"
            )
        instructions = _INSTRUCTIONS.get(self.format)
        return f"{prompt}\n\n{instructions}" if instructions else prompt

    def parse(self, text: str) -> Any:
        """Parse ``text`` in this format, check it against the schema and validate it into the model if given."""
        if not isinstance(text, str):
            raise FormatError(f"expected text to parse, got {type(text).__name__}")
        try:
            result = self._parse_format(text)
        except JSONParsingError as exc:
            raise FormatError(f"no {self.format.value} found in the answer: {exc.message}") from exc
        if self.schema is not None:
            _check_schema(result, self.schema)
        if self.model is not None:
            result = self._validate(result)
        return result

    def _parse_format(self, text: str) -> Any:
        if self.format is OutputFormat.JSON:
            wanted = self.schema.get("type") if self.schema is not None else None
            if wanted == "object":
                # Prefer the first object when prose also holds an array (and the reverse below).
                for value in iter_json(text):
                    if isinstance(value, dict):
                        return value
            return JSONParser.parse(text)
        parse = _PARSERS.get(self.format)
        return parse(text) if parse is not None else text.strip()

    def _validate(self, result: Any) -> Any:
        model = self.model
        assert model is not None
        try:
            if isinstance(result, dict):
                return model.model_validate(result)
            if isinstance(result, list):
                return [model.model_validate(item) if isinstance(item, dict) else item for item in result]
        except ValidationError as exc:
            raise FormatError(
                f"answer does not match {model.__name__}: {exc.error_count()} validation error(s)"
            ) from exc
        raise FormatError(f"cannot validate a {type(result).__name__} into {model.__name__}")
