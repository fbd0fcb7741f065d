"""Telos' requirement prompts and the parsers that read the answers (spec §3.1–§3.3, A.3, A.4, A.6).

Telos callers consume the parsed structures, so each parser reproduces the legacy rules exactly, quirks included
(regexes that match anywhere, case-sensitive v1 headers, bullets found mid-line). Prompts are sent as specified
because they shape the answers the parsers read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ACCEPTANCE_PROMPT",
    "ACCEPTANCE_SYSTEM",
    "CONFLICTS_PROMPT",
    "CONFLICTS_SYSTEM",
    "PROMPT_V1_ANALYZE",
    "PROMPT_V1_FEEDBACK",
    "PROMPT_V1_REFINE",
    "PROMPT_V1_TASK",
    "SYS_V2_ANALYZE",
    "SYS_V2_REFINE",
    "VALIDATION_PROMPT",
    "VALIDATION_SYSTEM",
    "acceptance_prompt",
    "bullets",
    "numbered_criteria",
    "parse_acceptance_criteria",
    "parse_conflicts",
    "parse_refined_requirement",
    "parse_requirement_analysis",
    "parse_v1_analysis",
    "parse_v1_refinement",
    "parse_validation",
    "requirement_text",
    "requirements_list",
]

# -- v1 prompts (A.3) -------------------------------------------------------------------------------------------

PROMPT_V1_ANALYZE = (
    "\n            Analyze the following software requirement. Evaluate it for:"
    "\n            1. Clarity - Is the requirement clear and unambiguous?"
    "\n            2. Completeness - Does it contain all necessary information?"
    "\n            3. Testability - Can it be verified by testing?"
    "\n            4. Feasibility - Can it be implemented with available resources?"
    "\n            "
    "\n            For each criterion, provide a score from 0 to 10 and explain your reasoning."
    "\n            Then provide specific suggestions for improvement."
    "\n            "
    "\n            Requirement:"
    "\n            "
)
PROMPT_V1_REFINE = (
    "\n            I have a software requirement that needs refinement based on feedback."
    "\n            "
    "\n            Original requirement:"
    "\n            "
)
PROMPT_V1_FEEDBACK = "\n            Feedback received:\n            "
PROMPT_V1_TASK = (
    "\n            Please create an improved version of the requirement that addresses the feedback."
    "\n            Your response should be in the following format:"
    "\n            "
    "\n            Improved Requirement: [improved requirement text]"
    "\n            "
    "\n            Changes Made:"
    "\n            - [list of specific changes]"
    "\n            "
    "\n            Additional Notes:"
    "\n            [any additional notes or explanations]"
    "\n            "
)

# -- v2 system prompts (A.4) ------------------------------------------------------------------------------------

SYS_V2_ANALYZE = (
    "\n        You are an AI assistant specialized in requirements engineering. "
    "\n        Analyze the requirement and evaluate it based on the following quality criteria:"
    "\n        "
    "\n        1. Clarity: Is the requirement clear and unambiguous?"
    "\n        2. Completeness: Does the requirement include all necessary information?"
    "\n        3. Testability: Can the requirement be verified or tested objectively?"
    "\n        4. Feasibility: Is the requirement technically and practically achievable?"
    "\n        5. Consistency: Is the requirement free from contradictions?"
    "\n        "
    "\n        Provide a score from 1-5 for each criterion, where 1 is poor and 5 is excellent."
    "\n        Also provide specific suggestions for improvement and potential issues to address."
    "\n        "
)
SYS_V2_REFINE = (
    "\n        You are an AI assistant specialized in requirements engineering."
    "\n        Your task is to refine a requirement based on feedback provided by the user."
    "\n        "
    "\n        Ensure the refined requirement is:"
    "\n        1. Clear and unambiguous"
    "\n        2. Complete with all necessary information"
    "\n        3. Testable and verifiable"
    "\n        4. Feasible and realistic"
    "\n        5. Consistent and non-contradictory"
    "\n        "
    "\n        Return the refined requirement in the same format it was provided, with improved content."
    "\n        Do not invent technical details that aren't at least implied by the original requirement or feedback."
    "\n        "
)

# -- post-migration templates (A.6), rendered with str.format -----------------------------------------------------

VALIDATION_PROMPT = """Please validate the following requirement against the provided criteria:

{requirement_text}

Validation Criteria:
{validation_criteria}

For each criterion, provide a PASS or FAIL assessment with a brief explanation.
If a criterion is not applicable, mark it as N/A.

For failed criteria, provide specific recommendations to address the issues."""

VALIDATION_SYSTEM = """You are an AI assistant specialized in requirements validation.
Your task is to systematically evaluate requirements against defined validation criteria.
Provide objective PASS/FAIL assessments with brief explanations.
For failed criteria, offer specific, actionable recommendations to address the issues."""

CONFLICTS_PROMPT = (
    "Analyze the following set of requirements and identify any potential conflicts, inconsistencies, "
    "or dependencies:\n"
) + """
{requirements_list}

For each pair of conflicting requirements, provide:
1. The IDs of the conflicting requirements
2. Description of the conflict
3. Recommendation for resolving the conflict

Format your response as a structured analysis of conflicts and dependencies.
If no conflicts are found, explicitly state that no conflicts were detected."""

CONFLICTS_SYSTEM = """You are an AI assistant specialized in requirements engineering and conflict analysis.
Your task is to identify conflicts, inconsistencies, and dependencies between requirements.
Focus on logical contradictions, technical incompatibilities, resource conflicts, and timing issues.
Provide specific, actionable recommendations for resolving any identified conflicts."""

ACCEPTANCE_PROMPT = """Generate comprehensive acceptance criteria for the following requirement:

{requirement_text}

{context_block}The acceptance criteria should:
1. Be specific and measurable
2. Cover all aspects of the requirement
3. Be testable
4. Use clear, consistent terminology

Format your response as a bulleted list of acceptance criteria. """ + (
    "Each criterion should start with a verb and describe a specific condition that must be met."
)

ACCEPTANCE_SYSTEM = """You are an AI assistant specialized in requirements engineering.
Your task is to generate comprehensive acceptance criteria for requirements.
Each criterion should be specific, measurable, testable, and clearly stated.
Use consistent terminology and follow best practices for acceptance criteria."""


def acceptance_prompt(requirement: Mapping[str, Any], context: str | None) -> str:
    """The acceptance-criteria prompt; the context block appears only for a truthy ``context``."""
    block = f"Additional project context:\n{context}\n\n" if context else ""
    return ACCEPTANCE_PROMPT.format(
        requirement_text=requirement_text(requirement, with_criteria=False), context_block=block
    )


# -- requirement texts ------------------------------------------------------------------------------------------

_FIELDS = (("Requirement ID", "id"), ("Title", "title"), ("Description", "description"), ("Type", "type"),
           ("Priority", "priority"))


def requirement_text(requirement: Mapping[str, Any], *, with_criteria: bool = True) -> str:
    """The five labelled lines (``N/A`` for absent keys), then the acceptance criteria as ``- `` lines."""
    text = "".join(f"{label}: {requirement.get(key, 'N/A')}\n" for label, key in _FIELDS)
    criteria = requirement.get("acceptance_criteria") if with_criteria else None
    if criteria:
        text += "Acceptance Criteria:\n" + "".join(f"- {item}\n" for item in criteria)
    return text


def requirements_list(requirements: Sequence[Mapping[str, Any]]) -> str:
    """The numbered requirement blocks of the conflict-detection prompt."""
    blocks = []
    for number, requirement in enumerate(requirements, 1):
        block = f"Requirement {number}:\nID: {requirement.get('id', 'N/A')}\n"
        block += "".join(f"{label}: {requirement.get(key, 'N/A')}\n" for label, key in _FIELDS[1:])
        criteria = requirement.get("acceptance_criteria")
        if criteria:
            block += "Acceptance Criteria:\n" + "".join(f"- {item}\n" for item in criteria)
        blocks.append(block + "\n")
    return "".join(blocks)


def numbered_criteria(criteria: Sequence[str]) -> str:
    """``"1. <c1>\\n2. <c2>\\n…"``."""
    return "".join(f"{number}. {criterion}\n" for number, criterion in enumerate(criteria, 1))


# -- v1 parsers -------------------------------------------------------------------------------------------------

_V1_CRITERIA = ("Clarity", "Completeness", "Testability", "Feasibility")


def _v1_score(text: str, criterion: str) -> float:
    for pattern in (rf"{criterion}:\s*(\d+)(?:/10)?", rf"{criterion}\s*-\s*(\d+)(?:/10)?",
                    rf"{criterion} score:?\s*(\d+)(?:/10)?"):
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return float(match.group(1))
    return 5.0


def parse_v1_analysis(text: str) -> dict[str, Any]:
    """``{"score", "analysis", "suggestions", "scores"}``; each criterion scores 0–10 (5.0 when absent)."""
    scores = {criterion.lower(): _v1_score(text, criterion) for criterion in _V1_CRITERIA}
    suggestions: list[str] = []
    lowered = text.lower()
    if "suggestion" in lowered or "improve" in lowered:
        for line in text.split("\n"):
            stripped = line.strip()
            if stripped.startswith(("-", "*")):
                suggestions.append(stripped[1:].strip())
    return {"score": sum(scores.values()) / 40.0, "analysis": text, "suggestions": suggestions, "scores": scores}


def parse_v1_refinement(text: str) -> dict[str, Any]:
    """``{"refined_text", "changes", "notes"}`` from the three case-sensitive section headers."""
    refined = ""
    changes: list[str] = []
    notes = ""
    section: str | None = None
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("Improved Requirement:"):
            section = "requirement"
            refined = line.split(":", 1)[1].strip()
        elif line.startswith("Changes Made:"):
            section = "changes"
        elif line.startswith("Additional Notes:"):
            section = "notes"
        elif section == "requirement":
            if line and not line.startswith("-"):
                refined = f"{refined}\n{line}" if refined else line
        elif section == "changes":
            if line.startswith("-"):
                changes.append(line[1:].strip())
        elif section == "notes":
            notes = f"{notes}\n{line}" if notes else line
    return {"refined_text": refined, "changes": changes, "notes": notes}


# -- v2 parsers -------------------------------------------------------------------------------------------------

_V2_CRITERIA = ("clarity", "completeness", "testability", "feasibility", "consistency")


def bullets(text: str) -> list[str]:
    """Items started by any ``-`` or ``*`` (not only at line starts), each running to the end of its line."""
    return [item.strip() for item in re.findall(r"[-*]\s*(.*?)(?:\n|$)", text) if item.strip()]


def _section(pattern: str, text: str) -> list[str]:
    match = re.search(pattern, text, re.IGNORECASE | re.DOTALL)
    return bullets(match.group(1).strip()) if match else []


def parse_requirement_analysis(text: str) -> dict[str, Any]:
    """``{"scores", "suggestions", "issues", "overall_score"}`` (scores 1–5, 0 when absent)."""
    try:
        scores: dict[str, int] = {}
        for name in _V2_CRITERIA:
            match = re.search(rf"{name}:?\s*(\d+)[/\s]*5", text, re.IGNORECASE)
            scores[name] = int(match.group(1)) if match else 0
        return {
            "scores": scores,
            "suggestions": _section(r"suggestions?:(.*?)(?:issues:|$)", text),
            "issues": _section(r"issues?:(.*?)(?:suggestions?:|$)", text),
            "overall_score": sum(scores.values()) / len(scores),
        }
    except Exception as error:
        return {"scores": {}, "suggestions": [], "issues": [], "parsing_error": str(error)}


_REFINED_FIELDS = (
    ("title", r"title:?\s*(.+?)(?:\n|$)", 0),
    ("description", r"description:?\s*(.*?)(?:type:|priority:|acceptance criteria:|$)", re.DOTALL),
    ("type", r"type:?\s*(.+?)(?:\n|$)", 0),
    ("priority", r"priority:?\s*(.+?)(?:\n|$)", 0),
)


def parse_refined_requirement(text: str, original: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``original`` with every field the answer names replaced (the original on error)."""
    try:
        refined = dict(original)
        for key, pattern, flags in _REFINED_FIELDS:
            match = re.search(pattern, text, re.IGNORECASE | flags)
            if match:
                refined[key] = match.group(1).strip()
        match = re.search(r"acceptance criteria:?(.*?)(?:$)", text, re.IGNORECASE | re.DOTALL)
        if match:
            criteria = bullets(match.group(1).strip())
            if criteria:
                refined["acceptance_criteria"] = criteria
        return refined
    except Exception:
        return dict(original)


# -- post-migration parsers -------------------------------------------------------------------------------------


def parse_validation(text: str, criteria: Sequence[str]) -> dict[str, Any]:
    """``{criterion: {"pass", "explanation", "recommendations"}}`` for the criteria the answer mentions."""
    try:
        keys = [(criterion, criterion.split(":")[0].strip() if ":" in criterion else criterion)
                for criterion in criteria]
        results: dict[str, Any] = {}
        current: dict[str, Any] | None = None
        for raw in text.split("\n"):
            line = raw.strip()
            if not line:
                continue
            lower = line.lower()
            matched = next((criterion for criterion, key in keys if key and key.lower() in lower), None)
            if matched is not None:
                current = {"pass": "pass" in lower and "fail" not in lower, "explanation": "", "recommendations": []}
                results[matched] = current
            elif current is not None:
                if "recommend" in lower or "suggest" in lower:
                    current["recommendations"].append(line.split(":", 1)[1].strip() if ":" in line else line)
                else:
                    current["explanation"] = f"{current['explanation']} {line}" if current["explanation"] else line
        return results
    except Exception:
        return {}


_CONFLICT_IDS = re.compile(r"(?:conflict between|between).*?([a-zA-Z0-9\-_]+).*?and.*?([a-zA-Z0-9\-_]+)", re.IGNORECASE)


def parse_conflicts(text: str) -> list[dict[str, Any]]:
    """Conflicts from ``"\\n\\n"`` sections: one per section naming a conflict "between" two ids."""
    conflicts: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for section in text.split("\n\n"):
        lower = section.lower()
        if "conflict" in lower and "between" in lower:
            if current is not None:
                conflicts.append(current)
            match = _CONFLICT_IDS.search(section)
            current = {
                "requirement_ids": [match.group(1), match.group(2)] if match else [],
                "description": section.strip(),
                "recommendation": "",
            }
        elif current is not None and "recommend" in lower:
            current["recommendation"] = section.strip()
    if current is not None:
        conflicts.append(current)
    return conflicts


def parse_acceptance_criteria(text: str) -> list[str]:
    """Bulleted items (``-``, ``*`` or ``•``); without any, every non-heading non-empty line."""
    items = [item.strip() for item in re.findall(r"[-*•]\s*(.*?)(?:\n|$)", text) if item.strip()]
    if items:
        return items
    return [line.strip() for line in text.split("\n") if line.strip() and not line.startswith("#")]
