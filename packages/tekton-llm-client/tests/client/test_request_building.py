"""The request path's hand-tuned pieces (benchmark P2): every value lands in its own field, the retry loop's fast
form keeps the loop's rules, and a transport's parsed-URL cache never sends a request to the wrong path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tekton_llm_client import exceptions as exc
from tekton_llm_client._dialects import DIALECTS
from tekton_llm_client._request import LLMRequest, RequestDefaults, StreamEvent, build_request
from tekton_llm_client._transport.http import HttpTransport
from tekton_llm_client.utils.retries import RetryPolicy


def test_build_request_puts_every_option_in_its_own_field() -> None:
    """``LLMRequest`` is built positionally: each value must still reach the field it names."""
    request = build_request(
        [{"role": "system", "content": "sys-msg"}, {"role": "user", "content": "hi"}],
        RequestDefaults(component="comp", model="default-model", provider="default-provider", context_id="ctx-0"),
        system_prompt="sys-arg",
        options={
            "model": "m",
            "provider": "p",
            "temperature": 0.25,
            "max_tokens": 77,
            "top_p": 0.5,
            "stop": "END",
            "task_type": "code",
            "timeout": "12",
            "seed": 9,
        },
        context_id="ctx-1",
        stream=True,
    )
    assert request.messages == [{"role": "user", "content": "hi"}]
    assert request.system_prompt == "sys-arg\n\nsys-msg"
    assert (request.model, request.provider) == ("m", "p")
    assert (request.temperature, request.max_tokens, request.top_p) == (0.25, 77, 0.5)
    assert request.stop == ["END"]
    assert (request.context_id, request.task_type, request.component) == ("ctx-1", "code", "comp")
    assert request.stream is True
    assert request.extra == {"seed": 9}
    assert request.timeout == 12.0
    assert len(request.request_id) == 16 and int(request.request_id, 16) >= 0
    assert request.remember is False


def test_build_request_without_options_takes_the_defaults() -> None:
    request = build_request([{"role": "user", "content": "hi"}], RequestDefaults(component="comp", model="dm"))
    assert (request.model, request.provider, request.context_id, request.system_prompt) == ("dm", None, "comp", None)
    assert (request.stop, request.extra, request.timeout, request.stream) == (None, {}, None, False)
    other = build_request([{"role": "user", "content": "hi"}], RequestDefaults(component="comp"))
    assert other.request_id != request.request_id


def test_build_request_still_refuses_a_conversation_of_system_messages_only() -> None:
    with pytest.raises(exc.InvalidRequestError):
        build_request([{"role": "system", "content": "only"}], RequestDefaults(component="comp"))


def _request() -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    ("dialect", "body", "context"),
    [
        ("v1", {"content": "text", "model": "m", "provider": "p", "contextId": "c"}, "c"),
        ("v1", {"content": "text", "model": "m", "provider": "p", "context_id": "c2"}, "c2"),
        # the first key present wins, even when its value is null (as ``first_key`` reads it)
        ("v1", {"content": "text", "model": "m", "provider": "p", "contextId": None, "context_id": "c3"}, None),
        ("classic", {"message": "text", "model": "m", "provider": "p", "context": "c", "fallback": True}, "c"),
        ("classic", {"message": "text", "model": "m", "provider": "p", "context_id": "c2"}, "c2"),
    ],
)
def test_parse_response_puts_each_value_in_its_own_field(dialect: str, body: dict[str, Any], context: Any) -> None:
    event = DIALECTS[dialect].parse_response(body, _request())
    assert (event.text, event.done, event.error) == ("text", True, None)
    assert (event.model, event.provider, event.context_id) == ("m", "p", context)
    assert event.fallback is bool(body.get("fallback", False))
    assert event.raw is body


@pytest.mark.parametrize(
    ("dialect", "payload"),
    [
        ("v1", {"content": "chunk", "done": True, "model": "m", "provider": "p", "context": "c"}),
        ("classic", {"chunk": "chunk", "done": True, "model": "m", "provider": "p", "context": "c", "fallback": True}),
    ],
)
def test_parse_event_puts_each_value_in_its_own_field(dialect: str, payload: dict[str, Any]) -> None:
    event = DIALECTS[dialect].parse_event(json.dumps(payload), _request())
    assert event == StreamEvent(
        text="chunk",
        done=True,
        error=None,
        model="m",
        provider="p",
        context_id="c",
        fallback=bool(payload.get("fallback", False)),
        raw=payload,
    )


# ---------------------------------------------------------------------------------------- RetryPolicy.run


class _Flaky:
    """Fails with ``errors`` in turn, then answers ``done``; records what ``ended`` was told."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.numbers: list[int] = []
        self.ended: list[tuple[int, str | None]] = []

    async def __call__(self, number: int) -> str:
        self.numbers.append(number)
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    def end(self, number: int, error: exc.TektonLLMError | None) -> None:
        self.ended.append((number, None if error is None else type(error).__name__))


def _policy(max_retries: int, sleeps: list[float]) -> RetryPolicy:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(max_retries=max_retries, backoff_base=0.5, sleep=sleep, rand=lambda: 1.0)


async def test_run_retries_retryable_failures_with_the_policys_delays() -> None:
    sleeps: list[float] = []
    op = _Flaky(exc.ServerError("boom"), exc.RateLimitError("slow down", retry_after=3.0))
    assert await _policy(3, sleeps).run(op, op.end) == "done"
    assert op.numbers == [0, 1, 2]
    assert sleeps == [0.5, 3.0]  # backoff for attempt 0, the server's Retry-After for attempt 1
    assert op.ended == [(0, "ServerError"), (1, "RateLimitError"), (2, None)]


async def test_run_raises_the_last_failure_when_out_of_tries() -> None:
    sleeps: list[float] = []
    last = exc.ServerError("third")
    op = _Flaky(exc.ServerError("first"), exc.ServerError("second"), last)
    with pytest.raises(exc.ServerError) as info:
        await _policy(2, sleeps).run(op, op.end)
    assert info.value is last
    assert info.value.__context__ is None  # not chained to the earlier, retried failures
    assert op.numbers == [0, 1, 2] and len(sleeps) == 2
    assert op.ended == [(0, "ServerError"), (1, "ServerError"), (2, None)]


async def test_run_never_retries_what_is_not_retryable() -> None:
    sleeps: list[float] = []
    op = _Flaky(exc.InvalidRequestError("bad"))
    with pytest.raises(exc.InvalidRequestError):
        await _policy(3, sleeps).run(op, op.end)
    assert op.numbers == [0] and sleeps == []
    assert op.ended == [(0, None)]


async def test_run_lets_other_exceptions_through_at_once() -> None:
    sleeps: list[float] = []
    op = _Flaky(KeyError("not ours"))
    with pytest.raises(KeyError):
        await _policy(3, sleeps).run(op)  # no ``ended``: also fine
    assert op.numbers == [0] and sleeps == []


# ------------------------------------------------------------------------------------- parsed-URL cache


async def test_every_route_reaches_its_own_path_beyond_the_parsed_url_cache(raw_server: Any) -> None:
    """More distinct routes than the transport keeps parsed (context routes carry ids), each asked twice."""
    server = await raw_server.start(
        lambda request: raw_server.response(200, json.dumps({"path": request.path}).encode())
    )
    transport = HttpTransport(server.url + "/prefix")
    try:
        paths = [f"/api/v1/context/c{i}%2Fx" for i in range(70)]
        for path in [*paths, *paths]:
            response = await transport.request("GET", path)
            assert response.body == {"path": "/prefix" + path}
        assert server.paths("GET") == ["/prefix" + p for p in [*paths, *paths]]
    finally:
        await transport.aclose()
