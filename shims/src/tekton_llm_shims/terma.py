"""Terma's legacy ``LLMAdapter`` (``terma.core.llm_adapter``) on the shared client.

Terma builds a new adapter per request, reads its settings from ``~/.terma/config.json`` (``TERMA_*`` overrides),
keeps per-session contexts as bookkeeping only, and never lets an LLM failure escape: callers get the legacy
fallback strings. The traffic goes to Rhetor; ``adapter_url`` is kept because Terma reports it.
Contract: legacy-adapters.md §1. Migration guide: MIGRATION.md#terma.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tekton_llm_client.models import StreamingChunk

from ._common import (
    ClientHolder,
    error_text,
    invoke_callback,
    redact_credentials,
    relay_stream,
    resolve_rhetor_url,
    trim_context,
    warn_deprecated,
)
from ._providers import classic_providers, rhetor_listing
from ._shim_calls import records_legacy_calls
from ._terma_config import DEFAULT_SYSTEM_PROMPT, LLM_PROVIDERS, Config

__all__ = ["LLM_PROVIDERS", "NO_RESPONSE_TEXT", "Config", "LLMAdapter", "logger"]

logger = logging.getLogger("terma")

DEFAULT_ADAPTER_URL = "http://localhost:8300"
DEFAULT_ADAPTER_WS_URL = "ws://localhost:8301"
DEFAULT_PROVIDER = "claude"
DEFAULT_MODEL = "claude-3-sonnet-20240229"
PHASE1_ADAPTER_URL = "http://localhost:8080"

COMMAND_PROMPT = "Please explain this command concisely: {command}"
OUTPUT_PROMPT = "Please explain the output of this command: {command}\n\nOutput:\n{output}"
HELP_PROMPT = "Help me with this terminal task: {task}"
TRUNCATION_MARKER = "...[output truncated]..."
NO_RESPONSE_TEXT = "No response from LLM adapter"
"""The result when Rhetor's answer has no text field at all (an empty text is returned as ``""``)."""
UNAVAILABLE_TEXT = (
    "I'm currently unable to connect to the LLM adapter service. Please check the connection to the service at "
    "{adapter_url} and make sure it's running properly."
)

_RHETOR_PROVIDER = {"claude": "anthropic", "local": "ollama"}
"""Terma's provider ids that Rhetor names differently; others pass unchanged."""

_REPLACEMENT = "tekton_llm_client.TektonLLMClient('terma').generate_text(prompt, system_prompt=..., context_id='terma')"


@records_legacy_calls
class LLMAdapter(ClientHolder):
    """Terma's terminal assistant adapter: explains commands and their output."""

    _component_id = "terma"
    _legacy_private = ("_get_session_context",)

    def __init__(self, config_path: str | None = None, *, adapter_url: str | None = None) -> None:
        warn_deprecated("terma", _REPLACEMENT)
        self.config = Config(config_path)
        configured_url, source = self.config._lookup("llm.adapter_url")
        self.adapter_url: str = adapter_url or configured_url or DEFAULT_ADAPTER_URL
        self.adapter_ws_url: str = self.config.get("llm.adapter_ws_url", DEFAULT_ADAPTER_WS_URL)
        self.provider: str = self.config.get("llm.provider", DEFAULT_PROVIDER)
        self.model: str = self.config.get("llm.model", DEFAULT_MODEL)
        self.system_prompt: str = self.config.get("llm.system_prompt", DEFAULT_SYSTEM_PROMPT)
        self._session_contexts: dict[str, list[dict[str, str]]] = {}
        # Terma's URLs name the LLM Adapter service, not Rhetor: even the argument only counts when it does not
        # point at that retired service (ports 8300/8301, or the phase-1 default on 8080). The default that the
        # config file is seeded with is nobody's choice: it is skipped without the "ignoring …" warning.
        configured = configured_url if isinstance(configured_url, str) else None
        if source == "file" and configured == DEFAULT_ADAPTER_URL:
            configured = None
        source = "llm.adapter_url" if source == "file" else source
        legacy = [("adapter_url argument", adapter_url), (source, configured)]
        self._init_client(resolve_rhetor_url(None, legacy, retired=(DEFAULT_ADAPTER_URL, PHASE1_ADAPTER_URL)))

    # -- session contexts (bookkeeping only: the original never sent them) --------------------------------------

    def _get_session_context(self, session_id: str) -> list[dict[str, str]]:
        if session_id not in self._session_contexts:
            self._session_contexts[session_id] = [{"role": "system", "content": self.system_prompt}]
        return self._session_contexts[session_id]

    def add_message(self, session_id: str, message: str, role: str = "user") -> None:
        """Append a turn; a context keeps its system message plus the 10 most recent messages."""
        context = self._get_session_context(session_id)
        context.append({"role": role, "content": message})
        self._session_contexts[session_id] = trim_context(context)

    def clear_context(self, session_id: str) -> None:
        """Reset a known session to its first (system) message; unknown sessions are left alone."""
        if session_id in self._session_contexts:
            self._session_contexts[session_id] = self._session_contexts[session_id][:1]

    # -- provider and model -------------------------------------------------------------------------------------

    def set_provider_and_model(self, provider: str, model: str) -> None:
        """Switch provider and model and persist both in the config file (may raise ``OSError``)."""
        self.provider = provider
        self.model = model
        self.config.set("llm.provider", provider)
        self.config.set("llm.model", model)

    def get_current_provider_and_model(self) -> tuple[str, str]:
        return self.provider, self.model

    async def get_available_providers(self) -> dict[str, dict[str, Any]]:
        """Rhetor's provider mapping (classic Rhetor), else Terma's own provider table. Never raises."""
        try:
            listing = await rhetor_listing(await self._active_client(), timeout=2.0)
        except Exception as error:
            logger.warning("provider listing unavailable: %s", error_text(error))
            listing = None
        if listing is None:
            return self.config.get_all_llm_providers()
        return classic_providers(listing)

    # -- analysis -----------------------------------------------------------------------------------------------

    async def analyze_command(self, session_id: str, command: str) -> str | None:
        """Explain a command; on any LLM failure the "unable to connect" text naming the Rhetor URL contacted."""
        try:
            prompt = COMMAND_PROMPT.format(command=command)
            return await self._ask(session_id, prompt, self._unavailable)
        except Exception as error:
            return f"Error analyzing command: {error}"

    async def analyze_output(self, session_id: str, command: str, output: str) -> str | None:
        """Explain a command's output (long output keeps its first and last 2000 characters)."""
        try:
            if len(output) > 4000:
                output = output[:2000] + TRUNCATION_MARKER + output[-2000:]
            prompt = OUTPUT_PROMPT.format(command=command, output=output)
            return await self._ask(session_id, prompt, self._unavailable)
        except Exception as error:
            return f"Error analyzing output: {error}"

    async def get_terminal_help(self, session_id: str, task: str) -> str | None:
        """Help with a terminal task; on failure ``"Error getting terminal help: {e}"``."""
        prompt = HELP_PROMPT.format(task=task)
        return await self._ask(session_id, prompt, lambda error: f"Error getting terminal help: {error_text(error)}")

    async def stream_command_analysis(
        self, session_id: str, command: str, callback: Callable[[str], Awaitable[None] | None]
    ) -> None:
        """Explain a command, handing each text chunk to ``callback``; a failure is reported through it too."""
        prompt = COMMAND_PROMPT.format(command=command)
        self.add_message(session_id, prompt)
        parts: list[str] = []

        async def deliver(chunk: StreamingChunk) -> None:
            parts.append(chunk.chunk)
            await invoke_callback(callback, chunk.chunk)  # the caller's exceptions propagate

        async def fail(error: BaseException, delivered: bool) -> None:
            logger.warning("streaming analysis failed: %s", error_text(error))
            await invoke_callback(callback, f"Error analyzing command: {error_text(error)}")

        if await relay_stream(self._stream(**self._request(prompt)), deliver, fail):
            text = "".join(parts)
            if text:
                self.add_message(session_id, text, role="assistant")

    # -- internals ----------------------------------------------------------------------------------------------

    def _unavailable(self, error: BaseException) -> str:
        # The URL the request went to (``llm_url``), not the retired service's ``adapter_url`` the original named:
        # that is where the user must look. The user sees this text: a URL's credentials stay out of it.
        return UNAVAILABLE_TEXT.format(adapter_url=redact_credentials(self.llm_url))

    def _request(self, prompt: str) -> dict[str, Any]:
        """The one logical request of §1.5: the newest prompt only, no history."""
        return {
            "messages": [{"role": "user", "content": prompt}],
            "system_prompt": self.system_prompt,
            "context_id": "terma",
            "model": self.model,
            "provider": _RHETOR_PROVIDER.get(self.provider, self.provider),
            "temperature": 0.7,
            "max_tokens": 500,
        }

    async def _ask(self, session_id: str, prompt: str, on_failure: Callable[[BaseException], str]) -> str:
        self.add_message(session_id, prompt)
        try:
            result = (await self._complete(**self._request(prompt), missing_text=NO_RESPONSE_TEXT)).content
        except Exception as error:
            logger.warning("LLM request failed: %s", error_text(error))
            result = on_failure(error)
        if result:
            self.add_message(session_id, result, role="assistant")  # kept quirk: fallback text is stored too
        return result
