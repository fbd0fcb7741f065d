"""Every HTTP status and body shape maps to one error class with status, safe message and request id."""

from __future__ import annotations

from typing import Any

import pytest
from tekton_llm_client import exceptions as exc


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.InvalidRequestError),
        (401, exc.AuthenticationError),
        (403, exc.PermissionDeniedError),
        (404, exc.NotFoundError),
        (408, exc.RequestTimeoutError),
        (409, exc.ConflictError),
        (422, exc.RequestValidationError),
        (429, exc.RateLimitError),
        (500, exc.ServerError),
        (502, exc.ServerError),
        (503, exc.ServiceUnavailableError),
    ],
)
async def test_status_maps_to_class(server: Any, make_client: Any, status: int, cls: type[Exception]) -> None:
    client = make_client(server.url, max_retries=0, api=server.profile, transport="http")
    server.faults.fail_status = status
    server.faults.fail_times = 1
    server.faults.fail_detail = f"boom {status}"
    with pytest.raises(cls) as info:
        await client.generate_text("hi")
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.request_id and len(error.request_id) >= 8
    assert str(status) in str(error) and error.request_id in str(error)
    if status != 422:
        assert error.message == f"boom {status}"


async def test_422_detail_list_becomes_readable_message(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1")
    # A non-string content is what FastAPI rejects with its detail list.
    with pytest.raises(exc.RequestValidationError) as info:
        await client._transport().request("POST", "/api/v1/chat", json_body={"messages": "nope"}, dialect="v1")
    assert info.value.errors and isinstance(info.value.errors, list)
    assert "messages" in info.value.message


async def test_text_plain_500_keeps_status_and_text(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    server.faults.text_500_paths = {"/api/v1/chat"}
    client = make_client(server.url, api="v1", transport="http", max_retries=0)
    with pytest.raises(exc.ServerError) as info:
        await client.generate_text("hi")
    assert info.value.status_code == 500
    assert info.value.message == "Internal Server Error"


async def test_classic_error_in_200_body_is_provider_error(make_server: Any, make_client: Any) -> None:
    server = make_server("classic")
    server.faults.error_in_200 = True
    client = make_client(server.url)
    with pytest.raises(exc.ProviderError) as info:
        await client.generate_text("hi")
    assert "not available" in info.value.message
    assert info.value.dialect == "classic"
    assert server.attempts("/chat") == 1  # in-band errors are not retried


async def test_error_event_inside_stream(server: Any, make_client: Any) -> None:
    server.faults.error_in_200 = True
    client = make_client(server.url, transport="http")
    with pytest.raises(exc.ProviderError):
        await client.generate_text("hi", streaming=True).text()


async def test_malformed_chunk_after_text_is_incomplete_stream(server: Any, make_client: Any) -> None:
    server.faults.malformed_after_chunks = 2
    client = make_client(server.url, transport="http")
    stream = client.generate_text("a longer message to stream", streaming=True)
    with pytest.raises(exc.IncompleteStreamError) as info:
        await stream.text()
    assert len(info.value.partial_text) == 20  # two 10-character chunks arrived
    assert "malformed" in info.value.message


async def test_malformed_first_chunk_is_protocol_error(server: Any, make_client: Any) -> None:
    server.faults.malformed_after_chunks = 0
    client = make_client(server.url, transport="http", max_retries=0)
    with pytest.raises(exc.ProtocolError):
        await client.generate_text("x", streaming=True).text()


async def test_not_initialized_503_is_service_unavailable_and_retried(server: Any, make_client: Any) -> None:
    client = make_client(server.url, api=server.profile, transport="http", max_retries=2)
    server.faults.not_initialized = True
    with pytest.raises(exc.ServiceUnavailableError) as info:
        await client.generate_text("hi")
    assert "not initialized" in info.value.message
    path = "/api/v1/chat" if server.profile == "v1" else "/chat"
    assert server.attempts(path) == 3


async def test_unreachable_server_is_connection_error(make_client: Any) -> None:
    from tekton_llm_client.testing import closed_port

    client = make_client(f"http://127.0.0.1:{closed_port()}", max_retries=1)
    with pytest.raises(exc.ConnectionError) as info:
        await client.generate_text("hi")
    assert info.value.unavailable and info.value.retryable
    assert isinstance(info.value, ConnectionError)  # the builtin, too
