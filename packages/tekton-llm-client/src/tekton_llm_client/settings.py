"""Settings objects that component code builds and passes around (``ClientSettings``, ``LLMSettings``).

They are inputs only: the client resolves its effective configuration in ``config.py``. ``LLMSettings`` follows the
"only what the caller explicitly set" rule, so its readable defaults never override a client's configuration.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from ._files import atomic_write
from ._ratelimit import RateLimits
from ._urls import safe_url
from .exceptions import ConfigurationError

__all__ = ["ClientSettings", "LLMSettings", "get_default_settings", "load_settings", "save_settings"]

_URL_FIELDS = frozenset({"rhetor_url", "base_url"})


def _masked_repr_args(model: BaseModel) -> Any:
    """pydantic's repr/str arguments with URL fields shown without credentials or query (they may hold secrets)."""
    for name, value in BaseModel.__repr_args__(model):
        yield name, (safe_url(value) if name in _URL_FIELDS and isinstance(value, str) else value)


class LLMSettings(BaseModel):
    """Generation settings. Every field accepts ``None``; only explicitly set, non-``None`` fields apply."""

    model_config = ConfigDict(extra="allow", validate_assignment=False)

    provider: str | None = "anthropic"
    model: str | None = None
    rhetor_url: str | None = "http://localhost:8003"
    timeout: int | float | None = 120
    max_retries: int | None = 3
    retry_delay: int | None = 1000
    use_fallback: bool | None = True
    auth_token: str | None = Field(default=None, repr=False)
    fallback_provider: str | None = None
    fallback_model: str | None = None
    temperature: float | None = 0.7
    max_tokens: int | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    templates_dir: str | None = None

    def __repr_args__(self) -> Any:
        return _masked_repr_args(self)

    def explicit(self) -> dict[str, Any]:
        """The fields the caller set explicitly and that are not ``None``: the only ones that override."""
        data = {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name, None) is not None}
        for name, value in (self.model_extra or {}).items():
            if value is not None:
                data[name] = value
        return data


class ClientSettings(BaseModel):
    """Client configuration object; mutable, unknown keywords kept. ``rhetor_url`` is an alias of ``base_url``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    component_id: str
    base_url: str | None = Field(default=None, validation_alias=AliasChoices("base_url", "rhetor_url"))
    provider_id: str | None = None
    model_id: str | None = None
    timeout: float = 30
    max_retries: int = 3
    use_fallback: bool = True
    auth_token: str | None = Field(default=None, repr=False)
    version: str = "0.1.0"
    llm: LLMSettings = Field(default_factory=LLMSettings)
    context_id: str | None = None
    additional_options: dict[str, Any] = Field(default_factory=dict)
    rate_limits: RateLimits | None = None
    """Client-side rate limits of the component (below a ``rate_limits`` argument, above ``RHETOR_RATE_LIMIT_*``)."""

    @property
    def rhetor_url(self) -> str | None:
        """Alias of ``base_url``."""
        return self.base_url

    @rhetor_url.setter
    def rhetor_url(self, value: str | None) -> None:
        self.base_url = value

    def __repr_args__(self) -> Any:
        return _masked_repr_args(self)

    def explicit(self) -> dict[str, Any]:
        """Fields set explicitly (constructor or assignment) and not ``None``."""
        return {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None}


def get_default_settings(component_id: str = "default") -> ClientSettings:
    """Settings with built-in defaults only (no file, no environment)."""
    return ClientSettings(component_id=component_id)


_ENV_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base_url", ("RHETOR_URL", "TEKTON_LLM_URL")),
    ("provider_id", ("RHETOR_DEFAULT_PROVIDER", "TEKTON_LLM_PROVIDER")),
    ("model_id", ("RHETOR_DEFAULT_MODEL", "TEKTON_LLM_MODEL")),
    ("timeout", ("RHETOR_TIMEOUT", "TEKTON_LLM_TIMEOUT")),
    ("max_retries", ("RHETOR_MAX_RETRIES", "TEKTON_LLM_MAX_RETRIES")),
    ("auth_token", ("RHETOR_AUTH_TOKEN", "TEKTON_LLM_AUTH_TOKEN")),
)


def load_settings(component_id: str, file_path: str | None = None, load_from_env: bool = True) -> ClientSettings:
    """Defaults, then a JSON settings file (if given), then the environment (if ``load_from_env``)."""
    data: dict[str, Any] = {}
    if file_path:
        path = Path(file_path)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read settings file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"settings file {path} must hold a JSON object")
        data.update(loaded)
    if load_from_env:
        for field, names in _ENV_FIELDS:
            for name in names:
                if os.environ.get(name):
                    data[field] = os.environ[name]
                    break
    data["component_id"] = component_id
    return ClientSettings(**data)


def save_settings(settings: ClientSettings, file_path: str) -> bool:
    """Write settings as JSON (without the auth token, which never goes to disk)."""
    payload = settings.model_dump(mode="json", exclude={"auth_token"})
    if isinstance(payload.get("llm"), dict):
        payload["llm"].pop("auth_token", None)
    # Replaced atomically (a crash never leaves half a settings file); a new file gets the usual 0o644.
    atomic_write(file_path, json.dumps(payload, indent=2), new_mode=0o644)
    return True
