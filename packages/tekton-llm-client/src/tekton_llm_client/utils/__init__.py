"""Helpers that need no connection to Rhetor (token counting)."""

from __future__ import annotations

from .token_counter import (
    count_message_tokens,
    count_tokens,
    estimate_tokens,
    token_counting_backend,
    truncate_text_to_token_limit,
)

__all__ = [
    "count_message_tokens",
    "count_tokens",
    "estimate_tokens",
    "token_counting_backend",
    "truncate_text_to_token_limit",
]
