"""Conversation memory kept by the client, because no Rhetor generation gives the model memory by itself.

v1's WebSocket stores nothing under ``context_id`` and classic's contexts are write-only for the model
(rhetor-protocol.md §4.7, §6.7): a component that wants a conversation must send the history in ``messages``.
``ContextManager`` keeps that history per ``context_id``, trims it to a token budget (the system message and the
newest turns survive) and can persist each conversation as one JSON file, written atomically so a crash never
leaves a half-written file behind. A file whose content cannot be decoded or parsed is renamed
``<name>.corrupt-<UTC timestamp>`` beside it, never overwritten; a file the system cannot read or write right now
(out of descriptors, permission denied, I/O error) raises :class:`ContextStorageError` and is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ._files import atomic_write, keep_aside
from .config import context_env_name
from .exceptions import ConfigurationError, TektonLLMError
from .models import message_dict
from .utils.token_counter import REPLY_PRIMING_TOKENS, count_message_tokens

__all__ = ["ContextManager", "ContextStorageError", "context_file_name"]

logger = logging.getLogger("tekton_llm_client")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FORMAT_VERSION = 1


class ContextStorageError(TektonLLMError, OSError):
    """A conversation file could not be read or written for a reason of the system, not of its content.

    Nothing was overwritten or moved aside: the file may be perfectly good (``EMFILE``, ``EACCES``, ``EIO``), so
    the conversation is not loaded from it and the next access tries again. ``__cause__`` is the ``OSError``.
    """


def context_file_name(context_id: str) -> str:
    """A file name for a context id that is safe on every filesystem and unique per id.

    Ids are free text (``"terma:session/1"``), so the readable part keeps only ``[A-Za-z0-9._-]`` and a hash of
    the full id keeps two ids that sanitize alike (``a/b`` and ``a:b``) apart.
    """
    readable = _UNSAFE.sub("_", context_id).strip("._")[:64] or "context"
    digest = hashlib.sha256(context_id.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}.json"


class ContextManager:
    """Conversations per ``context_id``, trimmed to a token budget, optionally persisted.

    ``default_context_id`` comes from the argument, else ``<COMPONENT>_CONTEXT_ID``, else the component id.
    ``max_tokens`` (when set) caps every stored conversation: adding a message trims the oldest turns. With
    ``storage_dir`` each conversation lives in ``<storage_dir>/<context_file_name(id)>``, loaded on first use and
    rewritten after each change (``~`` in ``storage_dir`` is the user's home). A file that does not decode or
    parse is kept aside as ``<file>.corrupt-<UTC timestamp>`` (the WARNING names it) and the conversation starts
    empty; when it cannot be moved aside, the conversation is not saved until that file is gone. A read or write
    failing with an ``OSError`` raises :class:`ContextStorageError`. Methods are thread safe and never block on
    the network.
    """

    def __init__(
        self,
        component_id: str = "default",
        *,
        default_context_id: str | None = None,
        max_tokens: int | None = None,
        storage_dir: str | os.PathLike[str] | None = None,
        model: str | None = None,
    ) -> None:
        if max_tokens is not None and max_tokens <= 0:
            raise ConfigurationError("max_tokens must be positive")
        self.component_id = component_id
        self.default_context_id = (
            default_context_id or os.environ.get(context_env_name(component_id)) or component_id
        )
        self.max_tokens = max_tokens
        self.model = model
        self.storage_dir = Path(storage_dir).expanduser() if storage_dir is not None else None
        self._contexts: dict[str, list[dict[str, str]]] = {}
        self._unsaved: set[str] = set()  # ids whose unreadable file could not be moved aside
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"ContextManager(component_id={self.component_id!r}, default_context_id={self.default_context_id!r}, "
            f"contexts={len(self._contexts)}, storage_dir={str(self.storage_dir) if self.storage_dir else None!r})"
        )

    # -- storage -------------------------------------------------------------------------------------------------

    def _path(self, context_id: str) -> Path | None:
        return self.storage_dir / context_file_name(context_id) if self.storage_dir else None

    def _load(self, context_id: str) -> list[dict[str, str]]:
        """The in-memory list for ``context_id``, read from disk on first use."""
        messages = self._contexts.get(context_id)
        if messages is not None:
            return messages
        path = self._path(context_id)
        messages = self._read(context_id, path) if path is not None else []
        self._contexts[context_id] = messages
        return messages

    def _read(self, context_id: str, path: Path) -> list[dict[str, str]]:
        """The stored conversation; one that does not decode or parse is kept aside and the id starts empty."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:  # the system's problem, not the file's: leave it alone, try again next time
            raise _storage_error("read", path, error) from error
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("messages", []), list):
                raise ValueError("not a conversation file")
            return [message_dict(m) for m in data.get("messages", [])]
        except (ValueError, ConfigurationError) as error:  # UnicodeDecodeError and JSONDecodeError included
            problem = type(error).__name__
        # A corrupt file must not take the component down, nor be lost to the next write.
        try:
            kept = keep_aside(path)
        except OSError as error:
            self._unsaved.add(context_id)
            logger.error(
                "unreadable context file %s (%s) cannot be moved aside (%s): conversation %r starts empty and is "
                "not saved until that file is moved or removed",
                path, problem, type(error).__name__, context_id,
            )
        else:
            logger.warning(
                "unreadable context file %s (%s) kept as %s; conversation %r starts empty", path, problem, kept,
                context_id,
            )
        return []

    def _save(self, context_id: str) -> None:
        path = self._path(context_id)
        if path is None:
            return
        if context_id in self._unsaved:
            if os.path.lexists(path):  # the unreadable file is still there: never overwrite it
                return
            self._unsaved.discard(context_id)
            logger.warning("context file %s is gone: conversation %r is saved again", path, context_id)
        payload = {
            "version": _FORMAT_VERSION,
            "context_id": context_id,
            "component_id": self.component_id,
            "updated_at": datetime.now().isoformat(),
            "messages": self._contexts.get(context_id, []),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1))
        except OSError as error:
            raise _storage_error("write", path, error) from error

    # -- editing -------------------------------------------------------------------------------------------------

    def _id(self, context_id: str | None) -> str:
        return context_id or self.default_context_id

    def add_message(self, role: str, content: str, context_id: str | None = None) -> None:
        """Append one message (trimming to ``max_tokens`` when set) and persist."""
        self.add_messages([{"role": role, "content": content}], context_id)

    def add_messages(self, messages: Iterable[Any], context_id: str | None = None) -> None:
        """Append messages (dicts or ``Message`` models) in order, then trim and persist once."""
        cid = self._id(context_id)
        new = [message_dict(m) for m in messages]
        with self._lock:
            self._load(cid).extend(new)
            if self.max_tokens is not None:
                self._trim_locked(cid, self.max_tokens)
            self._save(cid)

    def add_exchange(self, user: str, assistant: str, context_id: str | None = None) -> None:
        """Record one user turn and the answer to it."""
        self.add_messages([{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], context_id)

    def set_system_prompt(self, prompt: str | None, context_id: str | None = None) -> None:
        """Replace the leading system message (or remove it with ``None``)."""
        cid = self._id(context_id)
        with self._lock:
            messages = self._load(cid)
            if messages and messages[0]["role"] == "system":
                messages.pop(0)
            if prompt:
                messages.insert(0, {"role": "system", "content": prompt})
            self._save(cid)

    def get_messages(self, context_id: str | None = None) -> list[dict[str, str]]:
        """A copy of the stored conversation (empty for an unknown id; nothing is created)."""
        cid = self._id(context_id)
        with self._lock:
            return [dict(m) for m in self._load(cid)]

    def clear(self, context_id: str | None = None, *, keep_system: bool = True) -> None:
        """Forget a conversation's turns; the system message stays unless ``keep_system=False``."""
        cid = self._id(context_id)
        with self._lock:
            messages = self._load(cid)
            kept = messages[:1] if keep_system and messages and messages[0]["role"] == "system" else []
            messages[:] = kept
            self._save(cid)

    def delete(self, context_id: str) -> bool:
        """Remove a conversation from memory and disk; ``True`` if it existed."""
        with self._lock:
            existed = self._contexts.pop(context_id, None) is not None
            self._unsaved.discard(context_id)
            path = self._path(context_id)
            if path is not None and path.exists():
                path.unlink()
                existed = True
            return existed

    def context_ids(self) -> list[str]:
        """Ids known in memory or on disk, sorted."""
        with self._lock:
            ids = set(self._contexts)
            if self.storage_dir is not None and self.storage_dir.is_dir():
                for path in self.storage_dir.glob("*.json"):
                    try:
                        data = json.loads(path.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        continue
                    if isinstance(data, dict) and isinstance(data.get("context_id"), str):
                        ids.add(data["context_id"])
            return sorted(ids)

    # -- budgets -------------------------------------------------------------------------------------------------

    def count_tokens(self, context_id: str | None = None) -> int:
        """Tokens the stored conversation costs as a chat request."""
        return count_message_tokens(self.get_messages(context_id), self.model)

    def trim(self, context_id: str | None = None, max_tokens: int | None = None) -> int:
        """Drop the oldest turns until the conversation fits ``max_tokens``; returns how many messages went."""
        limit = max_tokens if max_tokens is not None else self.max_tokens
        if limit is None:
            return 0
        cid = self._id(context_id)
        with self._lock:
            removed = self._trim_locked(cid, limit)
            if removed:
                self._save(cid)
            return removed

    def _trim_locked(self, cid: str, limit: int) -> int:
        messages = self._load(cid)
        kept = fit_messages(messages, limit, self.model)
        removed = len(messages) - len(kept)
        messages[:] = kept
        return removed

    def messages_for_request(
        self,
        prompt: str | None = None,
        context_id: str | None = None,
        *,
        max_tokens: int | None = None,
        system_prompt: str | None = None,
    ) -> list[dict[str, str]]:
        """The messages to send with a request: system message, as many newest turns as fit, then ``prompt``.

        Nothing is stored or trimmed. ``system_prompt`` replaces the stored system message for this request only.
        The budget (``max_tokens``, else the manager's) covers the whole list; the system message and the new
        prompt are always kept, even if they alone exceed it.
        """
        messages = self.get_messages(context_id)
        if system_prompt is not None:
            if messages and messages[0]["role"] == "system":
                messages = messages[1:]
            if system_prompt:
                messages.insert(0, {"role": "system", "content": system_prompt})
        if prompt is not None:
            messages.append({"role": "user", "content": prompt})
        limit = max_tokens if max_tokens is not None else self.max_tokens
        if limit is None:
            return messages
        return fit_messages(messages, limit, self.model, keep_last=prompt is not None)


def _storage_error(action: str, path: Path, error: OSError) -> ContextStorageError:
    reason = error.strerror or type(error).__name__
    return ContextStorageError(f"cannot {action} context file {path}: {reason}; the file was left as it is")


def fit_messages(
    messages: list[dict[str, str]], limit: int, model: str | None = None, *, keep_last: bool = False
) -> list[dict[str, str]]:
    """The leading system message plus the newest messages that fit ``limit`` tokens, in their original order.

    Turns are dropped oldest first, and a conversation never starts with an orphaned assistant answer (the
    answer of a dropped question goes with it). With ``keep_last`` the final message survives regardless.
    """
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    body = messages[len(head) :]
    pinned = body[-1:] if keep_last and body else []
    candidates = body[: len(body) - len(pinned)]
    # The cost of a list is the sum of its messages' costs plus a constant, so each message is counted once.
    used = count_message_tokens([*head, *pinned], model) or REPLY_PRIMING_TOKENS
    kept: list[dict[str, str]] = []
    for message in reversed(candidates):
        cost = count_message_tokens([message], model) - REPLY_PRIMING_TOKENS
        if used + cost > limit:
            break
        used += cost
        kept.insert(0, message)
    while kept and kept[0]["role"] == "assistant":
        kept.pop(0)
    return [*head, *kept, *pinned]
