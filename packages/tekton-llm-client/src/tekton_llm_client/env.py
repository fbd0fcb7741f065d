"""Environment lookups with the exact-name-first rule.

The legacy helpers read only ``TEKTON_LLM_<key>`` for unprefixed keys, so component lookups of ``RHETOR_PORT`` or
``LLM_PROVIDER`` silently ignored what the run scripts export. Here the exact name wins, then the prefixed one.
"""

from __future__ import annotations

import json
import os
from typing import Any

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
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def _lookup(key: str, use_prefix: bool) -> str | None:
    if key in os.environ:
        return os.environ[key]
    if use_prefix and not key.startswith(PREFIX):
        return os.environ.get(PREFIX + key)
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


def get_env_int(key: str, default: int = 0, use_prefix: bool = True) -> int:
    """Integer value; a malformed value raises ``ConfigurationError`` rather than being ignored."""
    value = _lookup(key, use_prefix)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {key} is not an integer: {value!r}") from exc


def get_env_float(key: str, default: float = 0.0, use_prefix: bool = True) -> float:
    """Float value; a malformed value raises ``ConfigurationError``."""
    value = _lookup(key, use_prefix)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {key} is not a number: {value!r}") from exc


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
