"""Hermes' analysis prompts and the line parsers that turn an answer into its legacy dicts (spec §2.5, A.2).

Hermes callers read the parsed keys, so the parsers must produce the same values from the same answer text; the
prompts are sent byte for byte because they shape the answer the parsers then read.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HERMES_SYSTEM_PROMPT",
    "PROMPT_MESSAGE_ANALYSIS",
    "PROMPT_SERVICE_ANALYSIS",
    "last_paragraph",
    "parse_message_analysis",
    "parse_service_analysis",
]

PROMPT_MESSAGE_ANALYSIS = (
    "\n            Analyze the following message that was sent through the Hermes message bus. "
    "\n            Extract key information such as:"
    "\n            1. Message purpose - What is the goal of this message?"
    "\n            2. Components involved - Which components are mentioned or interacting?"
    "\n            3. Data contents - What key data is being transmitted?"
    "\n            4. Priority - How urgent or important does this message appear to be?"
    "\n            "
    "\n            Provide a brief summary of what this message is trying to accomplish in the system."
    "\n            "
    "\n            Message:"
    "\n            "
)

PROMPT_SERVICE_ANALYSIS = (
    "\n            Analyze the following service registration in the Tekton platform. "
    "\n            Extract key information such as:"
    "\n            1. Service capabilities - What functionality does this service provide?"
    "\n            2. Dependencies - What other services might this service depend on?"
    "\n            3. Integration points - How would other services interact with this one?"
    "\n            4. Potential use cases - What problems does this service solve?"
    "\n            "
    "\n            Provide a brief summary of this service's role in the system."
    "\n            "
    "\n            Service Data:"
    "\n            "
)

HERMES_SYSTEM_PROMPT = (
    "You are a helpful assistant for the Hermes component in the Tekton platform. "
    "\n                Hermes provides message bus and service discovery capabilities for the Tekton system."
    "\n                You can help users understand how Hermes works, how services register and communicate,"
    "\n                and provide debugging assistance for message routing and service discovery issues."
)

_CLOSES_SUMMARY = ("purpose", "components", "data", "priority")


def last_paragraph(text: str) -> str:
    """The last non-blank paragraph (``"\\n\\n"``-separated), stripped; ``""`` when there is none."""
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    return paragraphs[-1].strip() if paragraphs else ""


def _after_colon(line: str) -> str:
    return line.split(":", 1)[1].strip()


_FIELDS = (
    ("purpose", ("purpose",), ("goal",)),
    ("data_summary", ("data", "content"), ()),
    ("priority", ("priority",), ()),
)
"""Single-line fields: (key, words that must all appear, alternatives that suffice alone); first match wins."""


class _MessageAnalysis:
    """The line-by-line state of ``parse_message_analysis``: single-line fields, the components list, the summary."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.components: list[str] = []
        self.summary = ""
        self.in_components = False
        self.in_summary = False

    def fields_of(self, line: str, lower: str) -> None:
        for key, required, alternatives in _FIELDS:
            named = all(word in lower for word in required) or any(word in lower for word in alternatives)
            if key not in self.fields and named:
                self.fields[key] = _after_colon(line)

    def components_of(self, line: str, lower: str, stripped: str) -> None:
        if "components" in lower and ":" in line:
            self.in_components = True
            listed = _after_colon(line)
            if listed:
                self.components = [part.strip() for part in listed.split(",")]
        elif self.in_components and stripped:
            if ":" in line:
                self.in_components = False
            elif stripped.startswith("-") and stripped[1:].strip():
                self.components.append(stripped[1:].strip())

    def summary_of(self, line: str, lower: str, stripped: str) -> None:
        if "summary" in lower and ":" in line:
            self.in_summary = True
            self.summary = _after_colon(line)
        elif self.in_summary and stripped:
            if ":" in line and any(word in lower for word in _CLOSES_SUMMARY):
                self.in_summary = False
            else:
                self.summary += " " + stripped


def parse_message_analysis(text: str) -> dict[str, Any]:
    """``{"purpose", "components", "data_summary", "priority", "summary", "full_analysis"}`` from an answer."""
    state = _MessageAnalysis()
    for line in text.split("\n"):
        lower, stripped = line.lower(), line.strip()
        if ":" in line:
            state.fields_of(line, lower)
        state.components_of(line, lower, stripped)
        state.summary_of(line, lower, stripped)
    return {
        "purpose": state.fields.get("purpose", "Unknown"),
        "components": state.components,
        "data_summary": state.fields.get("data_summary", "Unknown"),
        "priority": state.fields.get("priority", "Unknown"),
        "summary": state.summary or last_paragraph(text),
        "full_analysis": text,
    }


_SERVICE_HEADERS = (
    ("capabilities", "capabilities"),
    ("dependencies", "dependencies"),
    ("integration", "integration_points"),
    ("use case", "use_cases"),
)


def parse_service_analysis(text: str) -> dict[str, Any]:
    """``{"capabilities", "dependencies", "integration_points", "use_cases", "summary", "full_analysis"}``."""
    lists: dict[str, list[str]] = {section: [] for _, section in _SERVICE_HEADERS}
    summary = ""
    current: str | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        lower = line.lower()
        header = next((section for word, section in _SERVICE_HEADERS if word in lower and ":" in line), None)
        if header is not None:
            current = header
            continue
        if "summary" in lower and ":" in line:
            current = "summary"
            summary = _after_colon(line)
            continue
        if current == "summary":
            summary += " " + line
        elif current is not None and line.startswith("-"):
            lists[current].append(line[1:].strip())
    if not summary:
        summary = last_paragraph(text)
    return {**lists, "summary": summary, "full_analysis": text}
