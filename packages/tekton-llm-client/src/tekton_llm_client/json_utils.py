"""Find and decode the JSON a model wrote, wherever it put it.

Models wrap JSON in prose, in fenced code blocks, or write JavaScript-flavoured JSON (single quotes, bare keys,
trailing commas). Component code expects a ``dict`` or ``list`` back and catches ``ValueError``; so every failure
here is a :class:`~tekton_llm_client.exceptions.JSONParsingError` (a ``ValueError``). Repairs are done by a small
tokenizer, never by ``eval``: model output is untrusted text.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .exceptions import JSONParsingError

__all__ = ["JSONParser", "JSONValue", "extract_json", "iter_json", "parse_json"]

JSONValue = dict[str, Any] | list[Any]
"""What the parsers return: only containers count as "the JSON" of an answer."""

ModelT = TypeVar("ModelT", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([\w+.-]*)[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)
# Fenced blocks in other languages (```python, ```c) hold code, not the answer: the prose scan skips them.
_JSON_FENCE_TAGS = frozenset({"", "json", "jsonc", "json5", "js", "javascript"})
_CLOSERS = {"{": "}", "[": "]"}
_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER_KEY = re.compile(r"-?\d+(?:\.\d+)?")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}
# Cheap look at how a bracketed span starts: code such as ``{ if (x) ...`` is not worth a decode attempt.
_LOOKS_LIKE_JSON = re.compile(
    r"""\{\s*(?:["'}]|[A-Za-z_$][\w$]*\s*:|-?\d+(?:\.\d+)?\s*:)"""
    r"""|\[\s*(?:["'\[\]{-]|\d|(?:true|false|null|True|False|None)\b)"""
)
# Each failed candidate costs a repair pass over its text; bound them so hostile input stays linear-ish.
_MAX_FAILED_CANDIDATES = 64


def _decode(candidate: str) -> tuple[JSONValue, str] | None:
    """Decode one candidate, repairing it if needed; returns the value and the JSON text actually decoded."""
    try:
        value = json.loads(candidate)
    except (ValueError, RecursionError):
        repaired = _repair(candidate)
        try:
            # strict=False also accepts raw newlines/tabs inside strings, which models often emit.
            value = json.loads(repaired, strict=False)
        except (ValueError, RecursionError):
            return None
        candidate = repaired
    if isinstance(value, (dict, list)):
        return value, candidate
    return None


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start`` (or ``len(text)`` if it never closes)."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    return len(text)


class _Span:
    """A matched ``{...}`` or ``[...]`` in prose, with the matched spans directly inside it."""

    __slots__ = ("children", "end", "start")

    def __init__(self, start: int, end: int, children: list[_Span]) -> None:
        self.start = start
        self.end = end
        self.children = children


def _bracket_spans(text: str) -> list[_Span]:
    """Outermost matched bracket spans of ``text`` (each with its nested spans), in one left-to-right pass.

    A quote opens a string only where a JSON value or key can start (after ``{ [ , :``), so apostrophes in prose
    ("it's") do not swallow brackets. A mismatched closer or an unclosed opener is dropped and the spans matched
    inside it are promoted, so junk brackets never hide the JSON after or inside them.
    """
    roots: list[_Span] = []
    stack: list[tuple[str, int, list[_Span]]] = []  # (expected closer, start, children)
    last = ""  # last significant character, to tell string quotes from apostrophes

    def drop_open() -> None:
        for _closer, _start, children in stack:
            roots.extend(children)
        stack.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'" and stack and last in "{[,:":
            end = _string_end(text, i)
            if end < len(text) or text[-1] == ch:
                i = end
                last = ch
                continue
        if ch in _CLOSERS:
            stack.append((_CLOSERS[ch], i, []))
        elif ch in "}]":
            if stack and stack[-1][0] == ch:
                _closer, start, children = stack.pop()
                (stack[-1][2] if stack else roots).append(_Span(start, i + 1, children))
            else:
                drop_open()
        if not ch.isspace():
            last = ch
        i += 1
    drop_open()
    return roots


def _single_to_double(body: str) -> str:
    """Re-quote the inside of a single-quoted string as a JSON double-quoted string."""
    out = ['"']
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("'" if nxt == "'" else ch + nxt)
            i += 2
            continue
        out.append('\\"' if ch == '"' else ch)
        i += 1
    out.append('"')
    return "".join(out)


def _next_significant(text: str, i: int) -> str:
    while i < len(text) and text[i].isspace():
        i += 1
    return text[i] if i < len(text) else ""


def _repair(text: str) -> str:
    """Rewrite JS/Python-flavoured JSON into strict JSON, token by token.

    Handles single-quoted strings, unquoted (identifier or numeric) keys, trailing commas and the Python literals
    ``True``/``False``/``None``. Anything else is copied unchanged, so valid JSON stays valid.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif ch == "'":
            end = _string_end(text, i)
            out.append(_single_to_double(text[i + 1 : end - 1]))
            i = end
        elif ch == ",":
            if _next_significant(text, i + 1) not in ("}", "]"):
                out.append(ch)
            i += 1
        elif _IDENT_START.match(ch):
            match = _IDENT.match(text, i)
            assert match is not None  # the first character matched _IDENT_START
            word = match.group()
            i = match.end()
            if _next_significant(text, i) == ":":
                out.append(json.dumps(word))
            else:
                out.append(_PY_LITERALS.get(word, word))
        elif ch.isdigit() or ch == "-":
            number = _NUMBER_KEY.match(text, i)
            if number is None:
                out.append(ch)
                i += 1
                continue
            is_key = _last_significant(out) in ("{", ",") and _next_significant(text, number.end()) == ":"
            out.append(json.dumps(number.group()) if is_key else number.group())
            i = number.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _last_significant(parts: list[str]) -> str:
    for part in reversed(parts):
        stripped = part.strip()
        if stripped:
            return stripped[-1]
    return ""


def _find(text: str) -> Iterator[tuple[JSONValue, str]]:
    """Yield every JSON container found in ``text`` with its source, most explicit placement first.

    Order: the whole text; then fenced code blocks; then bracketed spans in the prose, largest first (so a
    citation like ``[1]`` does not win over the answer), trying the spans nested in a span that did not decode.
    Fenced blocks tagged with another language are not searched.
    """
    stripped = text.strip()
    if stripped[:1] in _CLOSERS:
        found = _decode(stripped)
        if found is not None:
            yield found
    prose: list[str] = []
    position = 0
    for fence in _FENCE.finditer(text):
        tag, body = fence.group(1).lower(), fence.group(2).strip()
        if body[:1] in _CLOSERS:
            found = _decode(body)
            if found is not None:
                yield found
        if tag not in _JSON_FENCE_TAGS:
            prose.append(text[position : fence.start()])
            prose.append(" ")  # keeps the text on either side of the skipped block apart
            position = fence.end()
    prose.append(text[position:])
    searchable = "".join(prose)

    # Largest span first; among equals, the leftmost. The heap holds (-length, start, span).
    pending = [(span.start - span.end, span.start, span) for span in _bracket_spans(searchable)]
    heapq.heapify(pending)
    failures = 0
    while pending and failures < _MAX_FAILED_CANDIDATES:
        _size, _start, span = heapq.heappop(pending)
        plausible = _LOOKS_LIKE_JSON.match(searchable, span.start) is not None
        found = _decode(searchable[span.start : span.end]) if plausible else None
        if found is None:
            failures += plausible
            for child in span.children:
                heapq.heappush(pending, (child.start - child.end, child.start, child))
            continue
        yield found


def _require_text(text: object) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise JSONParsingError(f"expected text to parse, got {type(text).__name__}", content=None)
    return text


def iter_json(text: str) -> Iterator[JSONValue]:
    """Every JSON object or array found in ``text``, in the order :func:`parse_json` considers them.

    That is: the whole text, fenced blocks, then bracketed spans of the prose largest first.
    """
    for value, _source in _find(_require_text(text)):
        yield value


class JSONParser:
    """Namespace of JSON helpers; instantiable (``JSONParser().parse``) and usable on the class alike."""

    @staticmethod
    def parse(text: str) -> JSONValue:
        """The first JSON object or array in ``text`` (raw, fenced or embedded in prose), repaired if needed."""
        text = _require_text(text)
        for value, _source in _find(text):
            return value
        raise JSONParsingError("no JSON object or array found in the text", content=text)

    @staticmethod
    def parse_array(text: str) -> list[Any]:
        """The first JSON array in ``text``; an object whose only value is an array is unwrapped to it."""
        text = _require_text(text)
        first: JSONValue | None = None
        for value, _source in _find(text):
            if isinstance(value, list):
                return value
            if len(value) == 1:
                (only,) = value.values()
                if isinstance(only, list):
                    return only
            first = value if first is None else first
        raise JSONParsingError("no JSON array found in the text", content=text, partial_data=first)

    @staticmethod
    def extract_json(text: str) -> str:
        """Legacy: the JSON text of the first object or array (repaired into strict JSON when it had to be)."""
        text = _require_text(text)
        for _value, source in _find(text):
            return source
        raise JSONParsingError("no JSON object or array found in the text", content=text)

    @staticmethod
    def parse_as_model(text: str, model_cls: type[ModelT]) -> ModelT:
        """Legacy: parse the first JSON object and validate it into ``model_cls``."""
        data = JSONParser.parse(text)
        try:
            return model_cls.model_validate(data)
        except ValidationError as exc:
            raise JSONParsingError(
                f"JSON does not match {model_cls.__name__}: {exc.error_count()} validation error(s)",
                content=text,
                partial_data=data,
            ) from exc


def parse_json(text: str) -> JSONValue:
    """Same as :meth:`JSONParser.parse`."""
    return JSONParser.parse(text)


def extract_json(text: str) -> JSONValue:
    """The **parsed** first JSON object or array (unlike the legacy string-returning ``JSONParser.extract_json``).

    Prometheus checks ``isinstance(extract_json(...), list)`` and reads items with ``.get``, so a value is returned.
    """
    return JSONParser.parse(text)
