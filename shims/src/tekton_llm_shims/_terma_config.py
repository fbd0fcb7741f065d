"""Terma's configuration object (``terma.utils.config.Config``), usable without the ``terma`` package.

Terma's adapter reads its provider, model, URLs and system prompt from ``~/.terma/config.json`` and persists the
user's provider/model choice there, so the shim must read and write the same file the same way
(legacy-adapters.md §1.2): the file is created with defaults on first use, ``TERMA_<KEY>`` variables override it,
and every ``set`` rewrites the whole file.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from typing import Any

from ._providers import TERMA_LLM_PROVIDERS

__all__ = ["DEFAULT_CONFIG_PATH", "DEFAULT_SYSTEM_PROMPT", "LLM_PROVIDERS", "Config"]

logger = logging.getLogger("terma")

DEFAULT_CONFIG_PATH = "~/.terma/config.json"
DEFAULT_SYSTEM_PROMPT = (
    "You are a terminal assistant that helps users with command-line tasks. Provide concise explanations and "
    "suggestions for terminal commands. Focus on being helpful, accurate, and security-conscious."
)
LLM_PROVIDERS = TERMA_LLM_PROVIDERS


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
        self.config_path = os.path.expanduser(config_path or DEFAULT_CONFIG_PATH)
        self.config: dict[str, Any] = {}
        if os.path.exists(self.config_path):
            self._load()
        else:
            self.config = _default_config()
            self._save()

    def _load(self) -> None:
        try:
            with open(self.config_path, encoding="utf-8") as handle:
                loaded = json.load(handle)
            self.config = loaded if isinstance(loaded, dict) else {}
        except Exception as error:
            # Like the original: keep running with an empty config and leave the broken file untouched.
            logger.error("Error loading config from %s: %s", self.config_path, error)
            self.config = {}

    def _save(self) -> None:
        directory = os.path.dirname(self.config_path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(self.config_path, "w", encoding="utf-8") as handle:
            json.dump(self.config, handle, indent=2)

    def get(self, key: str, default: Any = None) -> Any:
        """``TERMA_<KEY>`` (raw string) if set, else the dotted key's value in the file, else ``default``."""
        env_name = "TERMA_" + key.upper().replace(".", "_")
        if env_name in os.environ:
            return os.environ[env_name]
        value: Any = self.config
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def set(self, key: str, value: Any) -> None:
        """Assign a dotted key (creating intermediate objects) and rewrite the whole file; may raise ``OSError``."""
        parts = key.split(".")
        node = self.config
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
