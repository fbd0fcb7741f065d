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


def parse_message_analysis(text: str) -> dict[str, Any]:
    """``{"purpose", "components", "data_summary", "priority", "summary", "full_analysis"}`` from an answer."""
    purpose: str | None = None
    data_summary: str | None = None
    priority: str | None = None
    components: list[str] = []
    summary = ""
    in_components = False
    in_summary = False
    for line in text.split("\n"):
        lower = line.lower()
        stripped = line.strip()
        has_colon = ":" in line
        if purpose is None and has_colon and ("purpose" in lower or "goal" in lower):
            purpose = _after_colon(line)
        if data_summary is None and has_colon and "data" in lower and "content" in lower:
            data_summary = _after_colon(line)
        if priority is None and has_colon and "priority" in lower:
            priority = _after_colon(line)

        if "components" in lower and has_colon:
            in_components = True
            listed = _after_colon(line)
            if listed:
                components = [part.strip() for part in listed.split(",")]
        elif in_components and stripped:
            if has_colon:
                in_components = False
            elif stripped.startswith("-"):
                item = stripped[1:].strip()
                if item:
                    components.append(item)

        if "summary" in lower and has_colon:
            in_summary = True
            summary = _after_colon(line)
        elif in_summary and stripped:
            if has_colon and any(word in lower for word in _CLOSES_SUMMARY):
                in_summary = False
            else:
                summary += " " + stripped

    if not summary:
        summary = last_paragraph(text)
    return {
        "purpose": "Unknown" if purpose is None else purpose,
        "components": components,
        "data_summary": "Unknown" if data_summary is None else data_summary,
        "priority": "Unknown" if priority is None else priority,
        "summary": summary,
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
