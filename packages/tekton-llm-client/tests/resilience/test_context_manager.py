"""Conversation memory: defaults, trimming to a token budget, request messages, atomic persistence."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tekton_llm_client import _files
from tekton_llm_client.context_manager import ContextManager, ContextStorageError, context_file_name, fit_messages
from tekton_llm_client.exceptions import ConfigurationError, InvalidRequestError
from tekton_llm_client.utils import token_counter
from tekton_llm_client.utils.token_counter import count_message_tokens

SYSTEM = {"role": "system", "content": "You are Terma's assistant."}


def _turns(n: int) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for i in range(1, n + 1):
        messages.append({"role": "user", "content": f"question number {i} about the terminal"})
        messages.append({"role": "assistant", "content": f"answer number {i}, with some detail"})
    return messages


@pytest.fixture(autouse=True)
def heuristic_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Deterministic token counts: no tiktoken encoding is available locally."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "no-encodings"))
    monkeypatch.delenv("TEKTON_TIKTOKEN_FILE", raising=False)
    token_counter._load_encoder.cache_clear()
    yield
    token_counter._load_encoder.cache_clear()


def test_default_context_id_comes_from_the_component_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMA_CONTEXT_ID", "terma:main")
    assert ContextManager("terma").default_context_id == "terma:main"
    assert ContextManager("terma", default_context_id="explicit").default_context_id == "explicit"
    monkeypatch.delenv("TERMA_CONTEXT_ID")
    assert ContextManager("terma").default_context_id == "terma"


def test_add_get_clear_delete() -> None:
    cm = ContextManager("c")
    cm.set_system_prompt(SYSTEM["content"])
    cm.add_message("user", "hi")
    cm.add_exchange("how are you?", "fine", context_id="other")
    assert cm.get_messages() == [SYSTEM, {"role": "user", "content": "hi"}]
    assert cm.get_messages("other")[-1] == {"role": "assistant", "content": "fine"}
    copy = cm.get_messages()
    copy.append({"role": "user", "content": "sneaky"})
    assert len(cm.get_messages()) == 2  # callers get copies
    cm.clear()
    assert cm.get_messages() == [SYSTEM]
    cm.clear(keep_system=False)
    assert cm.get_messages() == []
    assert cm.delete("other") is True
    assert cm.get_messages("other") == []
    assert cm.context_ids() == ["c", "other"]  # reading an unknown id does not persist anything


def test_messages_accept_models_and_reject_missing_roles() -> None:
    from tekton_llm_client.models import Message

    cm = ContextManager("c")
    cm.add_messages([Message(role="USER", content="upper-case role")])
    assert cm.get_messages() == [{"role": "user", "content": "upper-case role"}]
    with pytest.raises(InvalidRequestError):
        cm.add_messages([{"content": "no role"}])


def test_trim_keeps_the_system_message_and_the_newest_turns() -> None:
    cm = ContextManager("c")
    history = [SYSTEM, *_turns(4)]
    cm.add_messages(history)
    budget = count_message_tokens([SYSTEM, *history[-4:]])
    removed = cm.trim(max_tokens=budget)
    assert removed == 4
    assert cm.get_messages() == [SYSTEM, *history[-4:]]
    assert cm.count_tokens() <= budget


def test_trimming_never_leaves_an_orphaned_answer_first() -> None:
    history = [SYSTEM, *_turns(3)]
    # Room for the newest three messages, i.e. ending with an answer whose question would be cut in half.
    budget = count_message_tokens([SYSTEM, *history[-3:]])
    kept = fit_messages(history, budget)
    assert kept == [SYSTEM, *history[-2:]]
    assert kept[1]["role"] == "user"


def test_max_tokens_trims_on_every_add() -> None:
    history = [SYSTEM, *_turns(5)]
    budget = count_message_tokens([SYSTEM, *history[-2:]])
    cm = ContextManager("c", max_tokens=budget)
    for message in history:
        cm.add_messages([message])
        assert cm.count_tokens() <= budget
    assert cm.get_messages() == [SYSTEM, *history[-2:]]


def test_messages_for_request_fit_the_budget_without_changing_the_store() -> None:
    cm = ContextManager("c")
    history = [SYSTEM, *_turns(4)]
    cm.add_messages(history)
    prompt = {"role": "user", "content": "and now?"}
    budget = count_message_tokens([SYSTEM, *history[-2:], prompt])
    messages = cm.messages_for_request("and now?", max_tokens=budget)
    assert messages == [SYSTEM, *history[-2:], prompt]
    assert cm.get_messages() == history  # nothing trimmed or stored
    unbounded = cm.messages_for_request("and now?")
    assert unbounded == [*history, prompt]


def test_messages_for_request_always_keeps_system_and_prompt() -> None:
    cm = ContextManager("c")
    cm.add_messages([SYSTEM, *_turns(2)])
    messages = cm.messages_for_request("a very long prompt " * 20, max_tokens=5)
    assert messages == [SYSTEM, {"role": "user", "content": "a very long prompt " * 20}]


def test_messages_for_request_can_override_the_system_prompt() -> None:
    cm = ContextManager("c")
    cm.add_messages([SYSTEM, {"role": "user", "content": "q"}])
    messages = cm.messages_for_request("next", system_prompt="Other rules.")
    assert messages[0] == {"role": "system", "content": "Other rules."}
    assert messages.count(SYSTEM) == 0
    assert cm.get_messages()[0] == SYSTEM


def test_persistence_round_trip_in_one_json_file_per_context(tmp_path: Path) -> None:
    store = tmp_path / "contexts"
    cm = ContextManager("terma", storage_dir=store)
    cm.add_messages([SYSTEM, {"role": "user", "content": "remember me"}], context_id="terma:session/1")
    cm.add_message("user", "elsewhere", context_id="terma:session:1")
    files = sorted(p.name for p in store.iterdir())
    assert len(files) == 2 and all(name.endswith(".json") for name in files)
    assert not any(":" in name or "/" in name for name in files)
    path = store / context_file_name("terma:session/1")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["context_id"] == "terma:session/1"
    assert data["messages"] == [SYSTEM, {"role": "user", "content": "remember me"}]

    reloaded = ContextManager("terma", storage_dir=store)
    assert reloaded.get_messages("terma:session/1") == [SYSTEM, {"role": "user", "content": "remember me"}]
    assert reloaded.context_ids() == ["terma:session/1", "terma:session:1"]
    assert reloaded.delete("terma:session/1") is True
    assert not path.exists()


def test_file_names_are_safe_and_distinct() -> None:
    names = {context_file_name(i) for i in ("a/b", "a:b", "a b", "../../etc/passwd", "")}
    assert len(names) == 5
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cm = ContextManager("c", storage_dir=tmp_path)
    cm.add_message("user", "first")
    path = tmp_path / context_file_name("c")
    before = path.read_text(encoding="utf-8")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        cm.add_message("user", "second")
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the temp file was removed


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2, 3]", '{"messages": "no list"}', '{"messages": [{"content": "no role"}]}', "\udcff"],
    ids=["broken-json", "a-list", "messages-not-a-list", "message-without-role", "not-utf8"],
)
def test_an_unreadable_file_is_kept_aside_and_named_in_the_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    path = tmp_path / context_file_name("c")
    original = content.encode("utf-8", "surrogateescape")
    path.write_bytes(original)
    cm = ContextManager("c", storage_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        assert cm.get_messages() == []
    [kept] = [p for p in tmp_path.iterdir() if p.name != path.name]
    assert re.fullmatch(re.escape(path.name) + r"\.corrupt-\d{8}T\d{6}Z", kept.name)
    assert kept.read_bytes() == original
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(kept) in warning.getMessage() and "unreadable context file" in warning.getMessage()
    cm.add_message("user", "fresh start")
    assert ContextManager("c", storage_dir=tmp_path).get_messages() == [{"role": "user", "content": "fresh start"}]
    assert kept.read_bytes() == original  # the next write did not touch it
    assert ContextManager("c", storage_dir=tmp_path).context_ids() == ["c"]


def test_a_file_that_cannot_be_moved_aside_is_never_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / context_file_name("c")
    path.write_text("{half a conversation", encoding="utf-8")

    def refuse(self: Path, target: object) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refuse)
    cm = ContextManager("c", storage_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="tekton_llm_client"):
        cm.add_message("user", "kept in memory only")
    assert cm.get_messages() == [{"role": "user", "content": "kept in memory only"}]
    assert path.read_text(encoding="utf-8") == "{half a conversation"
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in error.getMessage() and "not saved until that file is moved or removed" in error.getMessage()
    cm.add_message("user", "other conversation", context_id="d")  # other conversations are still saved
    assert (tmp_path / context_file_name("d")).exists()


def test_saving_resumes_once_the_file_that_could_not_be_moved_aside_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / context_file_name("s1")
    path.write_text("{not json", encoding="utf-8")
    cm = ContextManager("terma", storage_dir=tmp_path)

    def refuse(self: Path, target: object) -> Path:
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "rename", refuse)
        assert cm.get_messages("s1") == []
    cm.add_message("user", "while the bad file is there", "s1")
    assert path.read_text(encoding="utf-8") == "{not json"  # never overwritten
    path.unlink()  # what the ERROR asked the operator to do
    cm.add_exchange("hello", "hi there", "s1")
    assert ContextManager("terma", storage_dir=tmp_path).get_messages("s1") == [
        {"role": "user", "content": "while the bad file is there"},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi there"},
    ]


def test_a_file_the_system_cannot_read_is_a_typed_error_and_stays_put(tmp_path: Path) -> None:
    """EISDIR here (a real file system answer); EMFILE, EACCES and EIO take the same path: not a corrupt file."""
    (tmp_path / context_file_name("s1")).mkdir()
    cm = ContextManager("terma", storage_dir=tmp_path)
    with pytest.raises(ContextStorageError, match=r"cannot read context file .*left as it is") as caught:
        cm.get_messages("s1")
    assert isinstance(caught.value, OSError) and isinstance(caught.value.__cause__, IsADirectoryError)
    with pytest.raises(ContextStorageError):
        cm.add_message("user", "not saved over it", "s1")
    assert [p.name for p in tmp_path.iterdir()] == [context_file_name("s1")]  # nothing kept aside


def test_a_transient_read_failure_keeps_a_good_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ContextManager("terma", storage_dir=tmp_path).add_exchange("what is 2+2?", "4", "s1")
    cm = ContextManager("terma", storage_dir=tmp_path)
    real_read = Path.read_bytes

    def out_of_descriptors(self: Path) -> bytes:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(Path, "read_bytes", out_of_descriptors)
    with pytest.raises(ContextStorageError, match="Too many open files"):
        cm.get_messages("s1")
    monkeypatch.setattr(Path, "read_bytes", real_read)
    cm.add_message("user", "and 3+3?", "s1")  # the next access reads the file again
    assert [m["content"] for m in ContextManager("terma", storage_dir=tmp_path).get_messages("s1")] == [
        "what is 2+2?", "4", "and 3+3?",
    ]
    assert [p.name for p in tmp_path.iterdir()] == [context_file_name("s1")]


def test_storage_dir_expands_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    cm = ContextManager("terma", storage_dir="~/.terma/contexts")
    cm.add_message("user", "hi")
    assert cm.storage_dir == tmp_path / "home" / ".terma" / "contexts"
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")] == [
        f"home/.terma/contexts/{context_file_name('terma')}"
    ]


def test_keep_aside_never_reuses_a_name(tmp_path: Path) -> None:
    kept = []
    for number in range(3):
        path = tmp_path / "conversation.json"
        path.write_text(str(number), encoding="utf-8")
        kept.append(_files.keep_aside(path))
    assert len({p.name for p in kept}) == 3
    assert [p.read_text(encoding="utf-8") for p in kept] == ["0", "1", "2"]
    assert not (tmp_path / "conversation.json").exists()


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    fresh = tmp_path / "new.json"
    _files.atomic_write(fresh, "{}")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600  # conversations are private by default
    shared = tmp_path / "shared.json"
    shared.write_text("old", encoding="utf-8")
    shared.chmod(0o644)
    _files.atomic_write(shared, b"new")
    assert (shared.read_bytes(), stat.S_IMODE(shared.stat().st_mode)) == (b"new", 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "shared.json"]


def test_invalid_budget() -> None:
    with pytest.raises(ConfigurationError):
        ContextManager("c", max_tokens=0)
