"""Conversation memory: defaults, trimming to a token budget, request messages, atomic persistence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tekton_llm_client.context_manager import ContextManager, context_file_name, fit_messages
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

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError):
        cm.add_message("user", "second")
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the temp file was removed


def test_a_corrupt_file_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / context_file_name("c")).write_text("{not json", encoding="utf-8")
    cm = ContextManager("c", storage_dir=tmp_path)
    assert cm.get_messages() == []
    assert "unreadable context file" in caplog.text
    cm.add_message("user", "fresh start")
    assert ContextManager("c", storage_dir=tmp_path).get_messages() == [{"role": "user", "content": "fresh start"}]


def test_invalid_budget() -> None:
    with pytest.raises(ConfigurationError):
        ContextManager("c", max_tokens=0)
