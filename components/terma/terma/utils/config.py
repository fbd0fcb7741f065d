"""Terma's settings file (``~/.terma/config.json``) with ``TERMA_*`` environment overrides.

The file is created with defaults on first use so that a user can find and edit it; the LLM provider table
lives here because the API validates provider/model choices against it without asking any service.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional

logger = logging.getLogger("terma")

DEFAULT_SYSTEM_PROMPT = (
    "You are a terminal assistant that helps users with command-line tasks. Provide concise explanations "
    "and suggestions for terminal commands. Focus on being helpful, accurate, and security-conscious."
)

LLM_PROVIDERS: Dict[str, Dict[str, Any]] = {
    "claude": {
        "name": "Claude",
        "models": [
            {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
            {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        ],
        "default": "claude-3-sonnet-20240229",
    },
    "openai": {
        "name": "OpenAI",
        "models": [
            {"id": "gpt-4", "name": "GPT-4"},
            {"id": "gpt-4-turbo", "name": "GPT-4 Turbo"},
            {"id": "gpt-3.5-turbo", "name": "GPT-3.5 Turbo"},
        ],
        "default": "gpt-4",
    },
    "local": {
        "name": "Local LLM",
        "models": [
            {"id": "mistral-7b", "name": "Mistral 7B"},
            {"id": "llama-2-13b", "name": "LLaMA 2 13B"},
        ],
        "default": "mistral-7b",
    },
}


def _default_config() -> Dict[str, Any]:
    # Seeded from the environment once, when the file is first written.
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
    """Dotted-key access to the settings file; ``TERMA_<KEY>`` variables win over the file."""

    def __init__(self, config_path: Optional[str] = None) -> None:
        self.config_path = os.path.expanduser(config_path or "~/.terma/config.json")
        self.config: Dict[str, Any] = {}
        if os.path.exists(self.config_path):
            try:
                with open(self.config_path, encoding="utf-8") as handle:
                    self.config = json.load(handle)
            except (OSError, ValueError) as exc:
                logger.error("Could not load %s: %s", self.config_path, exc)
                self.config = {}
        else:
            self.config = _default_config()
            self._save()

    def _save(self) -> None:
        os.makedirs(os.path.dirname(self.config_path) or ".", exist_ok=True)
        with open(self.config_path, "w", encoding="utf-8") as handle:
            json.dump(self.config, handle, indent=2)

    def get(self, key: str, default: Any = None) -> Any:
        env_value = os.environ.get("TERMA_" + key.upper().replace(".", "_"))
        if env_value is not None:
            return env_value
        node: Any = self.config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def set(self, key: str, value: Any) -> None:
        parts = key.split(".")
        node = self.config
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self._save()

    def get_all_llm_providers(self) -> Dict[str, Dict[str, Any]]:
        return LLM_PROVIDERS

    def get_provider_models(self, provider_id: str) -> List[Dict[str, str]]:
        provider = LLM_PROVIDERS.get(provider_id)
        return list(provider["models"]) if provider else []
