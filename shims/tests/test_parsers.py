"""The legacy answer parsers on hand-written answers; expected values follow the rules of legacy-adapters.md."""

from __future__ import annotations

from tekton_llm_shims._hermes_analysis import parse_message_analysis, parse_service_analysis
from tekton_llm_shims._telos_analysis import (
    bullets,
    parse_acceptance_criteria,
    parse_conflicts,
    parse_refined_requirement,
    parse_requirement_analysis,
    parse_v1_analysis,
    parse_v1_refinement,
    parse_validation,
    requirement_text,
)

# -- Hermes -----------------------------------------------------------------------------------------------------


def test_message_analysis_sections_and_first_matches() -> None:
    text = (
        "The goal: sync state\n"
        "Purpose: ignored, goal already found\n"
        "Components:\n"
        "- Hermes\n"
        "\n"
        "-   \n"
        "- Engram\n"
        "Data contents: ids\n"
        "- not a component (the colon line closed the list)\n"
        "Priority: low\n"
        "Priority: high"
    )

    result = parse_message_analysis(text)

    assert result["purpose"] == "sync state"
    assert result["components"] == ["Hermes", "Engram"]
    assert result["data_summary"] == "ids"
    assert result["priority"] == "low"
    # No summary line: the last "\n\n" paragraph.
    assert result["summary"] == text.rsplit("\n\n", maxsplit=1)[-1].strip()
    assert result["summary"].startswith("-   \n- Engram\nData contents: ids")


def test_message_analysis_data_line_needs_both_words_and_summary_closes_on_keyword() -> None:
    text = "Data: only data\nSummary: first part\nmore words\nnote: not closing\nPriority: closes it\nafter"

    result = parse_message_analysis(text)

    assert result["data_summary"] == "Unknown"
    assert result["summary"] == "first part more words note: not closing"
    assert result["components"] == []
    assert parse_message_analysis("")["summary"] == ""


def test_message_analysis_inline_components_replace_earlier_list() -> None:
    result = parse_message_analysis("Components: A\n- B\nComponents involved: C, D ,E")

    assert result["components"] == ["C", "D", "E"]


def test_service_analysis() -> None:
    text = (
        "Capabilities:\n- routing\nplain line ignored\n-discovery\n\n"
        "Use cases:\n- debugging\n"
        "Integration points:\n-\n"
        "Dependencies: none listed here\n- Rhetor"
    )

    result = parse_service_analysis(text)

    assert result == {
        "capabilities": ["routing", "discovery"],
        "dependencies": ["Rhetor"],
        "integration_points": [""],
        "use_cases": ["debugging"],
        "summary": "Use cases:\n- debugging\nIntegration points:\n-\nDependencies: none listed here\n- Rhetor",
        "full_analysis": text,
    }


# -- Telos v1 ---------------------------------------------------------------------------------------------------


def test_v1_analysis_without_suggestion_words_has_no_suggestions() -> None:
    result = parse_v1_analysis("CLARITY: 9\nFeasibility - 3/10\n- a bullet")

    assert result["scores"] == {"clarity": 9.0, "completeness": 5.0, "testability": 5.0, "feasibility": 3.0}
    assert result["suggestions"] == []
    assert result["score"] == (9 + 5 + 5 + 3) / 40.0


def test_v1_refinement_headers_are_case_sensitive() -> None:
    assert parse_v1_refinement("improved requirement: lower case\n- x") == {
        "refined_text": "",
        "changes": [],
        "notes": "",
    }
    assert parse_v1_refinement("Improved Requirement:\nline one\nline two")["refined_text"] == "line one\nline two"


# -- Telos v2 ---------------------------------------------------------------------------------------------------


def test_bullets_start_anywhere_in_a_line() -> None:
    assert bullets("first - second\n* third\nno bullet") == ["second", "third"]
    # \s* after the marker also eats a newline, so a lone "-" takes the next line (legacy regex behaviour).
    assert bullets("-\nnext line") == ["next line"]


def test_v2_analysis_sections() -> None:
    text = "clarity 2 / 5\nIssues: - too long\n- unclear scope\nSuggestion: - split it"

    result = parse_requirement_analysis(text)

    assert result["scores"]["clarity"] == 2 and result["scores"]["consistency"] == 0
    assert result["issues"] == ["too long", "unclear scope"]
    assert result["suggestions"] == ["split it"]
    assert result["overall_score"] == 0.4


def test_v2_refinement_keeps_unmatched_fields() -> None:
    original = {"id": "R1", "title": "Old", "acceptance_criteria": ["keep"]}

    refined = parse_refined_requirement("Priority: high\nAcceptance criteria: none given", original)

    assert refined == {"id": "R1", "title": "Old", "acceptance_criteria": ["keep"], "priority": "high"}
    assert refined is not original


def test_requirement_text_defaults_and_criteria() -> None:
    assert requirement_text({"id": 1, "title": None}) == (
        "Requirement ID: 1\nTitle: None\nDescription: N/A\nType: N/A\nPriority: N/A\n"
    )
    assert requirement_text({"acceptance_criteria": ["a"]}, with_criteria=False).count("\n") == 5


# -- Telos post-migration ---------------------------------------------------------------------------------------


def test_validation_keys_and_entries() -> None:
    text = "Performance: FAIL, too slow\nSuggest: caching\nwhy it matters\n\nSecurity: pass but fail-safe missing"

    result = parse_validation(text, ["Performance: under 2s", "Security", ": no key"])

    assert result == {
        "Performance: under 2s": {"pass": False, "explanation": "why it matters", "recommendations": ["caching"]},
        "Security": {"pass": False, "explanation": "", "recommendations": []},
    }


def test_conflicts_without_ids_and_recommendation_before_any_conflict() -> None:
    text = "Recommend nothing yet\n\nThe conflict lies between them\n\nWe recommend: talk"

    assert parse_conflicts(text) == [
        {"requirement_ids": [], "description": "The conflict lies between them", "recommendation": "We recommend: talk"}
    ]


def test_acceptance_criteria_fallback_to_lines() -> None:
    assert parse_acceptance_criteria("# Heading\nGiven a user\n  # indented heading stays\n\nThen done") == [
        "Given a user",
        "# indented heading stays",
        "Then done",
    ]
