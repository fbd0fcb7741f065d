"""Where every setting of a client comes from, resolved once, in one place.

Precedence: explicit constructor argument > field explicitly set on ``settings`` > field explicitly set on
``llm_settings`` (provider/model only) > environment > built-in default.
"""

from __future__ import annotations

import base64
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ._ratelimit import RateLimits
from ._urls import _HTTP, _WS, BasicCredentials, checked_url, safe_url, split_credentials, ws_url_for
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
    """The effective configuration of one client. URLs hold no credentials; token and credentials stay out of
    ``repr``.

    Authentication rule: a bearer token (argument, settings or ``RHETOR_AUTH_TOKEN``) wins and is the only thing
    sent; without one, credentials that were embedded in the URL are sent as HTTP Basic auth."""

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
    url_credentials: BasicCredentials | None = field(default=None, repr=False)
    ws_credentials: BasicCredentials | None = field(default=None, repr=False)
    ollama_credentials: BasicCredentials | None = field(default=None, repr=False)
    rate_limits: RateLimits | None = None

    def __repr__(self) -> str:
        shown = []
        for name in self.__dataclass_fields__:
            if name in ("auth_token", "url_credentials", "ws_credentials", "ollama_credentials"):
                continue
            value = getattr(self, name)
            if name in ("base_url", "ws_url", "ollama_url"):
                value = safe_url(value)  # a query string may carry a token
            shown.append(f"{name}={value!r}")
        return f"ClientConfig({', '.join(shown)})"

    def authorization(self, *, ws: bool = False) -> str | None:
        """The ``Authorization`` header value for Rhetor's HTTP (or WebSocket) URL, following the rule above."""
        if self.auth_token:
            return f"Bearer {self.auth_token}"
        credentials = self.ws_credentials if ws else self.url_credentials
        return basic_authorization(credentials) if credentials else None

    def ollama_authorization(self) -> str | None:
        """HTTP Basic auth for Ollama from credentials that were embedded in ``OLLAMA_URL`` (the bearer token is
        Rhetor's and is never sent to Ollama)."""
        return basic_authorization(self.ollama_credentials) if self.ollama_credentials else None

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


def basic_authorization(credentials: BasicCredentials) -> str:
    """``Basic <base64(user:password)>``."""
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
    return f"Basic {token}"


def derive_ws_url(base_url: str) -> str:
    """``http(s)://host[/prefix]`` → ``ws(s)://host[/prefix]/ws``."""
    return ws_url_for(base_url)


def _finite(value: Any, name: str, *, positive: bool = True) -> float:
    """A finite number (and positive unless told otherwise), or ``ConfigurationError`` — ``nan``/``inf`` included."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise ConfigurationError(f"{name} must be a finite {'positive ' if positive else ''}number, got {value!r}")
    return number


def _optional_finite(value: float | None, name: str) -> float | None:
    return None if value is None else _finite(value, name)


def _env_seconds(env: Mapping[str, str], name: str) -> float | None:
    """An optional finite number of seconds from the (unprefixed) environment variable ``name``."""
    return _optional_finite(get_env_float(name, None, use_prefix=False, environ=env), name)


_RATE_ENV = (
    ("rpm", "RHETOR_RATE_LIMIT_RPM"),
    ("tpm", "RHETOR_RATE_LIMIT_TPM"),
    ("concurrency", "RHETOR_MAX_CONCURRENCY"),
)


def _env_rate_limits(env: Mapping[str, str]) -> RateLimits | None:
    """``RHETOR_RATE_LIMIT_RPM``/``_TPM``, ``RHETOR_MAX_CONCURRENCY`` and ``RHETOR_RATE_LIMIT_MODE`` (``wait`` or
    ``raise``); ``None`` when none is set. A malformed value is a ``ConfigurationError`` naming the variable."""
    values: dict[str, Any] = {}
    for name, variable in _RATE_ENV:
        number = get_env_int(variable, None, use_prefix=False, environ=env)
        if number is not None and number <= 0:
            raise ConfigurationError(f"environment variable {variable} must be a positive integer, got {number!r}")
        if number is not None:
            values[name] = number
    mode = _env_str(env, "RHETOR_RATE_LIMIT_MODE")
    if mode is not None:
        values["on_limit"] = _choice(mode.strip(), "RHETOR_RATE_LIMIT_MODE", ("wait", "raise"))
    return RateLimits(**values) if values else None


def _rate_limits(value: Any) -> RateLimits | None:
    if value is None or isinstance(value, RateLimits):
        return value
    if isinstance(value, Mapping):
        try:
            return RateLimits(**value)  # its own checks raise ConfigurationError
        except TypeError as exc:
            raise ConfigurationError(f"rate_limits: {exc}") from None
    raise ConfigurationError(f"rate_limits must be a RateLimits (or a mapping of its fields), got {value!r}")


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
    rate_limits: RateLimits | Mapping[str, Any] | None = None,
) -> ClientConfig:
    """Resolve every setting once; raises ``ConfigurationError`` for contradictory or malformed values.

    ``rate_limits`` is one setting: the argument, else ``settings.rate_limits``, else the ``RHETOR_RATE_LIMIT_*`` /
    ``RHETOR_MAX_CONCURRENCY`` variables, each taken whole (an argument is not completed from the environment)."""
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
    comp = str(_first(component_id, settings.component_id if settings is not None else None, "default"))
    base, base_credentials = split_credentials(
        checked_url(str(_first(url_arg, s.get("base_url"), _env_str(env, "RHETOR_URL"), DEFAULT_URL)), "rhetor_url")
    )
    ws_given = _first(ws_url, _env_str(env, "RHETOR_WS_URL"))
    if ws_given:
        ws, ws_credentials = split_credentials(ws_url_for(checked_url(str(ws_given), "RHETOR_WS_URL", _WS + _HTTP)))
    else:
        ws, ws_credentials = ws_url_for(base), base_credentials
    ollama, ollama_credentials = split_credentials(
        checked_url(_first(_env_str(env, "OLLAMA_URL"), DEFAULT_OLLAMA_URL), "OLLAMA_URL")
    )

    timeout_value = _finite(
        _first(timeout, s.get("timeout"), get_env_float("RHETOR_TIMEOUT", None, use_prefix=False, environ=env), 30.0),
        "timeout (RHETOR_TIMEOUT)",
    )
    retries_value = int(
        _first(
            max_retries, s.get("max_retries"), get_env_int("RHETOR_MAX_RETRIES", None, use_prefix=False, environ=env), 3
        )
    )
    if retries_value < 0:
        raise ConfigurationError("max_retries must be >= 0")
    connect = _env_seconds(env, "RHETOR_CONNECT_TIMEOUT")

    return ClientConfig(
        component_id=comp,
        base_url=base,
        ws_url=ws,
        provider_id=_first(
            provider_id, s.get("provider_id"), ls.get("provider"), _env_str(env, "RHETOR_DEFAULT_PROVIDER")
        ),
        model_id=_first(model_arg, s.get("model_id"), ls.get("model"), _env_str(env, "RHETOR_DEFAULT_MODEL")),
        timeout=timeout_value,
        connect_timeout=min(timeout_value, connect or 10.0),
        first_event_timeout=_env_seconds(env, "RHETOR_FIRST_EVENT_TIMEOUT"),
        idle_timeout=_env_seconds(env, "RHETOR_IDLE_TIMEOUT"),
        max_retries=retries_value,
        use_fallback=bool(_first(use_fallback, s.get("use_fallback"), True)),
        auth_token=_first(auth_token, s.get("auth_token"), ls.get("auth_token"), _env_str(env, "RHETOR_AUTH_TOKEN")),
        api=_choice(_first(api, _env_str(env, "RHETOR_API"), "auto"), "RHETOR_API", ("auto", "v1", "classic")),  # type: ignore[arg-type]
        transport=_choice(  # type: ignore[arg-type]
            _first(transport, _env_str(env, "RHETOR_TRANSPORT"), "auto"), "RHETOR_TRANSPORT", ("auto", "http", "ws")
        ),
        context_id=_first(s.get("context_id"), _env_str(env, context_env_name(comp))),
        ollama_url=ollama,
        ollama_model=_env_str(env, "OLLAMA_MODEL"),
        url_credentials=base_credentials,
        ws_credentials=ws_credentials,
        ollama_credentials=ollama_credentials,
        rate_limits=_first(_rate_limits(rate_limits), _rate_limits(s.get("rate_limits")), _env_rate_limits(env)),
    )


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    text = str(value).lower()
    if text not in allowed:
        raise ConfigurationError(f"{name} must be {', '.join(allowed[:-1])} or {allowed[-1]}, got {text!r}")
    return text
