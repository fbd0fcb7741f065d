"""The chat-style adapter Telos v2 and Engram share: ``chat``, ``_stream_chat`` and ``get_available_models``.

The two originals were siblings (spec §3.2, §4.1) that differed only in their component name and fallback text.
Their ``chat`` never raises: failures become strings (a status line, an ``Error: …`` line or the fallback text),
and a stream yields one such string and stops. ``ws_url``/``ws_port`` are kept as attributes only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit

from tekton_llm_client.exceptions import HTTPStatusError

from ._common import AwaitableDict, Failure, LegacyAdapter, classify, env, error_text, server_message
from ._providers import models_by_provider, models_fallback, rhetor_listing

__all__ = ["ChatAdapter", "derive_ws_url"]


@functools.lru_cache(maxsize=64)  # Engram builds an adapter per request, always from the same URL
def derive_ws_url(adapter_url: str, ws_port: str) -> str:
    """``http(s)://host[:port][/path]`` → ``ws(s)://host:<ws_port>`` (port and path of the original dropped)."""
    if adapter_url.startswith("https://"):
        scheme, rest = "wss://", adapter_url[len("https://"):]
    elif adapter_url.startswith("http://"):
        scheme, rest = "ws://", adapter_url[len("http://"):]
    elif "://" in adapter_url:
        scheme, rest = adapter_url.split("://", 1)[0] + "://", adapter_url.split("://", 1)[1]
    else:
        scheme, rest = "", adapter_url
    host = urlsplit("//" + rest).hostname if rest else ""
    if not host:
        return adapter_url + ":" + ws_port
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}{host}:{ws_port}"


class ChatAdapter(LegacyAdapter):
    """Telos v2 / Engram ``LLMAdapter`` core; subclasses set the component, logger and fallback text."""

    _fallback_text: str = ""
    _logger_name: str = "tekton_llm_shims"
    _legacy_private: tuple[str, ...] = ("_stream_chat", "_get_fallback_response")

    def __init__(self, adapter_url: str | None = None) -> None:
        super().__init__(adapter_url)
        self.ws_port: str = env("LLM_ADAPTER_WS_PORT") or "8301"
        self.ws_url: str = derive_ws_url(self.adapter_url, self.ws_port)
        self._models_cache: dict[str, Any] | None = None

    def _get_fallback_response(self) -> str:
        return self._fallback_text

    async def chat(
        self,
        messages: list[dict[str, str]],
        model: str | None = None,
        temperature: float | None = 0.7,
        max_tokens: int | None = None,
        stream: bool = False,
        system_prompt: str | None = None,
    ) -> str | AsyncIterator[str]:
        """The answer text; with ``stream=True`` (one ``await``) an async iterator of text chunks. Never raises."""
        if stream:
            return self._stream_chat(
                messages, model=model, temperature=temperature, max_tokens=max_tokens, system_prompt=system_prompt
            )
        try:
            settings = self._settings(model, temperature, max_tokens, system_prompt)
            response = await self._complete(list(messages), **settings)
        except Exception as error:
            self._log_failure(error)
            return self._failure_text(error)
        return response.content or ""

    async def _stream_chat(
        self,
        messages: list[dict[str, str]],
        model: str | None = None,
        temperature: float | None = 0.7,
        max_tokens: int | None = None,
        system_prompt: str | None = None,
    ) -> AsyncIterator[str]:
        """Text chunks; a failure yields one error or fallback string and ends the iteration."""
        delivered = False
        try:
            settings = self._settings(model, temperature, max_tokens, system_prompt)
            async with aclosing(self._stream(list(messages), **settings)) as chunks:
                async for chunk in chunks:
                    delivered = True
                    yield chunk.chunk
        except Exception as error:
            self._log_failure(error)
            yield f"Error: {server_message(error)}" if delivered else self._failure_text(error)

    def get_available_models(self) -> AwaitableDict:
        """``{provider_id: [{"id", "name"}]}``: the last listing learned from Rhetor, else the fallback.

        Never blocks: the result is returned at once. Awaiting it (the post-migration async form) first refreshes
        it in place from Rhetor, so ``await adapter.get_available_models()`` gives a live listing when there is one.
        """
        return AwaitableDict(self._models_cache or models_fallback(), refresh=self._refresh_models)

    async def _refresh_models(self) -> Mapping[str, Any] | None:
        try:
            listing = await rhetor_listing(await self._active_client(), timeout=5.0, classic_only=False)
        except Exception:
            return None
        if listing is None:
            return None
        models = models_by_provider(listing)
        self._models_cache = models
        return models

    # -- internals ----------------------------------------------------------------------------------------------

    def _settings(
        self, model: str | None, temperature: float | None, max_tokens: int | None, system_prompt: str | None
    ) -> dict[str, Any]:
        return {
            "system_prompt": system_prompt or None,
            "model": model or self.default_model,
            "provider": self.default_provider,
            "temperature": 0.7 if temperature is None else temperature,
            "max_tokens": max_tokens or None,
            "timeout": 120.0,
        }

    def _failure_text(self, error: BaseException) -> str:
        kind = classify(error)
        if kind is Failure.SERVICE:
            if isinstance(error, HTTPStatusError) and error.status_code is not None:
                return f"Error: Failed to get LLM response (Status: {error.status_code})"
            return f"Error: {server_message(error)}"
        if kind is Failure.TRANSPORT:
            return self._get_fallback_response()
        return f"Error: {error_text(error)}"

    def _log_failure(self, error: BaseException) -> None:
        logging.getLogger(self._logger_name).warning("LLM request failed: %s", error_text(error))
