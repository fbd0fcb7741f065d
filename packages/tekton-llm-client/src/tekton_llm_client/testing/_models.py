"""Request bodies of the FastAPI profiles.

Pydantic defaults give Rhetor's behaviour for free: unknown keys are dropped silently and a wrong or missing
field is a 422 with a list ``detail``. Every field also accepts its camelCase spelling (spec §3).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Message(_Body):
    role: str
    content: str


class V1ChatRequest(_Body):
    messages: list[Message]
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    stream: bool = False
    context_id: str | None = None
    tools: Any = None
    tool_choice: Any = None
    response_format: Any = None
    request_metadata: Any = None


class V1ContextRequest(_Body):
    context_id: str | None = None
    messages: list[Message] | None = None
    max_tokens: int | None = None
    metadata: dict[str, Any] | None = None


class V1BudgetPolicyRequest(_Body):
    name: str
    max_cost: float
    period: str
    description: str | None = None


class ClassicMessageRequest(_Body):
    message: str
    context_id: str = "default"
    task_type: str = "default"
    component: str | None = None
    streaming: bool = False
    options: dict[str, Any] | None = None
    prompt_id: str | None = None


class ClassicStreamRequest(_Body):
    message: str
    context_id: str = "default"
    task_type: str = "default"
    component: str | None = None
    options: dict[str, Any] | None = None
    prompt_id: str | None = None


class ClassicChatRequest(_Body):
    messages: list[Message]
    context_id: str = "default"
    task_type: str = "default"
    component: str | None = None
    streaming: bool = False
    options: dict[str, Any] | None = None
    prompt_id: str | None = None


class ProviderRequest(_Body):
    provider_id: str
    model_id: str


class BudgetLimitRequest(_Body):
    period: str
    limit_amount: float
    provider: str = "all"
    enforcement: str | None = None


class BudgetPolicyRequest(_Body):
    period: str
    policy: str
    provider: str = "all"

