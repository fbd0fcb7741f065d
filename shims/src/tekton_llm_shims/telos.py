"""Telos' legacy ``LLMAdapter`` (``telos.core.llm_adapter``) on the shared client: the union of its APIs.

Telos shipped two incompatible adapters a day apart (v1: Hermes-like, v2: chat-based) and added three methods at
the migration. The shim offers all of them; ``analyze_requirement``/``refine_requirement`` take the v1 path when
given a ``str`` (or ``requirement_text=``) and the v2 path for a requirement dict. No method raises on LLM failures.
Contract: legacy-adapters.md §3. Migration guide: MIGRATION.md#telos.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from ._common import Failure, classify, error_text, redact_credentials
from ._legacy_chat import ChatAdapter
from ._providers import ProviderMethods
from ._shim_calls import records_legacy_calls
from ._telos_analysis import (
    ACCEPTANCE_SYSTEM,
    CONFLICTS_PROMPT,
    CONFLICTS_SYSTEM,
    PROMPT_V1_ANALYZE,
    PROMPT_V1_FEEDBACK,
    PROMPT_V1_REFINE,
    PROMPT_V1_TASK,
    SYS_V2_ANALYZE,
    SYS_V2_REFINE,
    VALIDATION_PROMPT,
    VALIDATION_SYSTEM,
    acceptance_prompt,
    numbered_criteria,
    parse_acceptance_criteria,
    parse_conflicts,
    parse_refined_requirement,
    parse_requirement_analysis,
    parse_v1_analysis,
    parse_v1_refinement,
    parse_validation,
    requirement_text,
    requirements_list,
)

__all__ = ["FALLBACK_TEXT", "LLMAdapter", "logger"]

logger = logging.getLogger("telos.llm_adapter")
v1_logger = logging.getLogger("telos.core.llm_adapter")

FALLBACK_TEXT = (
    "I apologize, but I'm currently unable to connect to the LLM service. This could be due to network issues or "
    "the service being offline. Please try again later or contact your administrator if the problem persists."
)
FAILED_TEXT = "Failed to connect to LLM service."

_REPLACEMENT = "tekton_llm_client.TektonLLMClient('telos').generate_chat_response(messages, system_prompt=...)"


def _missing(name: str) -> TypeError:
    return TypeError(f"missing required argument: {name!r}")


def _field(requirement: Any, key: str) -> Any:
    return requirement.get(key) if isinstance(requirement, Mapping) else None


@records_legacy_calls
class LLMAdapter(ProviderMethods, ChatAdapter):
    """Telos' requirements assistant: analysis, refinement, validation, conflicts and acceptance criteria."""

    _component_id = "telos"
    _shim = "telos"
    _replacement = _REPLACEMENT
    _fallback_text = FALLBACK_TEXT
    _logger_name = "telos.llm_adapter"
    _legacy_private = (*ChatAdapter._legacy_private, "_parse_requirement_analysis", "_parse_refined_requirement")

    # -- analyze / refine: v1 for text, v2 for requirement dicts ------------------------------------------------

    async def analyze_requirement(
        self,
        requirement: dict[str, Any] | str | None = None,
        context: str | None = None,
        model: str | None = None,
        *,
        requirement_text: str | None = None,
    ) -> dict[str, Any]:
        """v1 (text): scores 0–10 and suggestions. v2 (dict): ``{"success", "analysis", "raw_response"}``."""
        if requirement_text is not None or isinstance(requirement, str):
            text = requirement_text if requirement_text is not None else requirement
            return await self._analyze_v1(str(text))
        if requirement is None:
            raise _missing("requirement")
        return await self._analyze_v2(requirement, context, model)

    async def refine_requirement(
        self,
        requirement: dict[str, Any] | str | None = None,
        feedback: str | None = None,
        model: str | None = None,
        *,
        requirement_text: str | None = None,
    ) -> dict[str, Any]:
        """v1 (text): ``{"refined_text", "changes", "notes"}``. v2 (dict): ``{"success", "refined_requirement", …}``."""
        if feedback is None:
            raise _missing("feedback")
        if requirement_text is not None or isinstance(requirement, str):
            text = requirement_text if requirement_text is not None else requirement
            return await self._refine_v1(str(text), feedback)
        if requirement is None:
            raise _missing("requirement")
        return await self._refine_v2(requirement, feedback, model)

    async def _analyze_v1(self, text: str) -> dict[str, Any]:
        try:
            response = await self._complete(
                [{"role": "user", "content": PROMPT_V1_ANALYZE + "\n\n" + text}],
                context_id="telos:requirement_analysis",
                task_type="analysis",
                timeout=30.0,
            )
            return parse_v1_analysis(response.content)
        except Exception as error:
            v1_logger.warning("requirement analysis failed: %s", error_text(error))
            if classify(error) is Failure.SERVICE:
                return {"score": 0.5, "analysis": FAILED_TEXT,
                        "suggestions": ["Ensure the requirement is clear and testable."]}
            return {"score": 0.5, "analysis": f"Error analyzing requirement: {error_text(error)}",
                    "suggestions": ["Review the requirement manually."]}

    async def _refine_v1(self, text: str, feedback: str) -> dict[str, Any]:
        prompt = (
            PROMPT_V1_REFINE + "\n\n" + text + "\n\n" + PROMPT_V1_FEEDBACK + "\n\n" + feedback + "\n\n" + PROMPT_V1_TASK
        )
        try:
            response = await self._complete(
                [{"role": "user", "content": prompt}],
                context_id="telos:requirement_refinement",
                task_type="refinement",
                timeout=30.0,
            )
            return parse_v1_refinement(response.content)
        except Exception as error:
            v1_logger.warning("requirement refinement failed: %s", error_text(error))
            service_failure = classify(error) is Failure.SERVICE
            notes = FAILED_TEXT if service_failure else f"Error refining requirement: {error_text(error)}"
            return {"refined_text": text, "changes": [], "notes": notes}

    async def _analyze_v2(self, requirement: dict[str, Any], context: str | None, model: str | None) -> dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_V2_ANALYZE},
                {"role": "user", "content": "Please analyze this requirement:\n\n" + requirement_text(requirement)},
            ]
            if context:
                messages.append({"role": "user", "content": "Consider this additional project context:\n\n" + context})
            answer = cast(str, await self.chat(messages, model=model, temperature=0.3))
            # Kept quirk: chat() answers failures with text, so an outage still reports success.
            return {"success": True, "analysis": parse_requirement_analysis(answer), "raw_response": answer}
        except Exception as error:
            return {"success": False, "error": redact_credentials(str(error)), "raw_response": ""}

    async def _refine_v2(self, requirement: dict[str, Any], feedback: str, model: str | None) -> dict[str, Any]:
        try:
            messages = [
                {"role": "system", "content": SYS_V2_REFINE},
                {"role": "user", "content": "Here is the requirement to refine:\n\n" + requirement_text(requirement)},
                {"role": "user", "content": "Here is the feedback to incorporate:\n\n" + feedback},
            ]
            answer = cast(str, await self.chat(messages, model=model))
            return {
                "success": True,
                "refined_requirement": parse_refined_requirement(answer, requirement),
                "raw_response": answer,
            }
        except Exception as error:
            return {"success": False, "error": redact_credentials(str(error)), "raw_response": ""}

    def _parse_requirement_analysis(self, response: str) -> dict[str, Any]:
        """The v2 analysis parser (kept as the original private method)."""
        return parse_requirement_analysis(response)

    def _parse_refined_requirement(self, response: str, original: dict[str, Any]) -> dict[str, Any]:
        """The v2 refinement parser (kept as the original private method)."""
        return parse_refined_requirement(response, original)

    # -- post-migration additions -------------------------------------------------------------------------------

    async def validate_requirements(
        self, requirements: list[dict[str, Any]], validation_criteria: list[str], model: str | None = None
    ) -> dict[str, Any]:
        """One validation request per requirement; a failed item reports its error, the call still succeeds."""
        results = []
        for requirement in requirements:
            try:
                prompt = VALIDATION_PROMPT.format(
                    requirement_text=requirement_text(requirement),
                    validation_criteria=numbered_criteria(validation_criteria),
                )
                answer = await self._template_request(prompt, VALIDATION_SYSTEM, model, 0.3, 2000)
                results.append({
                    "requirement_id": _field(requirement, "id"),
                    "requirement_title": _field(requirement, "title"),
                    "validation_results": parse_validation(answer["text"], validation_criteria),
                    "raw_response": answer["text"],
                    "success": True,
                    "model": answer["model"],
                    "provider": answer["provider"],
                })
            except Exception as error:
                logger.warning("requirement validation failed: %s", error_text(error))
                results.append({
                    "requirement_id": _field(requirement, "id"),
                    "requirement_title": _field(requirement, "title"),
                    "validation_results": {},
                    "success": False,
                    "error": error_text(error),
                })
        return {"success": True, "validation_results": results}

    async def detect_conflicts(self, requirements: list[dict[str, Any]], model: str | None = None) -> dict[str, Any]:
        """Conflicts between requirements, each with the two ids, a description and a recommendation."""
        try:
            prompt = CONFLICTS_PROMPT.format(requirements_list=requirements_list(requirements))
            answer = await self._template_request(prompt, CONFLICTS_SYSTEM, model, 0.3, 3000)
            return {
                "success": True,
                "conflicts": parse_conflicts(answer["text"]),
                "raw_response": answer["text"],
                "model": answer["model"],
                "provider": answer["provider"],
            }
        except Exception as error:
            logger.warning("conflict detection failed: %s", error_text(error))
            return {"success": False, "error": error_text(error), "conflicts": []}

    async def generate_acceptance_criteria(
        self, requirement: dict[str, Any], context: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        """Acceptance criteria for one requirement, as a list of strings."""
        try:
            answer = await self._template_request(
                acceptance_prompt(requirement, context), ACCEPTANCE_SYSTEM, model, 0.5, 2000
            )
            return {
                "success": True,
                "acceptance_criteria": parse_acceptance_criteria(answer["text"]),
                "raw_response": answer["text"],
                "model": answer["model"],
                "provider": answer["provider"],
            }
        except Exception as error:
            logger.warning("acceptance criteria generation failed: %s", error_text(error))
            return {"success": False, "error": error_text(error), "acceptance_criteria": []}

    async def _template_request(
        self, prompt: str, system_prompt: str, model: str | None, temperature: float, max_tokens: int
    ) -> dict[str, str]:
        """The §3.3 request: model-specific settings only when ``model`` is given, else the adapter defaults."""
        if not model:
            temperature, max_tokens = 0.7, 1500
        response = await self._complete(
            [{"role": "user", "content": prompt}],
            system_prompt=system_prompt,
            model=model or self.default_model,
            provider=self.default_provider,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return {
            "text": response.content,
            "model": response.model or model or self.default_model,
            "provider": response.provider or self.default_provider,
        }
