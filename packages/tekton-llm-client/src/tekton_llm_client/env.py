"""Environment lookups with the exact-name-first rule.

The legacy helpers read only ``TEKTON_LLM_<key>`` for unprefixed keys, so component lookups of ``RHETOR_PORT`` or
``LLM_PROVIDER`` silently ignored what the run scripts export. Here the exact name wins, then the prefixed one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from .exceptions import ConfigurationError

__all__ = [
    "PREFIX",
    "get_env",
    "get_env_bool",
    "get_env_dict",
    "get_env_float",
    "get_env_int",
    "get_env_list",
    "has_env",
    "set_env",
]

PREFIX = "TEKTON_LLM_"
N = TypeVar("N", int, float)
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def _lookup(key: str, use_prefix: bool, environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    if key in environ:
        return environ[key]
    if use_prefix and not key.startswith(PREFIX):
        return environ.get(PREFIX + key)
    return None


def get_env(key: str, default: str | None = None, required: bool = False, use_prefix: bool = True) -> str | None:
    """Value of ``key``, else ``TEKTON_LLM_<key>`` (when ``use_prefix``), else ``default``.

    An empty string counts as set. ``required=True`` with nothing found raises ``ConfigurationError``
    (a ``ValueError``).
    """
    value = _lookup(key, use_prefix)
    if value is not None:
        return value
    if required and default is None:
        raise ConfigurationError(f"required environment variable {key} is not set")
    return default


def has_env(key: str, use_prefix: bool = True) -> bool:
    """Whether ``key`` (or its prefixed form) is set."""
    return _lookup(key, use_prefix) is not None


def get_env_bool(key: str, default: bool = False, use_prefix: bool = True) -> bool:
    """Boolean value: ``1/true/yes/on`` are true, ``0/false/no/off`` false; anything else raises."""
    value = _lookup(key, use_prefix)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"environment variable {key} is not a boolean: {value!r}")


def _number(
    key: str, kind: Callable[[str], N], default: N | None, use_prefix: bool, environ: Mapping[str, str] | None
) -> N | None:
    value = _lookup(key, use_prefix, environ)
    if value is None or value.strip() == "":
        return default
    try:
        return kind(value)
    except ValueError as exc:
        what = "an integer" if kind is int else "a number"
        raise ConfigurationError(f"environment variable {key} must be {what}, got {value!r}") from exc


@overload
def get_env_int(
    key: str, default: int = ..., use_prefix: bool = ..., *, environ: Mapping[str, str] | None = ...
) -> int: ...
@overload
def get_env_int(
    key: str, default: None, use_prefix: bool = ..., *, environ: Mapping[str, str] | None = ...
) -> int | None: ...
def get_env_int(
    key: str, default: int | None = 0, use_prefix: bool = True, *, environ: Mapping[str, str] | None = None
) -> int | None:
    """Integer value (``default`` when unset or empty); a malformed value raises ``ConfigurationError``."""
    return _number(key, int, default, use_prefix, environ)


@overload
def get_env_float(
    key: str, default: float = ..., use_prefix: bool = ..., *, environ: Mapping[str, str] | None = ...
) -> float: ...
@overload
def get_env_float(
    key: str, default: None, use_prefix: bool = ..., *, environ: Mapping[str, str] | None = ...
) -> float | None: ...
def get_env_float(
    key: str, default: float | None = 0.0, use_prefix: bool = True, *, environ: Mapping[str, str] | None = None
) -> float | None:
    """Float value (``default`` when unset or empty); a malformed value raises ``ConfigurationError``."""
    return _number(key, float, default, use_prefix, environ)


def get_env_list(
    key: str, default: list[str] | None = None, separator: str = ",", use_prefix: bool = True
) -> list[str]:
    """Comma-separated list, items stripped, empty items dropped."""
    value = _lookup(key, use_prefix)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(separator) if item.strip()]


def get_env_dict(key: str, default: dict[str, Any] | None = None, use_prefix: bool = True) -> dict[str, Any]:
    """A JSON object, or ``k=v,k2=v2`` pairs."""
    value = _lookup(key, use_prefix)
    if value is None or value.strip() == "":
        return dict(default or {})
    text = value.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"environment variable {key} is not a JSON object") from exc
        if not isinstance(parsed, dict):
            raise ConfigurationError(f"environment variable {key} is not a JSON object")
        return parsed
    result: dict[str, Any] = {}
    for pair in text.split(","):
        if "=" in pair:
            k, _, v = pair.partition("=")
            result[k.strip()] = v.strip()
    return result


def set_env(key: str, value: Any, use_prefix: bool = True) -> None:
    """Set ``TEKTON_LLM_<key>`` (legacy behaviour) or ``key`` itself with ``use_prefix=False``."""
    name = key if (not use_prefix or key.startswith(PREFIX)) else PREFIX + key
    os.environ[name] = (
        value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    )
