"""The Engram service: store and search memories; LLM features live in ``llm_endpoints``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from engram.api.llm_endpoints import router as llm_router
from engram.core.memory import MemoryStore

app = FastAPI(title="Engram", description="Memory for Tekton components")
app.include_router(llm_router)
store = MemoryStore()


class MemoryIn(BaseModel):
    content: str
    namespace: str = "conversations"


@app.post("/memories", status_code=201)
async def add_memory(body: MemoryIn) -> dict[str, Any]:
    memory = store.add(body.content, body.namespace)
    return {"id": memory.memory_id, "namespace": memory.namespace}


@app.get("/memories/{memory_id}")
async def get_memory(memory_id: str) -> dict[str, Any]:
    memory = store.get(memory_id)
    if memory is None:
        raise HTTPException(status_code=404, detail=f"Memory {memory_id} not found")
    return {"id": memory.memory_id, "namespace": memory.namespace, "content": memory.content}


@app.get("/memories")
async def search_memories(query: str, namespace: str | None = None) -> list[dict[str, Any]]:
    return [{"id": m.memory_id, "content": m.content} for m in store.search(query, namespace)]
