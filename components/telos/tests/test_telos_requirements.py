"""The requirement review flow: analysis and refinement answered by Rhetor, parsed into Telos's model."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from telos.core.requirements import (
    Requirement,
    RequirementAnalysisError,
    analyze_requirement_quality,
    refine_requirement,
)


def export_requirement() -> Requirement:
    return Requirement(
        requirement_id="REQ-7",
        title="Export reports",
        description="Users can export the monthly report.",
        priority="high",
        acceptance_criteria=["A download starts within the page"],
    )


def test_requirement_dict_uses_the_adapter_field_names() -> None:
    assert export_requirement().to_dict() == {
        "id": "REQ-7",
        "title": "Export reports",
        "description": "Users can export the monthly report.",
        "type": "functional",
        "priority": "high",
        "acceptance_criteria": ["A download starts within the page"],
    }


async def test_analysis_sends_the_requirement_and_reports_the_answer(rhetor_env: Any) -> None:
    report = await analyze_requirement_quality(export_requirement())

    assert report.requirement_id == "REQ-7"
    assert (
        'I received your message: "Please analyze this requirement:\n\n'
        "Requirement ID: REQ-7\nTitle: Export reports\nDescription: Users can export the monthly report.\n"
        "Type: functional\nPriority: high\nAcceptance Criteria:\n- A download starts within the page\n"
    ) in report.raw_response
    assert set(report.scores) == {"clarity", "completeness", "testability", "feasibility", "consistency"}


async def test_analysis_passes_project_context_last(rhetor_env: Any) -> None:
    report = await analyze_requirement_quality(export_requirement(), context="Field engineers work offline")

    expected = 'I received your message: "Consider this additional project context:\n\nField engineers work offline"'
    assert expected in report.raw_response


async def test_refinement_applies_the_title_proposed_in_the_answer(rhetor_env: Any) -> None:
    original = export_requirement()
    feedback = "Title: Export monthly reports as CSV\nKeep everything else."

    refined = await refine_requirement(original, feedback)

    # The simulated model quotes the feedback, so the answer carries the proposed title line.
    assert refined.title == "Export monthly reports as CSV"
    assert (refined.description, refined.priority) == (original.description, original.priority)
    assert refined.acceptance_criteria == original.acceptance_criteria
    assert [entry["action"] for entry in refined.history] == ["refined"]
    assert refined.history[0]["raw_response"].startswith('I received your message: "Here is the feedback')
    assert original.title == "Export reports"


async def test_adapter_errors_surface_as_analysis_errors() -> None:
    failure = {"success": False, "error": "requirement is not serializable", "raw_response": ""}
    with (
        mock.patch(
            "telos.core.llm_adapter.LLMAdapter.analyze_requirement", new=mock.AsyncMock(return_value=failure)
        ) as analyze,
        pytest.raises(RequirementAnalysisError, match="requirement is not serializable"),
    ):
        await analyze_requirement_quality(export_requirement(), context="ctx")

    analyze.assert_awaited_once_with(export_requirement().to_dict(), context="ctx")
