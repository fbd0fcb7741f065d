"""Tell the Rhetor generations apart without generating text (rhetor-protocol.md §11.2)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from .. import exceptions as exc
from .._transport.http import HttpTransport
from .._urls import http_base_for_ws_url

__all__ = ["detect_dialect", "detect_ws_dialect", "dialect_from_health"]

logger = logging.getLogger("tekton_llm_client")


def dialect_from_health(body: Any) -> str | None:
    """``v1``/``classic`` when the health body alone decides, ``adapter`` for the retired LLM Adapter service."""
    if not isinstance(body, dict):
        return None
    if "claude_available" in body:
        return "adapter"
    if isinstance(body.get("providers"), dict):
        return "classic"
    details = body.get("details")
    if body.get("component") == "rhetor" and isinstance(details, dict) and isinstance(details.get("providers"), dict):
        return "classic"  # late classic: Tekton-standard health body, root routes
    return None


_PROBES: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("GET", "/api/v1/discovery", None),
    ("GET", "/providers", None),
    ("POST", "/api/v1/chat", {}),
)


def _probe_answer(path: str, status: int, body: Any) -> str | None:
    """What one probe's answer says about the generation (``None``: nothing)."""
    if path == "/api/v1/discovery" and status == 200:
        endpoints = body.get("endpoints", []) if isinstance(body, dict) else []
        paths = {e.get("path") for e in endpoints if isinstance(e, dict)}
        return "v1" if "/api/v1/chat/stream" in paths else None
    if path == "/providers":
        return "classic" if status == 200 else None
    if path == "/api/v1/chat":
        return {422: "v1", 404: "classic"}.get(status)
    return None


async def detect_dialect(transport: HttpTransport, request_id: str | None = None) -> str:
    """Probe the server once; ``ConnectionError`` when it is unreachable."""
    health: Any = None
    try:
        health = (await transport.request("GET", "/health", request_id=request_id)).body
    except (exc.HTTPStatusError, exc.ProtocolError):
        health = None  # a proxy or an odd server: fall through to the route probes
    decided = dialect_from_health(health)
    if decided == "adapter":
        raise exc.ConfigurationError(
            f"{transport.display_url} is the retired LLM Adapter service, not Rhetor; point RHETOR_URL at Rhetor"
        )
    if decided:
        return decided
    for method, path, body in _PROBES:
        try:
            result = await transport.request(
                method, path, json_body=body, request_id=request_id, allow_status=(404, 405, 422)
            )
        except (exc.HTTPStatusError, exc.ProtocolError):
            continue
        decided = _probe_answer(path, result.status, result.body)
        if decided is not None:
            return decided
    logger.warning("could not tell the Rhetor generation of %s; assuming v1", transport.display_url)
    return "v1"


async def detect_ws_dialect(
    ws_url: str, *, authorization: str | None, timeout: float, request_id: str | None = None
) -> tuple[str, bool]:
    """The generation behind a WebSocket URL, and whether that is settled (a failed probe is not: ask again later).

    Rhetor serves ``/ws``; the retired LLM Adapter service's socket has no path. Otherwise the HTTP side of the same
    server is probed as :func:`detect_dialect` does; an unreachable one reads as v1, unsettled."""
    if urlsplit(ws_url).path in ("", "/"):
        return "adapter", True
    probe = HttpTransport(
        http_base_for_ws_url(ws_url), timeout=timeout, connect_timeout=timeout, authorization=authorization
    )
    try:
        return await detect_dialect(probe, request_id), True
    except exc.ConfigurationError:
        return "adapter", True  # the health body said: LLM Adapter service
    except exc.TektonLLMError as error:
        logger.info("cannot detect the Rhetor generation at %s (%s); assuming v1", probe.display_url, error.message)
        return "v1", False
    finally:
        await probe.aclose()
