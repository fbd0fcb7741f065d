"""Requirements and their LLM-assisted review: quality analysis and refinement from stakeholder feedback.

The LLM adapter is imported when an analysis runs, so projects that never ask the LLM do not load it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


class RequirementAnalysisError(RuntimeError):
    """The adapter could not even build or parse the request (not raised for an unreachable LLM)."""


@dataclass
class Requirement:
    requirement_id: str
    title: str
    description: str
    requirement_type: str = "functional"
    priority: str = "medium"
    acceptance_criteria: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The shape the LLM adapter (and Telos's REST API) use for a requirement."""
        return {
            "id": self.requirement_id,
            "title": self.title,
            "description": self.description,
            "type": self.requirement_type,
            "priority": self.priority,
            "acceptance_criteria": list(self.acceptance_criteria),
        }


@dataclass
class QualityReport:
    requirement_id: str
    scores: dict[str, int]
    overall_score: float
    suggestions: list[str]
    issues: list[str]
    raw_response: str

    @property
    def needs_attention(self) -> bool:
        """Scores run from 1 to 5; below 3 on average means a reviewer should look at it."""
        return self.overall_score < 3


async def analyze_requirement_quality(requirement: Requirement, context: str | None = None) -> QualityReport:
    from telos.core.llm_adapter import LLMAdapter

    result = await LLMAdapter().analyze_requirement(requirement.to_dict(), context=context)
    if not result["success"]:
        raise RequirementAnalysisError(result["error"])
    analysis = result["analysis"]
    return QualityReport(
        requirement_id=requirement.requirement_id,
        scores=dict(analysis.get("scores", {})),
        overall_score=float(analysis.get("overall_score", 0.0)),
        suggestions=list(analysis.get("suggestions", [])),
        issues=list(analysis.get("issues", [])),
        raw_response=result["raw_response"],
    )


async def refine_requirement(requirement: Requirement, feedback: str) -> Requirement:
    """Return a new version of ``requirement`` with the LLM's refinement applied and the exchange recorded."""
    from telos.core.llm_adapter import LLMAdapter

    result = await LLMAdapter().refine_requirement(requirement.to_dict(), feedback)
    if not result["success"]:
        raise RequirementAnalysisError(result["error"])
    refined = result["refined_requirement"]
    return replace(
        requirement,
        title=refined.get("title", requirement.title),
        description=refined.get("description", requirement.description),
        requirement_type=refined.get("type", requirement.requirement_type),
        priority=refined.get("priority", requirement.priority),
        acceptance_criteria=list(refined.get("acceptance_criteria", requirement.acceptance_criteria)),
        history=[
            *requirement.history,
            {"action": "refined", "feedback": feedback, "raw_response": result["raw_response"]},
        ],
    )
