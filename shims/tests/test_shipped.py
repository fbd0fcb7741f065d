"""Every shim against Rhetor v1 as shipped (what production runs): HTTP chat answers 500, the client moves to WS.

The switch happens once per shared client, so adapters built per request (Terma, Engram) pay it once and log its
WARNING once. Requests then travel as WebSocket frames; the tests read them there.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
from tekton_llm_client.testing import RhetorTestServer
from tekton_llm_shims import engram, hermes, telos, terma

SWITCH_WARNING = "generating over WebSocket"
TERMA_SYSTEM = (
    "You are a terminal assistant that helps users with command-line tasks. Provide concise explanations and "
    "suggestions for terminal commands. Focus on being helpful, accurate, and security-conscious."
)
MODELS_FALLBACK = {
    "anthropic": [
        {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
    ]
}


def request_frames(server: RhetorTestServer) -> list[dict[str, Any]]:
    """The generation requests the server received over its WebSocket."""
    return [frame.data for frame in server.ws_frames if isinstance(frame.data, dict) and "messages" in frame.data]


def switches(caplog: pytest.LogCaptureFixture) -> int:
    return sum(SWITCH_WARNING in record.getMessage() for record in caplog.records)


async def test_terma_per_request_adapters_switch_once(
    shipped: RhetorTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    answers = []
    with caplog.at_level("WARNING", logger="tekton_llm_client"):
        for command in ("ls", "df -h", "uptime"):
            adapter = terma.LLMAdapter()  # as Terma's routes do: one per request, dropped afterwards
            answers.append(str(await adapter.analyze_command("tab", command)))
            del adapter
            gc.collect()

    for command, answer in zip(("ls", "df -h", "uptime"), answers, strict=True):
        assert f'I received your message: "Please explain this command concisely: {command}"' in answer
    assert switches(caplog) == 1
    assert shipped.attempts("/api/v1/chat") == 1  # the broken route is tried once, then the socket carries all
    assert shipped.attempts("/health") == 1
    frames = request_frames(shipped)
    assert len(frames) == 3
    assert frames[0]["system_prompt"] == TERMA_SYSTEM
    assert (frames[0]["temperature"], frames[0]["max_tokens"], frames[0]["context_id"]) == (0.7, 500, "terma")


async def test_terma_stream_and_output_analysis(shipped: RhetorTestServer) -> None:
    adapter = terma.LLMAdapter()
    chunks: list[str] = []

    await adapter.stream_command_analysis("tab", "pwd", chunks.append)
    output = str(await adapter.analyze_output("tab", "pwd", ""))

    assert len(chunks) > 1 and 'I received your message: "Please explain this command concisely: pwd"' in "".join(
        chunks
    )
    assert 'I received your message: "Please explain the output of this command: pwd\n\nOutput:\n"' in output
    assert await adapter.get_available_providers() == adapter.config.get_all_llm_providers()  # v1: no listing


async def test_hermes_chat_and_streaming_chat(shipped: RhetorTestServer) -> None:
    adapter = hermes.LLMAdapter()  # Hermes' pattern: one adapter for the process
    calls: list[dict[str, Any]] = []

    answer = await adapter.chat("What is Hermes?", [{"role": "user", "content": "earlier"}])
    await adapter.streaming_chat("stream it", calls.append)

    assert answer["success"] is True
    assert 'I received your message: "What is Hermes?". I see a conversation with 2 messages.' in answer["message"]
    assert calls[-1] == {"done": True} and [call["done"] for call in calls].count(True) == 1
    assert 'I received your message: "stream it"' in "".join(call["chunk"] for call in calls[:-1])
    assert request_frames(shipped)[0]["system_prompt"].startswith("You are a helpful assistant for the Hermes")
    providers = await adapter.get_available_providers()
    assert list(providers) == ["anthropic"] and providers["anthropic"]["models"][0]["name"] == "Default Model"


async def test_hermes_provider_error_before_and_after_chunks(shipped: RhetorTestServer) -> None:
    adapter = hermes.LLMAdapter()
    shipped.faults.error_in_200 = True
    refused = await adapter.chat("hi")
    before: list[dict[str, Any]] = []
    await adapter.streaming_chat("hi", before.append)
    shipped.faults.error_in_200 = False
    shipped.faults.error_after_chunks = 2
    after: list[dict[str, Any]] = []
    await adapter.streaming_chat("hi", after.append)

    trouble = "I'm having trouble connecting to my language model service."
    assert refused == {"message": trouble + " Please try again later.", "success": False}
    assert before == [{"chunk": trouble, "error": "Anthropic Claude is not available.", "done": True}]
    assert [call["done"] for call in after] == [False, False, True]
    assert after[-1] == {"chunk": "", "error": "Anthropic Claude is not available.", "done": True}


async def test_telos_chat_stream_and_analysis(shipped: RhetorTestServer) -> None:
    adapter = telos.LLMAdapter()

    text = await adapter.chat([{"role": "user", "content": "hello telos"}], system_prompt="Be terse.")
    stream = await adapter.chat([{"role": "user", "content": "stream telos"}], stream=True)
    assert not isinstance(stream, str)
    pieces = [piece async for piece in stream]
    analysis = await adapter.analyze_requirement({"id": "R1", "title": "Login"}, context="web shop")
    shipped.faults.error_after_chunks = 1
    broken = [piece async for piece in adapter._stream_chat([{"role": "user", "content": "x"}])]

    assert 'I received your message: "hello telos"' in str(text)
    assert len(pieces) > 1 and 'I received your message: "stream telos"' in "".join(pieces)
    assert analysis["success"] is True
    assert 'I received your message: "Consider this additional project context:\n\nweb shop"' in (
        analysis["raw_response"]
    )
    assert broken[-1] == "Error: Anthropic Claude is not available." and len(broken) == 2


async def test_engram_endpoint_call_sites(shipped: RhetorTestServer) -> None:
    adapter = engram.LLMAdapter()  # Engram's Depends: a new adapter per request

    text = await adapter.chat(messages=[{"role": "user", "content": "recall"}], temperature=None, max_tokens=None)
    pieces = [p async for p in adapter._stream_chat(messages=[{"role": "user", "content": "stream recall"}])]
    client = await adapter._get_client()
    direct = await client.generate_text("direct recall")
    models_now = adapter.get_available_models()
    models_awaited = await adapter.get_available_models()

    assert 'I received your message: "recall"' in str(text)
    assert 'I received your message: "stream recall"' in "".join(pieces)
    assert 'I received your message: "direct recall"' in direct.content
    assert models_now == models_awaited == MODELS_FALLBACK  # v1 as shipped answers its model listing with 500
    assert shipped.attempts("/api/v1/chat") == 1
