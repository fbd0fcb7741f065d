"""The terminal WebSocket: one handler per browser tab, dispatching messages by their ``type``.

``llm_assist`` asks the LLM to explain a command (or its output) for the user's session; the loading message is
sent first so the UI can show a spinner while the model answers. Output analysis without captured output (no
``"\nOutput:\n"`` in the text) still goes to ``analyze_output``, with ``""`` as the output, as in the real Terma.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from fastapi import WebSocket, WebSocketDisconnect

logger = logging.getLogger("terma")

LOADING_TEXT = "Analyzing command and generating response..."
EMPTY_COMMAND_TEXT = "Please provide a command to explain."
OUTPUT_MARKER = "\nOutput:\n"


class TerminalWebSocketHandler:
    """Serves one terminal session's socket until the client disconnects."""

    def __init__(self, websocket: WebSocket, session_id: str) -> None:
        self.websocket = websocket
        self.session_id = session_id

    async def run(self) -> None:
        await self.websocket.accept()
        try:
            while True:
                message: Dict[str, Any] = await self.websocket.receive_json()
                await self._dispatch(message)
        except WebSocketDisconnect:
            logger.info("Terminal session %s disconnected", self.session_id)

    async def _dispatch(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping":
            await self.websocket.send_json({"type": "pong", "session_id": self.session_id})
        elif kind == "llm_assist":
            await self._handle_llm_request(message)
        else:
            await self.websocket.send_json({"type": "error", "message": f"Unknown message type: {kind}"})

    async def _handle_llm_request(self, message: Dict[str, Any]) -> None:
        from ..core.llm_adapter import LLMAdapter

        text = str(message.get("command", ""))
        is_output_analysis = bool(message.get("is_output_analysis", False))
        if not is_output_analysis:
            text = text.strip().removeprefix("?").strip()
            if not text:
                await self._send_llm_response(EMPTY_COMMAND_TEXT, loading=False)
                return
        await self._send_llm_response(LOADING_TEXT, loading=True)
        llm_adapter = LLMAdapter()
        if is_output_analysis:
            command, marker, output = text.partition(OUTPUT_MARKER)
            if marker:
                result = await llm_adapter.analyze_output(self.session_id, command.strip(), output)
            else:
                # The UI sent a command without captured output: explain what its output would be.
                result = await llm_adapter.analyze_output(self.session_id, text.strip(), "")
        else:
            result = await llm_adapter.analyze_command(self.session_id, text)
        await self._send_llm_response(result or "", loading=False)

    async def _send_llm_response(self, content: str, *, loading: bool) -> None:
        await self.websocket.send_json({"type": "llm_response", "content": content, "loading": loading})
