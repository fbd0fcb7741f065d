"""The Hermes service: component registration and discovery, plus the LLM endpoints.

Registration is in memory (this sample keeps no database): a component announces its name, endpoint and
capabilities, and other components look it up by name or capability.
"""

from __future__ import annotations

from typing import Any, Dict, List

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from hermes.api.llm_endpoints import router as llm_router


class ServiceRegistration(BaseModel):
    name: str
    endpoint: str
    capabilities: List[str] = Field(default_factory=list)
    metadata: Dict[str, Any] = Field(default_factory=dict)


class ServiceRegistry:
    """Registered components by name; re-registering replaces the old entry."""

    def __init__(self) -> None:
        self._services: Dict[str, ServiceRegistration] = {}

    def register(self, service: ServiceRegistration) -> None:
        self._services[service.name] = service

    def unregister(self, name: str) -> bool:
        return self._services.pop(name, None) is not None

    def find(self, capability: str | None = None) -> List[ServiceRegistration]:
        services = sorted(self._services.values(), key=lambda s: s.name)
        return [s for s in services if capability is None or capability in s.capabilities]


app = FastAPI(title="Hermes", description="Message bus and service discovery for Tekton")
app.state.registry = ServiceRegistry()
app.include_router(llm_router)

# Kept for components that reach the adapter through the app state (the real Hermes built one here too).
from hermes.core.llm_adapter import LLMAdapter  # noqa: E402

app.state.llm_adapter = LLMAdapter()


@app.get("/health")
async def health() -> Dict[str, str]:
    return {"status": "healthy", "service": "hermes"}


@app.post("/api/registration", status_code=201)
async def register_service(service: ServiceRegistration) -> Dict[str, Any]:
    app.state.registry.register(service)
    return {"registered": service.name}


@app.delete("/api/registration/{name}")
async def unregister_service(name: str) -> Dict[str, Any]:
    if not app.state.registry.unregister(name):
        raise HTTPException(status_code=404, detail=f"Service {name} is not registered")
    return {"unregistered": name}


@app.get("/api/services")
async def list_services(capability: str | None = None) -> List[Dict[str, Any]]:
    return [service.model_dump() for service in app.state.registry.find(capability)]
