"""Pure units: simulated texts, chunking, fault objects and the recorder."""

from __future__ import annotations

import threading

import pytest
from tekton_llm_client.testing import Faults, simulated
from tekton_llm_client.testing._script import pieces
from tekton_llm_client.testing.recording import Recorder


def test_chat_text_quotes_last_user_message_counts_all_and_adds_model_suffix() -> None:
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "Hello Rhetor"},
    ]
    assert simulated.chat_text(messages, "simulated-fast") == (
        'I received your message: "Hello Rhetor". I see a conversation with 3 messages. '
        "This is a simulated chat response as no real LLM is available. "
        "\n\nAs the fast simulation model, I would typically provide quicker responses with less context retention."
    )
    assert simulated.chat_text([], "simulated-standard") == (
        'I received your message: "No message found". I see a conversation with 0 messages. '
        "This is a simulated chat response as no real LLM is available. "
    )
    assert simulated.chat_text([{"role": "user", "content": "x"}], "simulated-advanced").endswith(
        "\n\nAs the advanced simulation model, I would typically maintain better context across a conversation thread."
    )


def test_message_text_and_system_prompt_suffix() -> None:
    text = simulated.message_text("Hello classic", "simulated-standard", "Be brief.")
    assert text == (
        'I received your message: "Hello classic". This is a simulated response as no real LLM is available. '
        "Please configure Rhetor with valid API keys for Anthropic, OpenAI, or ensure Ollama is running for local "
        'LLM access.\n\nThe system prompt was: "Be brief."'
    )
    long_prompt = "x" * 51
    assert simulated.message_text("m", "simulated-fast", long_prompt).endswith(
        f'\n\nThe system prompt was: "{"x" * 50}..."\n\nAs the fast simulation model, I would typically provide '
        "quicker but potentially less detailed responses."
    )
    assert simulated.message_text("m", "simulated-advanced").endswith(
        "more detailed and nuanced responses with better reasoning capabilities."
    )


def test_system_prompt_prefers_explicit_then_first_system_message() -> None:
    messages = [{"role": "system", "content": "from list"}, {"role": "user", "content": "u"}]
    assert simulated.system_prompt_of(messages) == "from list"
    assert simulated.system_prompt_of(messages, "explicit") == "explicit"
    assert simulated.system_prompt_of([{"role": "user", "content": "u"}]) is None


def test_chunk_sizes_per_model_and_split() -> None:
    assert [simulated.chunk_size(m) for m in ("simulated-fast", "simulated-standard", "simulated-advanced")] == [
        10,
        5,
        3,
    ]
    assert simulated.chunk_size("some-other-model") == 10
    assert simulated.split("abcdefgh", 3) == ["abc", "def", "gh"]
    assert simulated.split("", 3) == []


async def _kinds(text: str, faults: Faults) -> list[tuple[str, str]]:
    return [(p.kind, p.text) async for p in pieces(text, "simulated-fast", faults)]


async def test_script_applies_stream_faults_in_order() -> None:
    faults = Faults(chunk_delay=0.0, chunk_size=2, malformed_after_chunks=1, error_after_chunks=2)
    assert await _kinds("abcdef", faults) == [
        ("text", "ab"),
        ("malformed", ""),
        ("text", "cd"),
        ("error", faults.error_message),
    ]
    faults = Faults(chunk_delay=0.0, chunk_size=4, close_after_chunks=99)
    assert await _kinds("abcdef", faults) == [("text", "abcd"), ("text", "ef"), ("drop", "")]


def test_faults_patch_converts_lists_and_rejects_unknown_or_bad_values() -> None:
    faults = Faults()
    faults.patch({"fail_status": 503, "fail_times": 2, "text_500_paths": ["/a"], "reply": "fixed"})
    assert (faults.fail_status, faults.fail_times, faults.text_500_paths, faults.reply) == (503, 2, {"/a"}, "fixed")
    with pytest.raises(ValueError, match="unknown fault field: nope"):
        faults.patch({"fail_times": 5, "nope": 1})
    assert faults.fail_times == 2  # nothing applied from a rejected patch
    with pytest.raises(ValueError, match="reply"):
        faults.patch({"reply": 3})
    with pytest.raises(ValueError, match="fail_paths"):
        faults.patch({"fail_paths": "/x"})
    assert faults.to_json()["text_500_paths"] == ["/a"]


def test_faults_take_failure_counts_down_and_negative_means_forever() -> None:
    generation = frozenset({"/chat"})
    faults = Faults(fail_status=503, fail_times=2)
    assert [faults.take_failure("/chat", generation) for _ in range(3)] == [503, 503, None]
    assert faults.take_failure("/health", generation) is None
    forever = Faults(fail_status=429, fail_times=-1, fail_paths={"/health"})
    assert [forever.take_failure("/health", generation) for _ in range(5)] == [429] * 5
    assert forever.take_failure("/chat", generation) is None


def test_faults_restore_keeps_identity_and_copies_sets() -> None:
    defaults = Faults(chunk_delay=0.0, text_500_paths={"/x"})
    faults = Faults(not_initialized=True)
    held = faults
    faults.restore(defaults)
    assert held is faults and not faults.not_initialized and faults.chunk_delay == 0.0
    faults.text_500_paths.add("/y")
    assert defaults.text_500_paths == {"/x"}


def test_recorder_orders_requests_and_frames_and_hides_secrets_in_repr() -> None:
    recorder = Recorder()
    request = recorder.request("POST", "/chat", {}, {"authorization": "Bearer s3cret"}, b'{"a": 1}')
    frame = recorder.frame(recorder.connection(), "/ws", "not json")
    recorder.request("GET", "/health", {"x": "1"}, {}, b"plain")
    assert [request.seq, frame.seq] == [1, 2]
    assert request.body == {"a": 1} and recorder.requests[1].body == "plain"
    assert (frame.is_json, frame.data, frame.connection) == (False, "not json", 1)
    assert recorder.attempts("/chat") == 1
    assert "s3cret" not in repr(request) and "<redacted>" in repr(request)
    assert request.headers["authorization"] == "Bearer s3cret"
    recorder.clear()
    assert recorder.requests == [] and recorder.frames == []


def test_recorder_is_thread_safe() -> None:
    recorder = Recorder()

    def work() -> None:
        for _ in range(200):
            recorder.request("GET", "/p", {}, {}, b"")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = [r.seq for r in recorder.requests]
    assert seqs == list(range(1, 801))
