"""Provider and model listings: the legacy fallback tables and Rhetor's listing in the legacy shapes.

Each legacy adapter answered "which providers/models exist" differently and fell back to a hard-coded table when
its service did not answer. The tables live here once; ``rhetor_listing`` asks Rhetor (through the adapter's
client) and returns ``None`` whenever there is no classic provider listing to report, so callers fall back.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from tekton_llm_client.client import TektonLLMClient
from tekton_llm_client.models import AvailableProviders

from ._common import ClientHolder, error_text

__all__ = [
    "TERMA_LLM_PROVIDERS",
    "ProviderMethods",
    "classic_body",
    "classic_providers",
    "hermes_providers_fallback",
    "models_by_provider",
    "models_fallback",
    "rhetor_listing",
]

logger = logging.getLogger("tekton_llm_shims")

TERMA_LLM_PROVIDERS: dict[str, dict[str, Any]] = {
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
"""Terma's ``LLM_PROVIDERS`` (legacy-adapters.md §1.2). Hand out deep copies; never mutate."""

_MODELS_FALLBACK: dict[str, list[dict[str, str]]] = {
    "anthropic": [
        {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
    ]
}


def models_fallback() -> dict[str, list[dict[str, str]]]:
    """Telos v2 / Engram ``get_available_models`` fallback (a fresh copy)."""
    return copy.deepcopy(_MODELS_FALLBACK)


def hermes_providers_fallback(default_provider: str, default_model: str) -> dict[str, Any]:
    """Hermes / Telos v1 ``get_available_providers`` fallback, built from the adapter's current defaults."""
    return {
        default_provider: {
            "available": True,
            "models": [
                {"id": default_model, "name": "Default Model"},
                {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
                {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            ],
        }
    }


async def rhetor_listing(
    client: TektonLLMClient, timeout: float, *, classic_only: bool = True
) -> AvailableProviders | None:
    """Rhetor's listing within ``timeout`` seconds, or ``None`` when there is none to report. Never raises.

    v1 Rhetor has no provider listing (its optional model listing is not one), so with ``classic_only`` the
    provider-listing callers get their legacy fallback there; model listings accept either generation.
    """
    try:
        listing, dialect = await asyncio.wait_for(_listing_and_dialect(client), timeout)
    except Exception as error:
        logger.info("no provider listing from Rhetor: %s", error_text(error))
        return None
    if (classic_only and dialect != "classic") or not listing.providers:
        return None
    return listing


async def _listing_and_dialect(client: TektonLLMClient) -> tuple[AvailableProviders, str | None]:
    listing = await client.get_providers()
    return listing, await _dialect(client)


async def _dialect(client: TektonLLMClient) -> str | None:
    value = getattr(client, "dialect", None)
    if callable(value):
        value = value()
    if asyncio.iscoroutine(value):
        value = await value
    return value if isinstance(value, str) else None


def _model_list(models: Any) -> list[dict[str, Any]]:
    """The client normalises model listings to ``{id: {...}}``; the legacy shapes are ``[{"id", "name"}]``."""
    entries = models.values() if isinstance(models, dict) else models if isinstance(models, list) else []
    result = []
    for entry in entries:
        if isinstance(entry, dict):
            result.append({key: value for key, value in entry.items() if key != "provider"})
    return result


def classic_providers(listing: AvailableProviders) -> dict[str, dict[str, Any]]:
    """The ``providers`` mapping of a classic ``GET /providers`` body: ``{id: {"name", "available", "models"}}``."""
    return {
        provider_id: {
            "name": info.get("name", provider_id),
            "available": bool(info.get("available", False)),
            "models": _model_list(info.get("models")),
        }
        for provider_id, info in listing.providers.items()
    }


def classic_body(listing: AvailableProviders) -> dict[str, Any]:
    """The whole classic ``GET /providers`` body (what Hermes returned unwrapped)."""
    return {
        "providers": classic_providers(listing),
        "default_provider": listing.default_provider,
        "default_model": listing.default_model,
    }


def models_by_provider(listing: AvailableProviders) -> dict[str, list[dict[str, str]]]:
    """``{provider_id: [{"id", "name"}]}`` (Telos v2 / Engram ``get_available_models``)."""
    return {
        provider_id: [
            {"id": str(model["id"]), "name": str(model.get("name", model["id"]))}
            for model in _model_list(info.get("models"))
            if "id" in model
        ]
        for provider_id, info in listing.providers.items()
    }


class ProviderMethods(ClientHolder):
    """The three provider methods Hermes and Telos v1 share (spec §2.2); provider/model live in memory only."""

    default_provider: str
    default_model: str

    async def get_available_providers(self) -> dict[str, Any]:
        """Classic Rhetor's ``GET /providers`` body; otherwise the legacy one-provider fallback. Never raises."""
        try:
            listing = await rhetor_listing(await self._active_client(), timeout=5.0)
        except Exception as error:
            logger.info("no provider listing: %s", error_text(error))
            listing = None
        if listing is None:
            return hermes_providers_fallback(self.default_provider, self.default_model)
        return classic_body(listing)

    def get_current_provider_and_model(self) -> tuple[str, str]:
        return self.default_provider, self.default_model

    def set_provider_and_model(self, provider_id: str, model_id: str) -> None:
        """Change what chat requests send (process memory only, no validation)."""
        self.default_provider = provider_id
        self.default_model = model_id
