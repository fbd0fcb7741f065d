"""v1 profile over raw httpx: routes, FastAPI error shapes, SSE framing, and the as-shipped defects."""

from __future__ import annotations

import json

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer

HELLO = {"messages": [{"role": "user", "content": "Hello Rhetor"}]}
HELLO_TEXT = (
    'I received your message: "Hello Rhetor". I see a conversation with 1 messages. This is a simulated chat '
    "response as no real LLM is available. \n\nAs the fast simulation model, I would typically provide quicker "
    "responses with less context retention."
)


def test_info_health_ready_and_discovery(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    assert httpx.get(base + "/").json()["name"] == "rhetor LLM Orchestration API"
    health = httpx.get(base + "/health").json()
    assert health["status"] == "healthy" and health["component"] == "rhetor"
    assert health["registeredWithHermes"] is False and "providers" not in health["details"]
    assert health["port"] == rhetor_server.port
    ready = httpx.get(base + "/ready").json()
    assert ready["ready"] is True and "initializationTime" in ready
    paths = [e["path"] for e in httpx.get(base + "/api/v1/discovery").json()["endpoints"]]
    assert "/api/v1/chat/stream" in paths and "/api/v1/budget" in paths
    assert not any(p.startswith("/_testing") for p in paths)


def test_chat_returns_camel_case_chat_response(rhetor_server: RhetorTestServer) -> None:
    response = httpx.post(rhetor_server.url + "/api/v1/chat", json=HELLO)
    assert response.status_code == 200
    assert response.json() == {
        "content": HELLO_TEXT,
        "model": "simulated-fast",
        "usage": None,
        "contextId": None,
        "metadata": None,
    }


def test_chat_model_override_system_message_and_extra_fields(rhetor_server: RhetorTestServer) -> None:
    body = {
        "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}],
        "model": "simulated-advanced",
        "provider": "anthropic",  # unknown here: silently ignored
        "system_prompt": "dropped",
        "maxTokens": 10,  # camelCase accepted
    }
    data = httpx.post(rhetor_server.url + "/api/v1/chat", json=body).json()
    assert data["model"] == "simulated-advanced"
    assert '"Hi". I see a conversation with 2 messages.' in data["content"]
    assert '\n\nThe system prompt was: "Be terse."' in data["content"]
    assert data["content"].endswith("maintain better context across a conversation thread.")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "messages"]),
        ({"messages": [{"role": "user", "content": None}]}, ["body", "messages", 0, "content"]),
        ({"messages": [], "temperature": 3}, ["body", "temperature"]),
        ({"messages": [], "max_tokens": 0}, ["body", "max_tokens"]),
    ],
)
def test_chat_validation_errors_are_422_with_a_detail_list(
    rhetor_server: RhetorTestServer, body: dict[str, object], loc: list[object]
) -> None:
    response = httpx.post(rhetor_server.url + "/api/v1/chat", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == loc


def test_unknown_path_404_and_wrong_method_405_are_json(rhetor_server: RhetorTestServer) -> None:
    missing = httpx.post(rhetor_server.url + "/message", json={})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = httpx.get(rhetor_server.url + "/api/v1/chat")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})
    assert httpx.get(rhetor_server.url + "/providers").status_code == 404


def test_cors_allows_any_origin_method_and_header(rhetor_server: RhetorTestServer) -> None:
    preflight = httpx.options(
        rhetor_server.url + "/api/v1/chat",
        headers={
            "origin": "http://ui.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,x-custom",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "x-custom" in preflight.headers["access-control-allow-headers"].lower()
    simple = httpx.get(rhetor_server.url + "/health", headers={"origin": "http://ui.example"})
    assert simple.headers["access-control-allow-origin"] == "*"


def test_models_and_contexts_intended(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    models = httpx.get(base + "/api/v1/models").json()["models"]
    assert [m["id"] for m in models["simulated"]] == ["simulated-fast", "simulated-standard", "simulated-advanced"]
    unknown = httpx.post(base + "/api/v1/chat", json={**HELLO, "context_id": "nope"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Context not found: nope"})
    assert httpx.post(base + "/api/v1/context", json={"context_id": "c1"}).json() == {"context_id": "c1"}
    answer = httpx.post(base + "/api/v1/chat", json={**HELLO, "contextId": "c1"}).json()
    assert answer["contextId"] == "c1"
    stored = httpx.get(base + "/api/v1/context/c1").json()["messages"]
    assert stored == [{"role": "user", "content": "Hello Rhetor"}, {"role": "assistant", "content": HELLO_TEXT}]
    deleted = httpx.delete(base + "/api/v1/context/c1")
    assert deleted.json() == {"message": "Context 'c1' deleted successfully"}
    assert httpx.delete(base + "/api/v1/context/never").status_code == 200
    assert httpx.get(base + "/api/v1/context/c1").status_code == 404


def test_budget_and_reduced_routes(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    assert httpx.get(base + "/api/v1/budget/usage").json() == {
        "period": "daily",
        "total_cost": 0.0,
        "total_tokens": 0,
        "groups": {},
    }
    templates = httpx.get(base + "/api/v1/templates")
    assert (templates.status_code, templates.text) == (500, "Internal Server Error")
    assert templates.headers["content-type"] == "text/plain; charset=utf-8"
    render = httpx.post(base + "/api/v1/prompts/render", json={"template_name": "t"})
    assert render.json() == {"detail": "'PromptEngine' object has no attribute 'render_prompt'"}
    assert "specialists" in httpx.get(base + "/api/v1/specialists").json()


def test_stream_is_crlf_framed_without_event_lines_or_terminator(rhetor_server: RhetorTestServer, sse_blocks) -> None:
    with httpx.stream("POST", rhetor_server.url + "/api/v1/chat/stream", json=HELLO) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        raw = response.read()
    blocks = sse_blocks(raw)
    assert all(len(lines) == 1 and lines[0].startswith("data: {") for lines in blocks)
    assert b"[DONE]" not in raw and b"event:" not in raw
    chunks = [json.loads(lines[0][6:]) for lines in blocks]
    assert "".join(c["content"] for c in chunks) == HELLO_TEXT
    assert len(chunks[0]["content"]) == 10
    assert all(c["done"] is False and c["error"] is None and "type" not in c for c in chunks)
    assert {c["provider"] for c in chunks} == {"simulated"}
    assert b'"content": "I received", "done": false' in raw  # Python's default separators


@pytest.mark.rhetor_server(ping_interval=0.05)
def test_pings_flow_while_the_first_event_is_delayed(rhetor_server: RhetorTestServer, sse_blocks) -> None:
    rhetor_server.faults.first_event_delay = 0.3
    with httpx.stream("POST", rhetor_server.url + "/api/v1/chat/stream", json=HELLO) as response:
        raw = response.read()
    blocks = sse_blocks(raw)
    first_data = next(i for i, lines in enumerate(blocks) if lines[0].startswith("data:"))
    pings = blocks[:first_data]
    assert pings and all(len(p) == 1 and p[0].startswith(": ping - ") for p in pings)
    assert pings[0][0].endswith("+00:00")


@pytest.mark.rhetor_server(profile="v1-as-shipped")
def test_as_shipped_defects(rhetor_server: RhetorTestServer) -> None:
    base = rhetor_server.url
    chat = httpx.post(base + "/api/v1/chat", json=HELLO)
    assert (chat.status_code, chat.json()) == (
        500,
        {"detail": "ModelRouter.route_request() got an unexpected keyword argument 'messages'"},
    )
    with_context = httpx.post(base + "/api/v1/chat", json={**HELLO, "context_id": "c"})
    assert with_context.json() == {"detail": "'ContextManager' object has no attribute 'get_context'"}
    assert httpx.post(base + "/api/v1/chat", json={}).status_code == 422
    stream = httpx.post(base + "/api/v1/chat/stream", json=HELLO)
    assert stream.status_code == 200
    assert (
        stream.content == b"data: {\"error\": \"'ModelRouter' object has no attribute 'route_request_stream'\"}\r\n\r\n"
    )
    for method, path in (("GET", "/api/v1/models"), ("POST", "/api/v1/context"), ("GET", "/api/v1/context/x")):
        response = httpx.request(method, base + path, json={} if method == "POST" else None)
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        assert response.headers["content-type"].startswith("text/plain")
    policy = httpx.post(base + "/api/v1/budget/policies", json={"name": "n", "max_cost": 1, "period": "daily"})
    assert policy.status_code == 400
    assert httpx.delete(base + "/api/v1/context/x").status_code == 200
