"""The one exception tree of the client, rooted at :class:`TektonLLMError`.

Every failure the client raises on purpose is a ``TektonLLMError`` so that component code can keep a single
``except TektonLLMError`` (the only named catch in real Tekton code). Each transport or HTTP failure maps to exactly
one class carrying the HTTP status (when there is one), a message that is safe to log (never a credential) and the
client-side request id, so a log line can be matched with the server's access log.

Some legacy names (``ConnectionError``, ``TimeoutError``) shadow builtins on purpose: they are the names the 0.2
package exported. Each also derives from the builtin so ``except builtins.TimeoutError`` keeps working.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AdapterError",
    "AuthenticationError",
    "BudgetExceededError",
    "ClientRateLimitError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionError",
    "EmptyAnswerError",
    "FallbackError",
    "FormatError",
    "HTTPStatusError",
    "IncompleteStreamError",
    "InvalidRequestError",
    "JSONParsingError",
    "MethodNotAllowedError",
    "MissingTextError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "ProviderError",
    "RateLimitError",
    "RequestTimeoutError",
    "RequestValidationError",
    "ServerError",
    "ServiceUnavailableError",
    "StreamBrokenError",
    "TektonLLMError",
    "TemplateError",
    "TimeoutError",
    "UnsupportedOperation",
    "error_for_status",
]

_MAX_MESSAGE = 500


class TektonLLMError(Exception):
    """Root of every error the client raises on purpose.

    ``retryable`` tells the retry loop whether another attempt may succeed; ``unavailable`` tells the fallback
    chain whether the failure means "Rhetor cannot answer" (fall back) rather than "the caller asked wrongly".
    """

    retryable: bool = False
    unavailable: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        dialect: str | None = None,
        details: Any = None,
    ) -> None:
        self.message = _truncate(message)
        self.status_code = status_code
        self.request_id = request_id
        self.dialect = dialect
        self.details = details
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message or type(self).__name__]
        if self.status_code is not None:
            parts.insert(0, f"[{self.status_code}]")
        if self.request_id:
            parts.append(f"(request_id={self.request_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, request_id={self.request_id!r})"
        )


class ConnectionError(TektonLLMError, builtins.ConnectionError):
    """Rhetor could not be reached, or the connection dropped before an answer."""

    retryable = True
    unavailable = True


class StreamBrokenError(ConnectionError):
    """The connection broke in the middle of a streamed response (after its headers arrived)."""


class TimeoutError(TektonLLMError, builtins.TimeoutError):
    """A deadline passed: ``kind`` is ``connect``, ``read``, ``write``, ``pool``, ``first_event`` or ``idle``."""

    retryable = True
    unavailable = True

    def __init__(self, message: str = "", *, kind: str = "read", **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(message, **kwargs)


class ProtocolError(TektonLLMError):
    """The server sent something that is not the protocol (malformed JSON, SSE or WebSocket frame)."""


class MissingTextError(ProtocolError):
    """Rhetor's answer has no text field at all (as opposed to an empty text, ``EmptyAnswerError``)."""


class IncompleteStreamError(TektonLLMError):
    """A stream ended or broke after it had delivered text; ``partial_text`` keeps what arrived.

    Raised instead of splicing fallback text into a stream that already yielded content.
    """

    def __init__(self, message: str = "", *, partial_text: str = "", **kwargs: Any) -> None:
        self.partial_text = partial_text
        super().__init__(message, **kwargs)


class ProviderError(TektonLLMError):
    """Rhetor answered, but reported an error in-band (200 body, SSE error event, WS error frame or chunk)."""


class EmptyAnswerError(ProviderError):
    """Rhetor finished an answer with no text at all (v1 with an unavailable provider); treated as unavailable."""

    unavailable = True


class UnsupportedOperation(TektonLLMError, NotImplementedError):
    """The connected Rhetor generation has no such endpoint (e.g. providers on v1)."""


class BudgetExceededError(TektonLLMError):
    """A client-side budget limit with policy ``enforce`` would be exceeded; nothing was sent."""


class ClientRateLimitError(TektonLLMError):
    """The client's own rate limit (``RateLimits``) refused the request; nothing was sent.

    ``reason`` names the limit: ``rpm``, ``tpm``, ``concurrency``, ``paused`` (after Rhetor's 429), ``paced``,
    ``queue``, or ``oversized`` (a request larger than the whole ``tpm``: it can never go). ``retry_after`` is the
    earliest time in seconds the limiter could admit it — ``0.0`` when only the concurrency cap is full (a slot frees
    when a running request ends, which nothing can foretell) — or ``None`` when retrying cannot help (``oversized``).
    Neither retried nor a reason to fall back: Rhetor is available, the caller is over its own limit."""

    retryable = False
    unavailable = False

    def __init__(self, message: str = "", *, retry_after: float | None = None, reason: str = "", **kwargs: Any) -> None:
        self.retry_after = retry_after
        self.reason = reason
        super().__init__(message, **kwargs)


class ConfigurationError(TektonLLMError, ValueError):
    """A setting is missing or invalid (e.g. a required environment variable)."""


class HTTPStatusError(TektonLLMError):
    """Rhetor answered with an HTTP error status; the subclass names the status family."""


class InvalidRequestError(HTTPStatusError, ValueError):
    """400, or rejected before sending: the request is wrong (also a ``ValueError``)."""


class RequestValidationError(InvalidRequestError):
    """422: FastAPI rejected the body; ``errors`` is the ``detail`` list."""

    def __init__(self, message: str = "", *, errors: list[Any] | None = None, **kwargs: Any) -> None:
        self.errors = errors or []
        super().__init__(message, **kwargs)


class AuthenticationError(HTTPStatusError):
    """401: missing or wrong credentials."""


class PermissionDeniedError(HTTPStatusError):
    """403: credentials are valid but not allowed."""


class NotFoundError(HTTPStatusError):
    """404: no such route or object (often the wrong Rhetor generation)."""


class MethodNotAllowedError(HTTPStatusError):
    """405: the route exists with another method (often the wrong Rhetor generation)."""


class RequestTimeoutError(HTTPStatusError):
    """408: the server gave up waiting for the request."""

    retryable = True
    unavailable = True


class ConflictError(HTTPStatusError):
    """409: conflicting state; retried because it is usually transient."""

    retryable = True


class RateLimitError(HTTPStatusError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, when given."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(HTTPStatusError):
    """5xx: Rhetor failed (as shipped, several routes always do)."""

    retryable = True
    unavailable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServiceUnavailableError(ServerError):
    """503: Rhetor is up but not ready ("not initialized") or overloaded."""


class AdapterError(TektonLLMError):
    """A fallback adapter failed (legacy signature ``AdapterError(adapter_id, message)``)."""

    def __init__(self, adapter_id: str = "", message: str = "", **kwargs: Any) -> None:
        self.adapter_id = adapter_id
        super().__init__(f"{adapter_id}: {message}" if adapter_id else message, **kwargs)


class FallbackError(TektonLLMError):
    """Every link of the fallback chain failed; ``errors`` lists each link's error."""

    def __init__(self, message: str = "", *, errors: list[TektonLLMError] | None = None, **kwargs: Any) -> None:
        self.errors = errors or []
        super().__init__(message, **kwargs)


class JSONParsingError(TektonLLMError, ValueError):
    """No JSON could be extracted from a model answer."""

    def __init__(self, message: str = "", content: str | None = None, partial_data: Any = None) -> None:
        self.content = content
        self.partial_data = partial_data
        super().__init__(message)


class FormatError(TektonLLMError, ValueError):
    """A model answer does not have the requested structured format."""


class TemplateError(TektonLLMError, ValueError):
    """A prompt template could not be loaded or rendered."""


_STATUS_CLASSES: dict[int, type[HTTPStatusError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    408: RequestTimeoutError,
    409: ConflictError,
    422: RequestValidationError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_for_status(
    status: int,
    message: str,
    *,
    request_id: str | None = None,
    dialect: str | None = None,
    retry_after: float | None = None,
    details: Any = None,
) -> HTTPStatusError:
    """Build the error class for an HTTP status, so the mapping lives in one place."""
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else HTTPStatusError
    kwargs: dict[str, Any] = {"status_code": status, "request_id": request_id, "dialect": dialect, "details": details}
    if cls is RequestValidationError:
        kwargs["errors"] = details if isinstance(details, list) else None
    if issubclass(cls, (RateLimitError, ServerError)):
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)


def _truncate(message: str) -> str:
    message = str(message)
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
