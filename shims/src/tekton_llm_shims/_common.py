"""Behaviour every shim shares, kept in one place so the four shim modules stay thin.

* how a failure of the shared client maps onto the legacy "service failure" / "transport failure" / "exception"
  branches (legacy-adapters.md §0.3);
* which Rhetor URL a shim sends its traffic to, given the legacy and the standard environment variables;
* which client an adapter delegates to (a shared one, see ``clients``), and the two request shapes the shims use;
* how a stream's chunks reach a legacy callback, and how its failure is reported;
* the once-per-process ``DeprecationWarning``, the awaitable dict and the callback helper.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import enum
import inspect
import logging
import os
import sys
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection, Generator, Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

from tekton_llm_client.client import TektonLLMClient
from tekton_llm_client.exceptions import (
    EmptyAnswerError,
    FallbackError,
    HTTPStatusError,
    IncompleteStreamError,
    MissingTextError,
    ProtocolError,
    ProviderError,
    UnsupportedOperation,
)
from tekton_llm_client.models import CompletionResponse, StreamingChunk

from . import clients
from ._redact import redact_credentials

__all__ = [
    "DEFAULT_RHETOR_URL",
    "AwaitableDict",
    "ClientHolder",
    "Failure",
    "LegacyAdapter",
    "classify",
    "env",
    "error_text",
    "invoke_callback",
    "redact_credentials",
    "relay_stream",
    "resolve_rhetor_url",
    "server_message",
    "trim_context",
    "warn_deprecated",
]

logger = logging.getLogger("tekton_llm_shims")

DEFAULT_RHETOR_URL = "http://localhost:8003"
RETIRED_ADAPTER_PORTS = frozenset({8300, 8301})
"""Ports of the retired standalone LLM Adapter service: legacy URLs pointing there never get traffic."""


# --------------------------------------------------------------------------------------------------------------
# Failure classification (legacy-adapters.md §0.3)


class Failure(enum.Enum):
    """Which branch of a legacy adapter a failure of the shared client takes."""

    SERVICE = "service"
    """Rhetor answered, but not with success (HTTP error status, in-band error, malformed answer)."""
    TRANSPORT = "transport"
    """Rhetor could not be reached or the connection broke (refused, DNS, TLS, timeout, dropped)."""
    EXCEPTION = "exception"
    """Anything else raised while preparing the request or handling the answer."""


_SERVICE_ERRORS: tuple[type[BaseException], ...] = (HTTPStatusError, ProviderError, ProtocolError, UnsupportedOperation)
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    builtins.ConnectionError,  # the client's ConnectionError derives from it
    builtins.TimeoutError,  # likewise its TimeoutError; asyncio.TimeoutError is an alias from 3.11
    IncompleteStreamError,
    FallbackError,
    OSError,
)


def classify(error: BaseException) -> Failure:
    """Map an exception raised by (or around) the shared client to the legacy branch it takes.

    An HTTP-status error without a status was raised by the client itself: its circuit breaker saying "Rhetor is
    unavailable" (transport) or its own request validation (exception).
    """
    if isinstance(error, HTTPStatusError) and error.status_code is None:
        return Failure.TRANSPORT if error.unavailable else Failure.EXCEPTION
    if isinstance(error, _SERVICE_ERRORS):
        return Failure.SERVICE
    if isinstance(error, _TRANSPORT_ERRORS) or type(error).__name__ == "TimeoutError":
        return Failure.TRANSPORT
    return Failure.EXCEPTION


def error_text(error: BaseException) -> str:
    """The ``{e}`` of the legacy fallback strings: the text of the error, URL credentials removed.

    Use it for log lines too: the client keeps credentials out of its own messages, but errors raised around it
    (and messages of older clients) may still name a URL with ``user:password@``.
    """
    return redact_credentials(str(error) or type(error).__name__)


def server_message(error: BaseException) -> str:
    """The server's own error text, without the client's decoration (status, request id, stream wrapper).

    A stream that fails after delivering text raises ``IncompleteStreamError`` from the original error; legacy
    callers report the original ("A mid-stream error yields ``Error: {message}``"), so the cause is unwrapped.
    """
    if isinstance(error, IncompleteStreamError) and error.__cause__ is not None:
        return server_message(error.__cause__)
    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return redact_credentials(message)
    return error_text(error)


# --------------------------------------------------------------------------------------------------------------
# Environment and URL precedence


def env(name: str) -> str | None:
    """A variable's value, with an empty value counting as unset (run scripts often export ``X=``)."""
    value = os.environ.get(name)
    return value if value else None


def is_retired_adapter_url(url: str, extra: Collection[str] = ()) -> bool:
    """Whether ``url`` addresses the retired LLM Adapter service (ports 8300/8301) or a listed legacy default."""
    if url.rstrip("/") in {item.rstrip("/") for item in extra}:
        return True
    try:
        port = urlsplit(url).port
    except ValueError:
        return False
    return port in RETIRED_ADAPTER_PORTS


_logged_retired: set[tuple[str, str]] = set()


def _log_retired_once(source: str, url: str) -> None:
    if (source, url) in _logged_retired:
        return
    _logged_retired.add((source, url))
    logger.warning(
        "ignoring %s=%s for LLM traffic: it points at the retired LLM Adapter service; "
        "requests go to Rhetor (set RHETOR_URL to choose which)",
        source,
        redact_credentials(url),
    )


def resolve_rhetor_url(
    explicit: str | None,
    legacy: Sequence[tuple[str, str | None]] = (),
    *,
    retired: Collection[str] = (),
) -> str:
    """The Rhetor base URL a shim sends its traffic to.

    Precedence: explicit constructor argument > ``RHETOR_URL`` > legacy URL sources (in the order given) that do
    not point at the retired LLM Adapter service > ``RHETOR_PORT`` (``http://localhost:<port>``) > the default
    ``http://localhost:8003``. An ignored legacy URL is logged once per process.
    """
    if explicit:
        return explicit.rstrip("/")
    standard = env("RHETOR_URL")
    if standard:
        return standard.rstrip("/")
    for source, url in legacy:
        if not url:
            continue
        if is_retired_adapter_url(url, retired):
            _log_retired_once(source, url)
            continue
        return url.rstrip("/")
    port = env("RHETOR_PORT")
    if port:
        return f"http://localhost:{port}"
    return DEFAULT_RHETOR_URL


# --------------------------------------------------------------------------------------------------------------
# Deprecation warning, once per process per shim

_warned: set[str] = set()


def _stacklevel_outside_package() -> int:
    """Stack level of the first frame outside ``tekton_llm_shims``, so the warning names the caller's line."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("tekton_llm_shims"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn_deprecated(shim: str, replacement: str) -> None:
    """Emit the one ``DeprecationWarning`` of shim ``shim`` for this process (later calls are silent)."""
    if shim in _warned:
        return
    _warned.add(shim)
    warnings.warn(
        f"tekton_llm_shims.{shim}.LLMAdapter is a migration shim for the legacy {shim} LLM adapter; "
        f"use {replacement} instead (see MIGRATION.md#{shim})",
        DeprecationWarning,
        stacklevel=_stacklevel_outside_package(),
    )


def _reset_deprecation_warnings() -> None:
    """Forget which shims have warned (tests only)."""
    _warned.clear()


# --------------------------------------------------------------------------------------------------------------
# Small helpers


_warned_callbacks: set[str] = set()


async def invoke_callback(callback: Callable[[Any], Any], argument: Any) -> None:
    """Call a legacy callback that may be async or plain; await its result when it is awaitable.

    An async generator function is neither: calling it runs none of its code, so whatever it would send is lost.
    Hermes' REST ``/chat/stream`` route did exactly that (spec §6 #17); the shim cannot repair the call site, so it
    says so once per callback instead of failing the way the original did.
    """
    result = callback(argument)
    if inspect.isawaitable(result):
        await result
    elif inspect.isasyncgen(result):
        name = getattr(callback, "__qualname__", repr(callback))
        if name not in _warned_callbacks:
            _warned_callbacks.add(name)
            logger.warning(
                "callback %s is an async generator function: calling it runs none of its code, so nothing it "
                "would send gets anywhere; make it an async function",
                name,
            )


def trim_context(context: list[dict[str, str]], keep: int = 10) -> list[dict[str, str]]:
    """Terma's rule: past ``keep + 1`` entries, keep element 0 (the system message) and the last ``keep``."""
    if len(context) > keep + 1:
        return [context[0], *context[-keep:]]
    return context


class AwaitableDict(dict[str, Any]):
    """A dict that can also be awaited, for methods that were sync before the migration and async after it.

    Awaiting yields the very same object. When built with ``refresh``, awaiting first replaces the content with
    what ``refresh`` returns (if anything), so async callers get a live answer and sync callers never block.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        refresh: Callable[[], Awaitable[Mapping[str, Any] | None]] | None = None,
    ) -> None:
        super().__init__(data or {})
        self._refresh = refresh

    def __await__(self) -> Generator[Any, None, AwaitableDict]:
        return self._resolve().__await__()

    async def _resolve(self) -> AwaitableDict:
        if self._refresh is not None:
            fresh = await self._refresh()
            if fresh:
                self.clear()
                self.update(fresh)
        return self


# --------------------------------------------------------------------------------------------------------------
# The client an adapter delegates to


def _options(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class ClientHolder:
    """Gives the adapter its one ``TektonLLMClient`` (lazily, without I/O at construction) and the request shapes.

    Adapters borrow the process-wide client of their component and Rhetor URL in the running event loop
    (``clients.shared_client``): legacy code builds adapters per request, and a client per adapter would pay
    generation detection and a new connection pool every time. A borrowed client is never closed by the adapter,
    not by ``aclose()`` and not when the adapter is collected, because other adapters (and code that got it from
    ``_get_client()``) may be using it. A holder with ``_owns_client = True`` (the LLM Adapter service) instead
    has a private client that ``aclose()`` closes.
    """

    _component_id: str = "default"
    _owns_client: bool = False
    _legacy_private: tuple[str, ...] = ()
    """Private methods of the original adapter that callers use, recorded as legacy calls (``_shim_calls``)."""

    def _init_client(self, rhetor_url: str) -> None:
        self._rhetor_url = rhetor_url
        self._client: TektonLLMClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._client_generation = -1

    @property
    def llm_url(self) -> str:
        """The Rhetor base URL this adapter sends its requests to (read-only)."""
        return self._rhetor_url

    async def _get_client(self) -> TektonLLMClient:
        """The adapter's client (Engram's post-migration endpoints call this and use ``generate_text``)."""
        return await self._active_client()

    async def _active_client(self) -> TektonLLMClient:
        """The adapter's client, for the shim's own requests (``_get_client`` is legacy API, recorded as a call)."""
        client = self._client
        if self._owns_client:
            if client is None:
                client = self._client = TektonLLMClient(
                    self._component_id, rhetor_url=self._rhetor_url, use_fallback=False
                )
            return client
        loop = asyncio.get_running_loop()
        if client is not None and self._client_loop is loop and self._client_generation == clients.generation():
            return client
        client = await clients.shared_client(self._component_id, self._rhetor_url)
        self._client, self._client_loop, self._client_generation = client, loop, clients.generation()
        return client

    async def aclose(self) -> None:
        """Let go of the client; a private one is closed, a shared one stays open for the other adapters.

        The adapter stays usable and gets its client again on the next request. Shared clients close with their
        event loop, or with ``tekton_llm_shims.clients.close_shared_clients()``.
        """
        client, self._client, self._client_loop = self._client, None, None
        if client is not None and self._owns_client:
            await client.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _complete(
        self,
        messages: list[dict[str, str]],
        *,
        system_prompt: str | None = None,
        context_id: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        task_type: str | None = None,
        timeout: float | None = None,
        missing_text: str = "",
    ) -> CompletionResponse:
        """One non-streaming request; an error reported in the answer is raised as ``ProviderError``.

        An answer without text is an answer, not a failure: an empty text gives ``""`` (as the legacy adapters
        returned), an answer with no text field at all gives ``missing_text`` (Terma: "No response from LLM
        adapter"; the others read the field with a ``""`` default).
        """
        client = await self._active_client()
        try:
            response = await client.generate_chat_response(
                messages,
                system_prompt=system_prompt,
                context_id=context_id,
                options=_options(
                    model=model,
                    provider=provider,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    task_type=task_type,
                    timeout=timeout,
                ),
            )
        except EmptyAnswerError:
            return CompletionResponse(content="", model=model or "", provider=provider or "")
        except MissingTextError:
            return CompletionResponse(content=missing_text, model=model or "", provider=provider or "")
        if response.error:
            raise ProviderError(response.error)
        return response

    async def _stream(
        self,
        messages: list[dict[str, str]],
        *,
        system_prompt: str | None = None,
        context_id: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        task_type: str | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[StreamingChunk, None]:
        """Chunks of one streaming request that carry text; a failure of the stream is raised (see ``_text_chunks``)."""
        client = await self._active_client()
        stream = client.generate_chat_response(
            messages,
            system_prompt=system_prompt,
            context_id=context_id,
            streaming=True,
            options=_options(
                model=model,
                provider=provider,
                temperature=temperature,
                max_tokens=max_tokens,
                task_type=task_type,
                timeout=timeout,
            ),
        )
        async with contextlib.aclosing(_text_chunks(stream)) as chunks:
            async for chunk in chunks:
                yield chunk


async def _text_chunks(stream: AsyncIterator[StreamingChunk]) -> AsyncGenerator[StreamingChunk, None]:
    """The chunks of ``stream`` that carry text; the stream is closed however the iteration ends."""
    try:
        async for chunk in stream:
            if chunk.error:
                await _stream_failed(stream, chunk.error)
            if chunk.chunk:
                yield chunk
    except EmptyAnswerError:
        return  # an answer without text: the stream simply had no chunks
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


async def _stream_failed(stream: AsyncIterator[StreamingChunk], message: str) -> NoReturn:
    """A chunk carrying ``error`` ends the stream as a failure, never as a normal end.

    After such a chunk the client raises the failure itself (``IncompleteStreamError`` from the original error):
    raise that, it keeps the cause and its classification. A stream that just ends fails with the chunk's text.
    """
    try:
        await anext(stream)
    except StopAsyncIteration:
        pass
    except EmptyAnswerError as error:  # would read as "no text": this stream failed
        raise ProviderError(message) from error
    raise ProviderError(message)


async def relay_stream(
    chunks: AsyncGenerator[StreamingChunk, None],
    deliver: Callable[[StreamingChunk], Awaitable[None]],
    fail: Callable[[BaseException, bool], Awaitable[None]],
) -> bool:
    """Hand each text chunk to ``deliver``; a failure of the stream goes to ``fail(error, delivered_any)``.

    Returns whether the stream ended normally. Only the stream's own failures are reported through ``fail``:
    an exception raised by ``deliver`` or ``fail`` (the legacy caller's callback) propagates, as it did in the
    originals. The stream is closed in every case.
    """
    delivered = False
    async with contextlib.aclosing(chunks):
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return True
            except Exception as error:
                await fail(error, delivered)
                return False
            delivered = True
            await deliver(chunk)


class LegacyAdapter(ClientHolder):
    """Constructor and attributes shared by the Hermes, Telos and Engram adapters (spec §2.1).

    ``adapter_url`` keeps the legacy value (argument, ``LLM_ADAPTER_URL``, ``localhost:$RHETOR_PORT``); the
    traffic goes to ``llm_url`` (see ``resolve_rhetor_url``). Provider and model: ``RHETOR_DEFAULT_*`` >
    ``LLM_PROVIDER``/``LLM_MODEL`` > the legacy defaults. Everything is read here, at construction.
    """

    _shim: str = ""
    _replacement: str = ""

    def __init__(self, adapter_url: str | None = None) -> None:
        warn_deprecated(self._shim, self._replacement)
        legacy_url = env("LLM_ADAPTER_URL")
        self.adapter_url: str = adapter_url or legacy_url or f"http://localhost:{env('RHETOR_PORT') or '8003'}"
        self.default_provider: str = env("RHETOR_DEFAULT_PROVIDER") or env("LLM_PROVIDER") or "anthropic"
        self.default_model: str = env("RHETOR_DEFAULT_MODEL") or env("LLM_MODEL") or "claude-3-haiku-20240307"
        self._init_client(resolve_rhetor_url(adapter_url, [("LLM_ADAPTER_URL", legacy_url)]))
