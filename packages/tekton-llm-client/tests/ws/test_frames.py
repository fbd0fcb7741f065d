"""The WebSocket frame codec on its own: frames the test servers never send, and request shapes per dialect."""

from __future__ import annotations

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client._dialects.ws_frames import codec_for
from tekton_llm_client._request import LLMRequest

REQUEST = LLMRequest(messages=[{"role": "user", "content": "q"}], context_id="c:1")


def test_v1_frames() -> None:
    v1 = codec_for("v1", "demo")
    assert v1.decode({"type": "stream_complete"}, REQUEST).end
    error = v1.decode({"type": "error", "error": "bad"}, REQUEST)
    assert (error.end, error.error, error.discard) == (True, "bad", False)
    chunk_error = v1.decode({"error": "boom", "context": "c:1", "done": True}, REQUEST)
    assert (chunk_error.end, chunk_error.error) == (False, "boom")  # stream_complete still follows
    text = v1.decode({"content": "hi", "done": False, "error": None, "model": "m", "provider": "p"}, REQUEST)
    assert text.event is not None and (text.event.text, text.event.model, text.event.provider) == ("hi", "m", "p")
    assert v1.decode({"something": "else"}, REQUEST).skip
    with pytest.raises(exc.ProtocolError):
        v1.decode(["not", "an", "object"], REQUEST)


def test_classic_unsupported_type_keeps_the_socket_other_errors_do_not() -> None:
    classic = codec_for("classic", "demo")
    unsupported = classic.decode({"type": "ERROR", "payload": {"error": "Unsupported request type: X"}}, REQUEST)
    assert unsupported.end and not unsupported.discard
    fatal = classic.decode({"type": "ERROR", "payload": {"error": "KeyError: 'messages'"}}, REQUEST)
    assert fatal.end and fatal.discard
    adapter = codec_for("adapter", "demo")
    assert not adapter.decode({"type": "ERROR", "payload": {"error": "Error processing request"}}, REQUEST).discard


def test_classic_skips_typing_and_system_replies() -> None:
    classic = codec_for("classic", "demo")
    typing_off = {"type": "UPDATE", "source": "LLM", "payload": {"status": "typing", "isTyping": False}}
    assert classic.decode(typing_off, REQUEST).skip
    status = {"type": "RESPONSE", "source": "SYSTEM", "payload": {"status": "ok", "message": "running"}}
    assert classic.decode(status, REQUEST).skip
    answer = {"type": "RESPONSE", "source": "LLM", "payload": {"message": "text", "model": "m"}}
    decoded = classic.decode(answer, REQUEST)
    assert decoded.end and decoded.event is not None and decoded.event.text == "text"
    failed = {"type": "RESPONSE", "source": "LLM", "payload": {"error": "no provider", "context": "c"}}
    assert classic.decode(failed, REQUEST).error == "no provider"
    last = {"type": "UPDATE", "payload": {"chunk": "tail", "done": True}}
    decoded = classic.decode(last, REQUEST)
    assert decoded.end and decoded.event is not None and decoded.event.text == "tail"


def test_request_frames_per_dialect() -> None:
    request = LLMRequest(
        messages=[{"role": "user", "content": "q"}],
        system_prompt="S.",
        model="m",
        provider="p",
        temperature=0.0,
        max_tokens=5,
        context_id="c:1",
        component="demo",
        stream=True,
        extra={"fallback_provider": "ollama"},
    )
    v1 = codec_for("v1", "demo").request_frame(request)
    assert "type" not in v1 and "provider" not in v1
    assert (v1["system_prompt"], v1["model"], v1["temperature"], v1["max_tokens"]) == ("S.", "m", 0.0, 5)
    classic = codec_for("classic", "demo").request_frame(request, single_message=True)
    assert classic["type"] == "CHAT_REQUEST"  # a system prompt needs the message list
    assert classic["payload"]["options"] == {
        "provider": "p", "model": "m", "options": {"temperature": 0.0, "max_tokens": 5, "fallback_provider": "ollama"},
    }
    adapter = codec_for("adapter", "demo").request_frame(request)
    assert adapter["type"] == "LLM_REQUEST"
    assert adapter["payload"]["options"] == {"model": "m", "temperature": 0.0, "max_tokens": 5}


def test_unknown_dialect() -> None:
    with pytest.raises(exc.ConfigurationError):
        codec_for("v2", "demo")
