"""Telos's HTTP API: a project's requirements, their LLM review, and which model reviews them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from telos.core import llm_adapter as llm
from telos.core.requirements import Requirement, analyze_requirement_quality, refine_requirement

app = FastAPI(title="Telos", description="Requirements management with LLM-assisted review")
requirements: dict[str, Requirement] = {}


class RequirementIn(BaseModel):
    requirement_id: str
    title: str
    description: str
    requirement_type: str = "functional"
    priority: str = "medium"
    acceptance_criteria: list[str] = Field(default_factory=list)


class AnalysisRequest(BaseModel):
    context: str | None = None


class RefinementRequest(BaseModel):
    feedback: str


def _get(requirement_id: str) -> Requirement:
    if requirement_id not in requirements:
        raise HTTPException(status_code=404, detail=f"Requirement {requirement_id} not found")
    return requirements[requirement_id]


@app.get("/api/llm/status")
async def llm_status() -> dict[str, str]:
    adapter = llm.LLMAdapter()
    return {"provider": adapter.default_provider, "model": adapter.default_model}


@app.post("/api/requirements", status_code=201)
async def create_requirement(body: RequirementIn) -> dict[str, Any]:
    requirements[body.requirement_id] = Requirement(**body.model_dump())
    return requirements[body.requirement_id].to_dict()


@app.get("/api/requirements/{requirement_id}")
async def get_requirement(requirement_id: str) -> dict[str, Any]:
    requirement = _get(requirement_id)
    return {**requirement.to_dict(), "revisions": len(requirement.history)}


@app.post("/api/requirements/{requirement_id}/analyze")
async def analyze(requirement_id: str, body: AnalysisRequest) -> dict[str, Any]:
    report = await analyze_requirement_quality(_get(requirement_id), context=body.context)
    return {
        "scores": report.scores,
        "overall_score": report.overall_score,
        "suggestions": report.suggestions,
        "issues": report.issues,
        "needs_attention": report.needs_attention,
        "raw_response": report.raw_response,
    }


@app.post("/api/requirements/{requirement_id}/refine")
async def refine(requirement_id: str, body: RefinementRequest) -> dict[str, Any]:
    requirements[requirement_id] = await refine_requirement(_get(requirement_id), body.feedback)
    return requirements[requirement_id].to_dict()
