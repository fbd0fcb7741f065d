"""Every URL rule of the client, in one place: validation, credentials, display form, HTTP ↔ WebSocket derivation.

Credentials embedded in a URL (``http://user:secret@host``) are taken out when the configuration is resolved and
sent as an explicit ``Authorization`` header, so no URL the client keeps, logs or puts in an exception holds them.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from .exceptions import ConfigurationError

__all__ = [
    "BasicCredentials",
    "checked_url",
    "http_base_for_ws_url",
    "safe_url",
    "split_credentials",
    "ws_url_for",
]

BasicCredentials = tuple[str, str]
"""User name and password taken out of a URL (sent as HTTP Basic auth unless a bearer token is configured)."""

_HTTP = ("http", "https")
_WS = ("ws", "wss")


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what may appear in logs, reprs and errors."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def split_credentials(url: str) -> tuple[str, BasicCredentials | None]:
    """``scheme://user:pw@host/...`` → (``scheme://host/...``, ``(user, pw)``); URLs without userinfo unchanged."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, (unquote(user), unquote(password))


def checked_url(url: str, name: str, schemes: tuple[str, ...] = _HTTP) -> str:
    """``url`` stripped of blanks and a trailing slash, or ``ConfigurationError`` naming the setting (never the
    credentials): the scheme must be one of ``schemes`` and a host must be present."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid URL: {safe_url(text)!r}") from None
    if parts.scheme.lower() not in schemes:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ConfigurationError(f"{name} must be an absolute URL starting with {allowed}; got {safe_url(text)!r}")
    if not parts.hostname:
        raise ConfigurationError(f"{name} has no host: {safe_url(text)!r}")
    return text.rstrip("/")


def ws_url_for(url: str) -> str:
    """The WebSocket URL of a Rhetor base URL: ``http(s)://host[/prefix]`` → ``ws(s)://host[/prefix]/ws``.

    A ``ws(s)://`` URL is returned as it is."""
    parts = urlsplit(url)
    if parts.scheme not in _HTTP:
        return url
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    return urlunsplit(({"http": "ws", "https": "wss"}[parts.scheme], parts.netloc, path, parts.query, ""))


def http_base_for_ws_url(ws_url: str) -> str:
    """``ws(s)://host[/prefix]/ws`` → ``http(s)://host[/prefix]`` (where the same server answers HTTP)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if path.endswith("/ws"):
        path = path[: -len("/ws")]
    return urlunsplit((scheme, parts.netloc, path, "", ""))
