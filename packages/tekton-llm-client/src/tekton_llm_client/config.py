"""Where every setting of a client comes from, resolved once, in one place.

Precedence: explicit constructor argument > field explicitly set on ``settings`` > field explicitly set on
``llm_settings`` (provider/model only) > environment > built-in default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from .env import get_env_float, get_env_int
from .exceptions import ConfigurationError
from .settings import ClientSettings, LLMSettings

__all__ = ["DEFAULT_URL", "DEFAULT_WS_URL", "ClientConfig", "derive_ws_url", "resolve_config", "safe_url"]

DEFAULT_URL = "http://localhost:8003"
DEFAULT_WS_URL = "ws://localhost:8003/ws"
DEFAULT_OLLAMA_URL = "http://localhost:11434"

ApiChoice = Literal["auto", "v1", "classic"]
TransportChoice = Literal["auto", "http", "ws"]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The effective configuration of one client. The token is kept out of ``repr``."""

    component_id: str = "default"
    base_url: str = DEFAULT_URL
    ws_url: str = DEFAULT_WS_URL
    provider_id: str | None = None
    model_id: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    first_event_timeout: float | None = None
    idle_timeout: float | None = None
    max_retries: int = 3
    use_fallback: bool = True
    auth_token: str | None = field(default=None, repr=False)
    api: ApiChoice = "auto"
    transport: TransportChoice = "auto"
    context_id: str | None = None
    ollama_url: str = DEFAULT_OLLAMA_URL
    ollama_model: str | None = None
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0

    @property
    def stream_first_event_timeout(self) -> float:
        """Deadline for the first event of a stream (defaults to the request timeout)."""
        return self.first_event_timeout if self.first_event_timeout is not None else self.timeout

    @property
    def stream_idle_timeout(self) -> float:
        """Deadline between two events of a stream; ``: ping`` comments do not reset it."""
        return self.idle_timeout if self.idle_timeout is not None else self.timeout

    def with_changes(self, **changes: Any) -> ClientConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what may appear in logs, reprs and errors."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def derive_ws_url(base_url: str) -> str:
    """``http(s)://host[/prefix]`` → ``ws(s)://host[/prefix]/ws``."""
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :].rstrip("/") + "/ws"
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :].rstrip("/") + "/ws"
    return base_url.rstrip("/") + "/ws"


def _normalise_url(url: str, name: str) -> str:
    url = url.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        raise ConfigurationError(f"{name} must be an absolute URL with a scheme, got {url!r}")
    return url.rstrip("/")


def _env_str(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    return value if value else None


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def context_env_name(component_id: str) -> str:
    """``<COMPONENT>_CONTEXT_ID`` for a component id (non-alphanumerics become ``_``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", component_id).upper() + "_CONTEXT_ID"


def resolve_config(
    component_id: str | None = None,
    *,
    rhetor_url: str | None = None,
    base_url: str | None = None,
    ws_url: str | None = None,
    provider_id: str | None = None,
    model_id: str | None = None,
    default_model: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    use_fallback: bool | None = None,
    auth_token: str | None = None,
    api: str | None = None,
    transport: str | None = None,
    settings: ClientSettings | None = None,
    llm_settings: LLMSettings | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve every setting once; raises ``ConfigurationError`` for contradictory or malformed values."""
    env = os.environ if env is None else env
    if rhetor_url is not None and base_url is not None and rhetor_url.rstrip("/") != base_url.rstrip("/"):
        raise ConfigurationError("rhetor_url and base_url are aliases; pass one, or the same value")
    url_arg = rhetor_url if rhetor_url is not None else base_url
    if component_id and component_id.startswith(("http://", "https://")) and url_arg is None:
        # Legacy positional use (Budget): Client("http://host:port").
        url_arg, component_id = component_id, None
    if model_id is not None and default_model is not None and model_id != default_model:
        raise ConfigurationError("model_id and default_model are aliases; pass one, or the same value")
    model_arg = model_id if model_id is not None else default_model

    s = settings.explicit() if settings is not None else {}
    ls = llm_settings.explicit() if llm_settings is not None else {}
    comp = _first(component_id, settings.component_id if settings is not None else None, "default")

    base = _first(url_arg, s.get("base_url"), _env_str(env, "RHETOR_URL"), DEFAULT_URL)
    base = _normalise_url(str(base), "rhetor_url")
    ws = _first(ws_url, _env_str(env, "RHETOR_WS_URL"))
    ws = _normalise_url(str(ws), "RHETOR_WS_URL") if ws else derive_ws_url(base)

    api_value = str(_first(api, _env_str(env, "RHETOR_API"), "auto")).lower()
    if api_value not in ("auto", "v1", "classic"):
        raise ConfigurationError(f"RHETOR_API must be auto, v1 or classic, got {api_value!r}")
    transport_value = str(_first(transport, _env_str(env, "RHETOR_TRANSPORT"), "auto")).lower()
    if transport_value not in ("auto", "http", "ws"):
        raise ConfigurationError(f"RHETOR_TRANSPORT must be auto, http or ws, got {transport_value!r}")

    timeout_value = float(
        _first(timeout, s.get("timeout"), get_env_float("RHETOR_TIMEOUT", None, use_prefix=False, environ=env), 30.0)
    )
    retries_value = int(
        _first(
            max_retries, s.get("max_retries"), get_env_int("RHETOR_MAX_RETRIES", None, use_prefix=False, environ=env), 3
        )
    )
    if timeout_value <= 0:
        raise ConfigurationError("timeout must be positive")
    if retries_value < 0:
        raise ConfigurationError("max_retries must be >= 0")

    return ClientConfig(
        component_id=str(comp),
        base_url=base,
        ws_url=ws,
        provider_id=_first(
            provider_id, s.get("provider_id"), ls.get("provider"), _env_str(env, "RHETOR_DEFAULT_PROVIDER")
        ),
        model_id=_first(model_arg, s.get("model_id"), ls.get("model"), _env_str(env, "RHETOR_DEFAULT_MODEL")),
        timeout=timeout_value,
        connect_timeout=min(
            timeout_value, get_env_float("RHETOR_CONNECT_TIMEOUT", None, use_prefix=False, environ=env) or 10.0
        ),
        first_event_timeout=get_env_float("RHETOR_FIRST_EVENT_TIMEOUT", None, use_prefix=False, environ=env),
        idle_timeout=get_env_float("RHETOR_IDLE_TIMEOUT", None, use_prefix=False, environ=env),
        max_retries=retries_value,
        use_fallback=bool(_first(use_fallback, s.get("use_fallback"), True)),
        auth_token=_first(auth_token, s.get("auth_token"), ls.get("auth_token"), _env_str(env, "RHETOR_AUTH_TOKEN")),
        api=api_value,  # type: ignore[arg-type]
        transport=transport_value,  # type: ignore[arg-type]
        context_id=_first(s.get("context_id"), _env_str(env, context_env_name(str(comp)))),
        ollama_url=_normalise_url(_first(_env_str(env, "OLLAMA_URL"), DEFAULT_OLLAMA_URL), "OLLAMA_URL"),
        ollama_model=_env_str(env, "OLLAMA_MODEL"),
    )
