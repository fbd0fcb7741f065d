"""Call shapes real Tekton components use that are not the core API (compat-api.md §3.2, §3.4, §3.6).

Thin layers over the same request building, retries and fallback chain as ``generate_text``: no second client.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from ._stream import ChunkCallback, TextStream
from .models import (
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    CompletionResponse,
    Delta,
    Message,
    MessageRole,
    Usage,
)
from .settings import LLMSettings

if TYPE_CHECKING:
    from ._request import LLMRequest
    from .models import AvailableProviders, StreamingChunk

__all__ = ["CompatMixin"]

_OPTION_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "stop_sequences",
    "model",
    "top_k",
    "presence_penalty",
    "frequency_penalty",
    "provider",
    "timeout",
)


def _options_dict(options: Any) -> dict[str, Any]:
    """``ChatCompletionOptions`` / ``CompletionOptions`` / dict → per-call options.

    A dict passes through whole (unknown keys become extra request options, as ``chat(**params)`` promises); an
    options model contributes its generation fields, without the legacy defaults the caller did not set."""
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return {k: v for k, v in options.items() if v is not None}
    if hasattr(options, "model_dump"):
        data = options.model_dump(exclude_none=True)
        explicit: set[str] = getattr(options, "model_fields_set", set())
        # A default temperature/timeout of the legacy model must not override the client's configuration.
        for name in ("temperature", "timeout"):
            if name not in explicit:
                data.pop(name, None)
        return {k: v for k, v in data.items() if k in _OPTION_FIELDS}
    raise exc.InvalidRequestError(f"options must be a dict or an options model, got {type(options).__name__}")


def _usage_tuple(response: CompletionResponse) -> Usage | None:
    usage = response.usage
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)))
    completion = int(usage.get("completion_tokens", usage.get("output_tokens", 0)))
    return Usage(prompt, completion, int(usage.get("total_tokens", prompt + completion)))


class CompatMixin:
    """Lifecycle aliases, ``generate_chat`` and the OpenAI-shaped methods."""

    if TYPE_CHECKING:  # provided by TektonLLMClient

        def build_request(
            self,
            messages: Sequence[Message | Mapping[str, Any]],
            *,
            system_prompt: str | None = None,
            options: Mapping[str, Any] | None = None,
            settings: LLMSettings | None = None,
            context_id: str | None = None,
            stream: bool = False,
        ) -> LLMRequest: ...

        async def _complete(self, request: LLMRequest, callback: ChunkCallback | None = None) -> CompletionResponse: ...

        def _stream_chunks(self, request: LLMRequest) -> AsyncIterator[StreamingChunk]: ...

        def _dispatch(
            self, request: LLMRequest, callback: ChunkCallback | None
        ) -> Awaitable[CompletionResponse] | TextStream: ...

        async def _dialect(self, request_id: str | None = None) -> Any: ...

        async def aclose(self) -> None: ...

        async def get_providers(self) -> AvailableProviders: ...

    async def initialize(self) -> bool:
        """Optional warm-up: detect the generation. Never raises; ``False`` when Rhetor is unreachable."""
        try:
            await self._dialect()
        except exc.TektonLLMError:
            return False
        return True

    async def shutdown(self) -> None:
        """Release connections (idempotent; the client re-opens lazily)."""
        await self.aclose()

    def generate_chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]],
        system_prompt: str | None = None,
        settings: LLMSettings | None = None,
        streaming: bool = False,
        options: Mapping[str, Any] | None = None,
        callback: ChunkCallback | None = None,
        context_id: str | None = None,
    ) -> Awaitable[CompletionResponse] | TextStream:
        """Chat with per-call ``settings``; the streaming result works with ``async for`` without ``await``."""
        request = self.build_request(
            messages,
            system_prompt=system_prompt,
            options=options,
            settings=settings,
            context_id=context_id,
            stream=streaming,
        )
        return self._dispatch(request, callback)

    async def chat_completion(self, messages: Sequence[Any], options: Any = None) -> ChatCompletion:
        """OpenAI-shaped completion: ``.choices[0].message.content``."""
        opts = _options_dict(options)
        response = await self._complete(self.build_request(messages, options=opts))
        return ChatCompletion(
            id=f"chatcmpl-{response.request_id or uuid.uuid4().hex[:16]}",
            created=int(time.time()),
            model=response.model,
            provider=response.provider,
            choices=[
                Choice(
                    index=0,
                    message=Message(role=MessageRole.ASSISTANT, content=response.content),
                    finish_reason=response.finish_reason or "stop",
                )
            ],
            usage=_usage_tuple(response),
            fallback=response.fallback,
        )

    def stream_chat_completion(
        self, messages: Sequence[Any], options: Any = None
    ) -> AsyncIterator[ChatCompletionChunk]:
        """OpenAI-shaped stream (no ``await``): deltas, then one item whose ``finish_reason`` is set."""
        request = self.build_request(messages, options=_options_dict(options), stream=True)
        completion_id = f"chatcmpl-{request.request_id}"

        async def chunks() -> AsyncIterator[ChatCompletionChunk]:
            first = True
            async for chunk in self._stream_chunks(request):
                if chunk.error:
                    continue  # the stream raises IncompleteStreamError right after its error item
                if chunk.done:
                    yield ChatCompletionChunk(
                        id=completion_id,
                        model=chunk.model,
                        choices=[ChunkChoice(index=0, delta=Delta(content=chunk.chunk or None), finish_reason="stop")],
                    )
                    return
                yield ChatCompletionChunk(
                    id=completion_id,
                    model=chunk.model,
                    choices=[
                        ChunkChoice(index=0, delta=Delta(role="assistant" if first else None, content=chunk.chunk))
                    ],
                )
                first = False

        return chunks()

    async def list_models(self) -> list[dict[str, Any]]:
        """Flat list ``[{"id", "provider", "name"}]`` of available models; empty when there are none."""
        listing = await self.get_providers()
        models: list[dict[str, Any]] = []
        for provider_id, info in listing.providers.items():
            if info.get("available") is False:
                continue
            for model_id, model in (info.get("models") or {}).items():
                models.append({"id": model_id, "provider": provider_id, "name": model.get("name", model_id)})
        return models

    async def chat(
        self,
        messages: Sequence[Any],
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """The same request as ``chat_completion``, answered as a plain OpenAI-style dict."""
        options = {
            "model": model,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stop_sequences": stop,
            **params,
        }
        completion = await self.chat_completion(messages, {k: v for k, v in options.items() if v is not None})
        usage = (
            completion.usage._asdict()
            if completion.usage
            else {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        )
        return {
            "id": completion.id,
            "object": "chat.completion",
            "created": completion.created,
            "model": completion.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": completion.content},
                    "finish_reason": completion.choices[0].finish_reason,
                }
            ],
            "usage": usage,
        }
