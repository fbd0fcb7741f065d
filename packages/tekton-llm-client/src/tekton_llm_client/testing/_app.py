"""The FastAPI application shell every HTTP profile shares: CORS, capture, faults and the control API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware

from ._context import ServerContext
from ._gate import CONTROL_PREFIX, FaultGate, RecordGate


def create_app(ctx: ServerContext) -> FastAPI:
    """An app with Rhetor's CORS policy, request capture, pre-route faults and ``/_testing/*`` routes.

    Middleware order, outermost first: capture (so every request is seen), CORS, faults (so injected errors
    still carry CORS headers), then the profile's routes.
    """
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(FaultGate, ctx=ctx)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(RecordGate, ctx=ctx)
    _add_control_api(app, ctx)
    return app


def _add_control_api(app: FastAPI, ctx: ServerContext) -> None:
    """Test-only routes for users in another process (the JavaScript tests); never recorded or faulted."""

    @app.get(CONTROL_PREFIX + "requests", include_in_schema=False)
    async def recorded() -> dict[str, Any]:
        return ctx.recorder.to_json()

    @app.get(CONTROL_PREFIX + "faults", include_in_schema=False)
    async def faults() -> dict[str, Any]:
        return ctx.faults.to_json()

    @app.post(CONTROL_PREFIX + "faults", include_in_schema=False)
    async def patch_faults(request: Request) -> JSONResponse:
        try:
            changes = await request.json()
        except ValueError:
            return JSONResponse({"detail": "body must be a JSON object"}, status_code=400)
        if not isinstance(changes, dict):
            return JSONResponse({"detail": "body must be a JSON object"}, status_code=400)
        try:
            ctx.faults.patch(changes)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return JSONResponse(ctx.faults.to_json())

    @app.post(CONTROL_PREFIX + "reset", include_in_schema=False)
    async def reset_all() -> dict[str, Any]:
        ctx.reset()
        return {"reset": True}
