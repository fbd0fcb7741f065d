"""Terma's configuration object (``terma.utils.config.Config``), usable without the ``terma`` package.

Terma's adapter reads its provider, model, URLs and system prompt from ``~/.terma/config.json`` and persists the
user's provider/model choice there, so the shim must read and write the same file the same way
(legacy-adapters.md §1.2): the file is created with defaults on first use, ``TERMA_<KEY>`` variables override it,
and every ``set`` rewrites the whole file.

Terma builds a ``Config`` (through a new adapter) for every request. Reading and parsing the file each time is
most of what such a request costs beyond the LLM call, so the parsed content is remembered per path and shared,
read-only, between instances (an instance takes a private copy before anything could change it: ``set``, or
handing out ``config`` or a nested object). The file is checked again (``stat``: modification time, size, inode)
when the remembered content is older than ``RECHECK_SECONDS``, and every write through any ``Config`` of this
process forgets it at once; so only an edit by another process can go unseen, for at most that long (about the
modification-time resolution of many file systems).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from tekton_llm_client._files import atomic_write

from ._providers import TERMA_LLM_PROVIDERS

__all__ = ["DEFAULT_CONFIG_PATH", "DEFAULT_SYSTEM_PROMPT", "LLM_PROVIDERS", "RECHECK_SECONDS", "Config"]

logger = logging.getLogger("terma")

DEFAULT_CONFIG_PATH = "~/.terma/config.json"
DEFAULT_SYSTEM_PROMPT = (
    "You are a terminal assistant that helps users with command-line tasks. Provide concise explanations and "
    "suggestions for terminal commands. Focus on being helpful, accurate, and security-conscious."
)
LLM_PROVIDERS = TERMA_LLM_PROVIDERS


RECHECK_SECONDS = 1.0

_Signature = tuple[int, int, int]


@dataclass
class _Parsed:
    """A config file's parsed content (never mutated), the ``stat`` signature it was read at, when last checked."""

    signature: _Signature
    data: dict[str, Any]
    checked_at: float


_parsed: dict[str, _Parsed] = {}


def _signature(status: os.stat_result) -> _Signature:
    return status.st_mtime_ns, status.st_size, status.st_ino


def _recent(path: str) -> dict[str, Any] | None:
    """The remembered content of ``path`` if it was checked within ``RECHECK_SECONDS``."""
    cached = _parsed.get(path)
    if cached is not None and time.monotonic() - cached.checked_at < RECHECK_SECONDS:
        return cached.data
    return None


def _read(path: str, signature: _Signature) -> dict[str, Any]:
    """The file's JSON object, parsed again only when the file changed; a non-object counts as ``{}``."""
    cached = _parsed.get(path)
    if cached is not None and cached.signature == signature:
        cached.checked_at = time.monotonic()
        return cached.data
    with open(path, encoding="utf-8") as handle:
        loaded = json.load(handle)
    if not isinstance(loaded, dict):
        return {}
    _parsed[path] = _Parsed(signature, loaded, time.monotonic())
    return loaded


_keys: dict[str, tuple[str, tuple[str, ...]]] = {}


def _parse_key(key: str) -> tuple[str, tuple[str, ...]]:
    """``llm.model`` → ``("TERMA_LLM_MODEL", ("llm", "model"))``, remembered: Terma asks for the same few keys
    on every request."""
    parsed = _keys.get(key)
    if parsed is None:
        parsed = _keys[key] = ("TERMA_" + key.upper().replace(".", "_"), tuple(key.split(".")))
    return parsed


def _expand_user(path: str) -> str:
    """``os.path.expanduser``, with the common ``~/…`` case done without its extra lookups."""
    if path.startswith("~/"):
        home = os.environ.get("HOME")
        if home:
            return home.rstrip("/") + path[1:] if home != "/" else path[1:]
    return os.path.expanduser(path)


def _default_config() -> dict[str, Any]:
    """The file Terma writes on first use; the URLs are seeded from the legacy environment at that moment."""
    return {
        "terminal": {"default_shell": os.environ.get("SHELL", "/bin/bash"), "font_size": 14, "theme": "dark"},
        "server": {"host": "0.0.0.0", "port": 8765},
        "llm": {
            "provider": "claude",
            "model": "claude-3-sonnet-20240229",
            "adapter_url": os.environ.get("LLM_ADAPTER_URL", "http://localhost:8300"),
            "adapter_ws_url": os.environ.get("LLM_ADAPTER_WS_URL", "ws://localhost:8301"),
            "system_prompt": DEFAULT_SYSTEM_PROMPT,
        },
    }


class Config:
    """Terma's JSON configuration file with ``TERMA_*`` environment overrides."""

    def __init__(self, config_path: str | None = None) -> None:
        self.config_path = _expand_user(config_path or DEFAULT_CONFIG_PATH)
        self._data: dict[str, Any] = {}
        self._shared = False  # True while ``_data`` is the remembered parse that other instances read too
        recent = _recent(self.config_path)
        if recent is not None:
            self._data, self._shared = recent, True
            return
        try:
            status = os.stat(self.config_path)
        except (OSError, ValueError):  # as os.path.exists: anything unstat-able counts as missing
            self._data = _default_config()
            self._save()
        else:
            self._load(_signature(status))

    @property
    def config(self) -> dict[str, Any]:
        """The in-memory dict (this instance's own: changing it never reaches another instance)."""
        self._own()
        return self._data

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._data, self._shared = value, False

    def _own(self) -> None:
        if self._shared:
            self._data, self._shared = copy.deepcopy(self._data), False

    def _load(self, signature: _Signature) -> None:
        try:
            self._data, self._shared = _read(self.config_path, signature), True
        except Exception as error:
            # Like the original: keep running with an empty config and leave the broken file untouched.
            logger.error("Error loading config from %s: %s", self.config_path, error)
            self._data, self._shared = {}, False

    def _save(self) -> None:
        directory = os.path.dirname(self.config_path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        _parsed.pop(self.config_path, None)
        # Atomic, so a crash never leaves half a config file for the next start to choke on.
        atomic_write(self.config_path, json.dumps(self._data, indent=2), new_mode=0o644)

    def _lookup(self, key: str, default: Any = None) -> tuple[Any, str]:
        """``get``, plus where the value came from: the variable's name, ``"file"`` or ``"default"``."""
        env_name, parts = _parse_key(key)
        override = os.environ.get(env_name)
        if override is not None:
            return override, env_name
        value: Any = self._data
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                return default, "default"
            value = value[part]
        if isinstance(value, (dict, list)) and self._shared:  # a caller may change what it gets: copy first
            self._own()
            return self._lookup(key, default)
        return value, "file"

    def get(self, key: str, default: Any = None) -> Any:
        """``TERMA_<KEY>`` (raw string) if set, else the dotted key's value in the file, else ``default``."""
        return self._lookup(key, default)[0]

    def set(self, key: str, value: Any) -> None:
        """Assign a dotted key (creating intermediate objects) and rewrite the whole file; may raise ``OSError``."""
        self._own()
        parts = key.split(".")
        node = self._data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
        self._save()

    def get_all_llm_providers(self) -> dict[str, dict[str, Any]]:
        """The provider table (a copy, so callers cannot change it for the next request)."""
        return copy.deepcopy(TERMA_LLM_PROVIDERS)

    def get_provider_models(self, provider_id: str) -> list[dict[str, str]]:
        """The models of one provider of the table, or ``[]``."""
        provider = TERMA_LLM_PROVIDERS.get(provider_id)
        return copy.deepcopy(provider["models"]) if provider else []
