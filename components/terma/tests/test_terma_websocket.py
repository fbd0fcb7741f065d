"""The terminal socket's ``llm_assist`` message, end to end: Terma on a real socket, answers from Rhetor."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest import mock

import pytest
from websockets.asyncio.client import ClientConnection, connect

LOADING = {"type": "llm_response", "content": "Analyzing command and generating response...", "loading": True}


async def receive(ws: ClientConnection) -> Any:
    # Guard against a hang only; nothing here asserts on timing.
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=30))


async def assist(base: str, session_id: str, request: dict[str, Any]) -> list[Any]:
    async with connect(f"{base}/ws/{session_id}") as ws:
        await ws.send(json.dumps({"type": "llm_assist", **request}))
        first = await receive(ws)
        return [first] if not first["loading"] else [first, await receive(ws)]


async def test_llm_assist_explains_a_command(rhetor_env: Any, terma_ws_base: str) -> None:
    frames = await assist(terma_ws_base, "tab-1", {"command": "?ls -la /var/log"})

    assert frames[0] == LOADING
    assert frames[1]["loading"] is False
    assert 'I received your message: "Please explain this command concisely: ls -la /var/log"' in frames[1]["content"]


async def test_llm_assist_explains_command_output(rhetor_env: Any, terma_ws_base: str) -> None:
    text = "tail -n 2 app.log\nOutput:\nERROR disk full\nINFO retrying"

    frames = await assist(terma_ws_base, "tab-2", {"command": text, "is_output_analysis": True})

    expected = "Please explain the output of this command: tail -n 2 app.log\n\nOutput:\nERROR disk full\nINFO retrying"
    assert frames[0] == LOADING
    assert f'I received your message: "{expected}"' in frames[1]["content"]


async def test_llm_assist_output_analysis_without_captured_output(rhetor_env: Any, terma_ws_base: str) -> None:
    frames = await assist(terma_ws_base, "tab-6", {"command": " make build ", "is_output_analysis": True})

    expected = "Please explain the output of this command: make build\n\nOutput:\n"
    assert frames[0] == LOADING
    assert f'I received your message: "{expected}"' in frames[1]["content"]


async def test_llm_assist_uses_model_from_terma_configuration(
    rhetor_env: Any, terma_ws_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMA_LLM_MODEL", "simulated-advanced")

    frames = await assist(terma_ws_base, "tab-3", {"command": "df -h"})

    assert "df -h" in frames[1]["content"]
    assert "As the advanced simulation model" in frames[1]["content"]


async def test_empty_command_is_answered_locally_and_socket_stays_usable(terma_ws_base: str) -> None:
    async with connect(f"{terma_ws_base}/ws/tab-4") as ws:
        await ws.send(json.dumps({"type": "llm_assist", "command": "  ? "}))
        answer = await receive(ws)
        await ws.send(json.dumps({"type": "ping"}))
        pong = await receive(ws)
        await ws.send(json.dumps({"type": "resize-ish"}))
        error = await receive(ws)

    assert answer == {"type": "llm_response", "content": "Please provide a command to explain.", "loading": False}
    assert pong == {"type": "pong", "session_id": "tab-4"}
    assert error == {"type": "error", "message": "Unknown message type: resize-ish"}


async def test_llm_assist_hands_session_and_cleaned_command_to_adapter(terma_ws_base: str) -> None:
    explain = mock.AsyncMock(return_value="git status shows the working tree state")
    with mock.patch("terma.core.llm_adapter.LLMAdapter.analyze_command", new=explain):
        frames = await assist(terma_ws_base, "tab-5", {"command": "? git status "})

    explain.assert_awaited_once_with("tab-5", "git status")
    assert frames[1] == {
        "type": "llm_response",
        "content": "git status shows the working tree state",
        "loading": False,
    }
