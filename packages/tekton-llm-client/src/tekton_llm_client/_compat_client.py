"""The OpenAI-shaped call shapes real Tekton components use (compat-api.md §3.2, §3.4, §3.6).

Pure functions from the client's own answers (``CompletionResponse``, ``StreamingChunk``) to those shapes, so the
request path stays the client's one path. Every shape marks a fallback answer: ``fallback`` is true (and, for the
local canned answer, ``error`` is set), on ``ChatCompletion``, on every ``ChatCompletionChunk`` and in ``chat()``'s
dict — a fallback text must never pass for a real answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from .models import (
    AvailableProviders,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    CompletionResponse,
    Delta,
    Message,
    MessageRole,
    StreamingChunk,
    Usage,
)

__all__ = ["chat_completion", "chat_dict", "completion_chunks", "model_list"]


def _usage_tuple(response: CompletionResponse) -> Usage | None:
    usage = response.usage
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)))
    completion = int(usage.get("completion_tokens", usage.get("output_tokens", 0)))
    return Usage(prompt, completion, int(usage.get("total_tokens", prompt + completion)))


def chat_completion(response: CompletionResponse) -> ChatCompletion:
    """A ``CompletionResponse`` as an OpenAI-shaped completion."""
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
        error=response.error,
    )


def chat_dict(completion: ChatCompletion) -> dict[str, Any]:
    """``chat()``'s plain dict: the OpenAI keys, plus ``fallback`` and ``error``."""
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
        "fallback": completion.fallback,
        "error": completion.error,
    }


async def completion_chunks(
    chunks: AsyncIterator[StreamingChunk], completion_id: str
) -> AsyncIterator[ChatCompletionChunk]:
    """The client's chunks as OpenAI-shaped stream items: deltas, then one item with ``finish_reason`` set."""
    first = True
    async for chunk in chunks:
        if chunk.done and chunk.error and not chunk.chunk and not chunk.fallback:
            continue  # a broken stream: IncompleteStreamError follows right after this item
        if chunk.done:
            yield ChatCompletionChunk(
                id=completion_id,
                model=chunk.model,
                choices=[ChunkChoice(index=0, delta=Delta(content=chunk.chunk or None), finish_reason="stop")],
                fallback=chunk.fallback,
                error=chunk.error,
            )
            return
        yield ChatCompletionChunk(
            id=completion_id,
            model=chunk.model,
            choices=[ChunkChoice(index=0, delta=Delta(role="assistant" if first else None, content=chunk.chunk))],
            fallback=chunk.fallback,
        )
        first = False


def model_list(listing: AvailableProviders) -> list[dict[str, Any]]:
    """Providers listing as a flat ``[{"id", "provider", "name"}]`` of available models."""
    models: list[dict[str, Any]] = []
    for provider_id, info in listing.providers.items():
        if info.get("available") is False:
            continue
        for model_id, model in (info.get("models") or {}).items():
            models.append({"id": model_id, "provider": provider_id, "name": model.get("name", model_id)})
    return models
