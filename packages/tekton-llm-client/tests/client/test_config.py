"""Settings precedence, environment, URLs with a path prefix, and that the token never leaks."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tekton_llm_client import ClientSettings, LLMSettings, TektonLLMClient
from tekton_llm_client import exceptions as exc
from tekton_llm_client.config import resolve_config

SECRET = "s3cr3t-t0ken-value"


def test_defaults() -> None:
    config = resolve_config("terma", env={})
    assert config.base_url == "http://localhost:8003"
    assert config.ws_url == "ws://localhost:8003/ws"
    assert (config.timeout, config.max_retries, config.use_fallback) == (30.0, 3, True)
    assert config.provider_id is None and config.model_id is None
    assert (config.api, config.transport) == ("auto", "auto")


def test_env_then_arguments() -> None:
    env = {
        "RHETOR_URL": "https://rhetor.example:9000/base/",
        "RHETOR_AUTH_TOKEN": SECRET,
        "RHETOR_DEFAULT_PROVIDER": "anthropic",
        "RHETOR_DEFAULT_MODEL": "claude-3-sonnet-20240229",
        "RHETOR_TIMEOUT": "12.5",
        "RHETOR_MAX_RETRIES": "5",
        "TERMA_CONTEXT_ID": "terma:main",
        "RHETOR_API": "classic",
        "RHETOR_TRANSPORT": "http",
    }
    config = resolve_config("terma", env=env)
    assert config.base_url == "https://rhetor.example:9000/base"
    assert config.ws_url == "wss://rhetor.example:9000/base/ws"
    assert (config.provider_id, config.model_id) == ("anthropic", "claude-3-sonnet-20240229")
    assert (config.timeout, config.max_retries, config.context_id) == (12.5, 5, "terma:main")
    assert (config.api, config.transport) == ("classic", "http")
    assert config.auth_token == SECRET
    pinned = resolve_config("terma", rhetor_url="http://h:1", model_id="m", timeout=3, max_retries=0, env=env)
    assert (pinned.base_url, pinned.model_id, pinned.timeout, pinned.max_retries) == ("http://h:1", "m", 3.0, 0)
    # No RHETOR_WS_URL: the WebSocket URL follows the URL actually used, not the one the argument overrode.
    assert pinned.ws_url == "ws://h:1/ws"


def test_ws_url_env_wins_over_derivation() -> None:
    config = resolve_config("x", env={"RHETOR_URL": "http://a:1", "RHETOR_WS_URL": "ws://b:2/socket"})
    assert config.ws_url == "ws://b:2/socket"


def test_settings_objects_precedence() -> None:
    settings = ClientSettings(component_id="hermes", base_url="http://s:1", provider_id="openai", timeout=120)
    llm = LLMSettings(model="m-llm", temperature=0.1)
    config = resolve_config(None, settings=settings, llm_settings=llm, env={"RHETOR_URL": "http://env:1"})
    assert (config.component_id, config.base_url, config.provider_id, config.model_id) == (
        "hermes", "http://s:1", "openai", "m-llm")
    assert config.timeout == 120.0
    # LLMSettings defaults (provider="anthropic") never override: only explicit fields count.
    config = resolve_config("x", llm_settings=LLMSettings(model="m", temperature=0.3), env={})
    assert config.provider_id is None


@pytest.mark.parametrize(
    ("env", "message"),
    [({"RHETOR_TIMEOUT": "soon"}, "RHETOR_TIMEOUT"), ({"RHETOR_API": "v9"}, "RHETOR_API"),
     ({"RHETOR_URL": "localhost:8003"}, "absolute URL"), ({"RHETOR_MAX_RETRIES": "-1"}, "max_retries")],
)
def test_bad_settings_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(exc.ConfigurationError, match=message):
        resolve_config("x", env=env)


def test_alias_conflicts() -> None:
    with pytest.raises(ValueError):
        TektonLLMClient(rhetor_url="http://a:1", base_url="http://b:2")
    assert TektonLLMClient("http://budget:8000").rhetor_url == "http://budget:8000"


async def test_path_prefix_is_kept(make_server: Any, make_client: Any) -> None:
    server = make_server("v1")
    client = make_client(server.url + "/rhetor-proxy/", api="v1", transport="http", max_retries=0)
    with pytest.raises(exc.NotFoundError):
        await client.generate_text("prefixed")
    assert server.requests[-1].path == "/rhetor-proxy/api/v1/chat"


async def test_auth_header_sent_and_never_leaked(
    make_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http", auth_token=SECRET, max_retries=0)
    caplog.set_level(logging.DEBUG)
    await client.generate_text("with auth")
    assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    server.faults.fail_status, server.faults.fail_times = 401, 1
    with pytest.raises(exc.AuthenticationError) as info:
        await client.generate_text("rejected")
    texts = [repr(client), str(client.config), repr(client.config), str(info.value), repr(info.value),
             caplog.text, repr(client._transport())]
    assert all(SECRET not in text for text in texts)


async def test_env_token_used(make_server: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_server("classic")
    monkeypatch.setenv("RHETOR_AUTH_TOKEN", SECRET)
    client = make_client(server.url)
    await client.generate_text("env auth")
    assert all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in server.requests)


async def test_request_id_header_and_logging(
    make_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("v1")
    client = make_client(server.url, api="v1", transport="http")
    caplog.set_level(logging.INFO, logger="tekton_llm_client")
    response = await client.generate_text("logged body text")
    assert server.requests[-1].headers["x-request-id"] == response.request_id
    line = next(r.getMessage() for r in caplog.records if "/api/v1/chat" in r.getMessage())
    assert "POST" in line and "200" in line and response.request_id in line and "ms" in line  # type: ignore[operator]
    assert "logged body text" not in caplog.text  # no bodies above DEBUG


def test_save_settings_replaces_the_file_atomically_without_the_token(tmp_path: Any) -> None:
    from tekton_llm_client import load_settings, save_settings

    path = tmp_path / "settings.json"
    path.write_text("{}")
    path.chmod(0o640)
    settings = ClientSettings(component_id="saver", timeout=12.5, auth_token="sk-never-on-disk")

    assert save_settings(settings, str(path)) is True

    assert "sk-never-on-disk" not in path.read_text()
    assert load_settings("saver", str(path), load_from_env=False).timeout == 12.5
    assert path.stat().st_mode & 0o777 == 0o640  # the file's own permissions kept across the replacement
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]  # no temporary file left behind
