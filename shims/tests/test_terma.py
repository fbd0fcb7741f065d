"""Terma shim: config file side effects, session contexts, analyses against both Rhetor generations and outages."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from pathlib import Path
from typing import Any

import httpx
import pytest
from tekton_llm_client.testing import RhetorTestServer, closed_port
from tekton_llm_shims import _common
from tekton_llm_shims.terma import LLM_PROVIDERS, Config, LLMAdapter

SYSTEM_PROMPT = (
    "You are a terminal assistant that helps users with command-line tasks. Provide concise explanations and "
    "suggestions for terminal commands. Focus on being helpful, accurate, and security-conscious."
)
UNAVAILABLE = (
    "I'm currently unable to connect to the LLM adapter service. Please check the connection to the service at "
    "{} and make sure it's running properly."
)
TABLE = {
    "claude": {
        "name": "Claude",
        "models": [
            {"id": "claude-3-opus-20240229", "name": "Claude 3 Opus"},
            {"id": "claude-3-sonnet-20240229", "name": "Claude 3 Sonnet"},
            {"id": "claude-3-haiku-20240307", "name": "Claude 3 Haiku"},
        ],
        "default": "claude-3-sonnet-20240229",
    },
    "openai": {
        "name": "OpenAI",
        "models": [
            {"id": "gpt-4", "name": "GPT-4"},
            {"id": "gpt-4-turbo", "name": "GPT-4 Turbo"},
            {"id": "gpt-3.5-turbo", "name": "GPT-3.5 Turbo"},
        ],
        "default": "gpt-4",
    },
    "local": {
        "name": "Local LLM",
        "models": [{"id": "mistral-7b", "name": "Mistral 7B"}, {"id": "llama-2-13b", "name": "LLaMA 2 13B"}],
        "default": "mistral-7b",
    },
}


def config_file(home: Path) -> Path:
    return home / ".terma" / "config.json"


# -- configuration file -----------------------------------------------------------------------------------------


def test_first_construction_writes_default_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/zsh")
    monkeypatch.setenv("LLM_ADAPTER_URL", "http://adapter.example:9300")

    adapter = LLMAdapter()

    text = config_file(clean_env).read_text(encoding="utf-8")
    assert json.loads(text) == {
        "terminal": {"default_shell": "/bin/zsh", "font_size": 14, "theme": "dark"},
        "server": {"host": "0.0.0.0", "port": 8765},
        "llm": {
            "provider": "claude",
            "model": "claude-3-sonnet-20240229",
            "adapter_url": "http://adapter.example:9300",
            "adapter_ws_url": "ws://localhost:8301",
            "system_prompt": SYSTEM_PROMPT,
        },
    }
    assert list(json.loads(text)) == ["terminal", "server", "llm"]
    assert text.startswith('{\n  "terminal": {\n    "default_shell"')  # indent=2
    assert adapter.config.config_path == str(config_file(clean_env))
    assert (adapter.adapter_url, adapter.adapter_ws_url) == ("http://adapter.example:9300", "ws://localhost:8301")
    assert (adapter.provider, adapter.model) == ("claude", "claude-3-sonnet-20240229")
    assert adapter.system_prompt == SYSTEM_PROMPT


def test_fresh_home_default_is_not_warned_about_but_a_configured_retired_url_is(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_common, "_logged_retired", set())
    with caplog.at_level("WARNING", logger="tekton_llm_shims"):
        fresh = LLMAdapter()  # writes ~/.terma/config.json with the default adapter_url, then reads it back
        again = LLMAdapter()

    assert json.loads(config_file(clean_env).read_text())["llm"]["adapter_url"] == "http://localhost:8300"
    assert fresh.llm_url == again.llm_url == "http://localhost:8003"
    assert [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()] == []

    fresh.config.set("llm.adapter_url", "http://legacy-host:8301")  # the user's own choice: worth a warning
    with caplog.at_level("WARNING", logger="tekton_llm_shims"):
        LLMAdapter()
    assert [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()] == [
        "ignoring llm.adapter_url=http://legacy-host:8301 for LLM traffic: it points at the retired LLM Adapter "
        "service; requests go to Rhetor (set RHETOR_URL to choose which)"
    ]


def test_defaults_without_environment(clean_env: Path) -> None:
    adapter = LLMAdapter()

    saved = json.loads(config_file(clean_env).read_text(encoding="utf-8"))
    assert saved["llm"]["adapter_url"] == "http://localhost:8300"
    assert adapter.adapter_url == "http://localhost:8300"
    assert adapter.adapter_ws_url == "ws://localhost:8301"
    assert adapter._session_contexts == {}


def test_existing_file_is_read_and_terma_variables_override_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "custom.json"
    path.write_text(json.dumps({"llm": {"provider": "openai", "model": "gpt-4", "system_prompt": "Be brief."}}))
    monkeypatch.setenv("TERMA_LLM_MODEL", "gpt-4-turbo")

    positional = LLMAdapter(str(path))
    keyword = LLMAdapter(config_path=str(path))

    for adapter in (positional, keyword):
        assert (adapter.provider, adapter.model, adapter.system_prompt) == ("openai", "gpt-4-turbo", "Be brief.")
        assert adapter.adapter_url == "http://localhost:8300"  # not in the file: the default
    assert json.loads(path.read_text())["llm"]["model"] == "gpt-4"  # reading never rewrites the file


def test_broken_file_gives_empty_config_and_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")

    adapter = LLMAdapter(str(path))

    assert adapter.config.config == {}
    assert adapter.provider == "claude"
    assert path.read_text() == "{not json"


def test_config_get_and_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nested" / "dir" / "config.json"
    config = Config(str(path))
    assert path.exists()  # parent directories created

    config.set("llm.extra.depth", 3)
    config.set("llm.nothing", None)
    config.set("server.port.inner", "x")  # a non-dict on the way is replaced by a dict

    assert config.get("llm.extra.depth") == 3
    assert config.get("llm.nothing", "default") is None  # stored null
    assert config.get("llm.missing", "default") == "default"
    assert config.get("terminal.theme.deeper", "default") == "default"  # non-dict on the way
    assert config.get("server.port.inner") == "x"
    monkeypatch.setenv("TERMA_LLM_EXTRA_DEPTH", "7")
    assert config.get("llm.extra.depth") == "7"  # raw string from the environment
    on_disk = json.loads(path.read_text())
    assert on_disk["llm"]["extra"] == {"depth": 3}
    assert on_disk["server"] == {"host": "0.0.0.0", "port": {"inner": "x"}}


def test_config_write_that_fails_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = Config(str(path))
    config.set("llm.model", "kept")
    before = path.read_bytes()
    path.chmod(0o640)

    with pytest.raises(TypeError):
        config.set("llm.unserialisable", object())  # json fails: the legacy open("w") had truncated the file already

    assert path.read_bytes() == before
    config.set("llm.unserialisable", None)
    config.set("llm.model", "changed")
    assert json.loads(path.read_text())["llm"]["model"] == "changed"
    assert path.stat().st_mode & 0o777 == 0o640  # replaced atomically, with the file's own permissions
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["config.json"]  # no temporary file left


def test_config_provider_table(tmp_path: Path) -> None:
    config = Config(str(tmp_path / "c.json"))

    table = config.get_all_llm_providers()
    table["claude"]["models"].clear()  # a copy: the next caller still gets the full table

    assert config.get_all_llm_providers() == TABLE
    assert LLM_PROVIDERS == TABLE
    assert config.get_provider_models("local") == TABLE["local"]["models"]
    assert config.get_provider_models("nope") == []


def test_configs_of_one_file_never_share_changes(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"llm": {"model": "gpt-4", "extra": {"n": 1}}}))
    first, second = Config(str(path)), Config(str(path))

    first.get("llm")["model"] = "changed-through-get"
    second.config["llm"]["extra"]["n"] = 2
    third = Config(str(path))

    assert first.get("llm.model") == "changed-through-get"  # an instance's own dict, as before
    assert second.get("llm.extra.n") == 2
    assert (third.get("llm.model"), third.get("llm.extra.n")) == ("gpt-4", 1)
    assert json.loads(path.read_text()) == {"llm": {"model": "gpt-4", "extra": {"n": 1}}}


def test_every_config_sees_writes_at_once_and_other_processes_edits_after_the_recheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    Config(str(path)).set("llm.model", "written-here")
    assert Config(str(path)).get("llm.model") == "written-here"  # a write through any Config: seen at once

    monkeypatch.setattr("tekton_llm_shims._terma_config.RECHECK_SECONDS", 0.0)
    path.write_text(json.dumps({"llm": {"model": "edited-elsewhere-and-longer"}}))  # as another process would
    assert Config(str(path)).get("llm.model") == "edited-elsewhere-and-longer"
    path.unlink()
    assert Config(str(path)).get("llm.model") == "claude-3-sonnet-20240229"  # recreated with the defaults
    assert json.loads(path.read_text())["llm"]["model"] == "claude-3-sonnet-20240229"


def test_set_provider_and_model_persists_both_keys(clean_env: Path) -> None:
    adapter = LLMAdapter()

    adapter.set_provider_and_model("openai", "gpt-4-turbo")

    assert adapter.get_current_provider_and_model() == ("openai", "gpt-4-turbo")
    saved = json.loads(config_file(clean_env).read_text())
    assert (saved["llm"]["provider"], saved["llm"]["model"]) == ("openai", "gpt-4-turbo")
    assert LLMAdapter().get_current_provider_and_model() == ("openai", "gpt-4-turbo")


def test_set_provider_and_model_raises_os_error_when_file_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    adapter = LLMAdapter(str(path))
    path.unlink()
    path.mkdir()  # a directory where the file should be: the write fails

    with pytest.raises(OSError):
        adapter.set_provider_and_model("openai", "gpt-4")


# -- session contexts -------------------------------------------------------------------------------------------


def test_context_keeps_system_message_and_last_ten() -> None:
    adapter = LLMAdapter()

    for number in range(11):
        adapter.add_message("s", f"m{number}")
    assert len(adapter._get_session_context("s")) == 11
    adapter.add_message("s", "m11", role="assistant")

    context = adapter._session_contexts["s"]
    assert context[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert [m["content"] for m in context[1:]] == [f"m{n}" for n in range(2, 12)]
    assert context[-1]["role"] == "assistant"


def test_clear_context_resets_known_and_ignores_unknown_sessions() -> None:
    adapter = LLMAdapter()
    adapter.add_message("s", "hello")

    adapter.clear_context("s")
    adapter.clear_context("unknown")

    assert adapter._session_contexts == {"s": [{"role": "system", "content": SYSTEM_PROMPT}]}


# -- analyses against Rhetor ------------------------------------------------------------------------------------


async def test_analyze_command_sends_prompt_only_and_records_turns(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    adapter.add_message("s", "earlier turn that is never sent")

    answer = str(await adapter.analyze_command("s", "ls -la"))

    prompt = "Please explain this command concisely: ls -la"
    assert f'I received your message: "{prompt}"' in answer
    wire.check(
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
        model="claude-3-sonnet-20240229",
        provider="anthropic",
        temperature=0.7,
        max_tokens=500,
        context_id="terma",
        component="terma",
        stream=False,
    )
    assert adapter._session_contexts["s"][-2:] == [
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": answer},
    ]
    await adapter.aclose()


async def test_analyze_output_prompt_and_truncation(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    long_output = "a" * 2000 + "b" * 1 + "c" * 2000

    await adapter.analyze_output("s", "cat big.log", long_output)

    expected = "a" * 2000 + "...[output truncated]..." + "c" * 2000
    prompt = f"Please explain the output of this command: cat big.log\n\nOutput:\n{expected}"
    assert wire.only()["messages"][-1] == {"role": "user", "content": prompt}
    await adapter.aclose()


async def test_output_of_exactly_4000_characters_is_not_truncated(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    await adapter.analyze_output("s", "cmd", "x" * 4000)

    assert wire.only()["messages"][-1]["content"].endswith("Output:\n" + "x" * 4000)
    await adapter.aclose()


async def test_local_provider_is_sent_as_ollama_and_model_from_environment(
    rhetor: RhetorTestServer, wire: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMA_LLM_PROVIDER", "local")
    monkeypatch.setenv("TERMA_LLM_MODEL", "simulated-advanced")
    adapter = LLMAdapter()

    answer = str(await adapter.analyze_command("s", "df -h"))

    assert "As the advanced simulation model" in answer
    wire.check(provider="ollama", model="simulated-advanced")
    assert adapter.provider == "local"  # the attribute keeps Terma's id
    await adapter.aclose()


async def test_get_terminal_help(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()

    answer = str(await adapter.get_terminal_help("s", "find large files"))

    assert 'I received your message: "Help me with this terminal task: find large files"' in answer
    assert adapter._session_contexts["s"][-1] == {"role": "assistant", "content": answer}
    await adapter.aclose()


async def test_stream_command_analysis_awaits_callback_per_chunk(rhetor: RhetorTestServer, wire: Any) -> None:
    adapter = LLMAdapter()
    chunks: list[str] = []

    async def callback(text: str) -> None:
        chunks.append(text)

    await adapter.stream_command_analysis("s", "ls", callback)

    assert len(chunks) > 1 and all(isinstance(chunk, str) and chunk for chunk in chunks)
    text = "".join(chunks)
    assert 'I received your message: "Please explain this command concisely: ls"' in text
    assert wire.check(stream=True, context_id="terma", temperature=0.7, max_tokens=500)
    assert adapter._session_contexts["s"][-1] == {"role": "assistant", "content": text}
    await adapter.aclose()


async def test_stream_command_analysis_accepts_plain_function(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    chunks: list[str] = []

    await adapter.stream_command_analysis("s", "pwd", chunks.append)

    assert "pwd" in "".join(chunks)
    await adapter.aclose()


async def test_callback_exception_propagates(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    async def callback(text: str) -> None:
        raise RuntimeError("callback broke")

    with pytest.raises(RuntimeError, match="callback broke"):
        await adapter.stream_command_analysis("s", "ls", callback)
    await adapter.aclose()


async def test_get_available_providers(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()

    providers = await adapter.get_available_providers()

    if rhetor.profile == "classic":
        raw = httpx.get(rhetor.url + "/providers").json()
        assert providers == raw["providers"]  # the server's mapping, unchanged
    else:
        assert providers == TABLE  # v1 has no provider listing
    await adapter.aclose()


# -- failures ---------------------------------------------------------------------------------------------------


async def test_outage_gives_legacy_strings(rhetor_down: str) -> None:
    adapter = LLMAdapter()
    chunks: list[str] = []

    command = await adapter.analyze_command("s", "ls")
    output = await adapter.analyze_output("s", "ls", "out")
    help_text = str(await adapter.get_terminal_help("s", "task"))
    await adapter.stream_command_analysis("s", "ls", chunks.append)
    providers = await adapter.get_available_providers()

    assert command == output == UNAVAILABLE.format(rhetor_down)  # the URL contacted, not the retired :8300
    prefix = "Error getting terminal help: "
    assert help_text.startswith(prefix) and len(help_text) > len(prefix)
    assert len(chunks) == 1 and chunks[0].startswith("Error analyzing command: ")
    assert providers == TABLE
    # Kept quirk: the fallback text is stored as an assistant turn.
    assert {"role": "assistant", "content": command} in adapter._session_contexts["s"]


async def test_service_failure_text_names_the_rhetor_url_contacted(rhetor: RhetorTestServer, wire: Any) -> None:
    wire.fail(503)
    adapter = LLMAdapter(adapter_url="http://localhost:8080")  # phase-1 docs form: not Rhetor, so not used
    adapter.adapter_url = "http://shown-in-legacy-message:8300"

    answer = await adapter.analyze_command("s", "ls")

    assert answer == UNAVAILABLE.format(rhetor.url)
    assert adapter.adapter_url == "http://shown-in-legacy-message:8300"  # the reported attribute is unchanged
    assert wire.only()["messages"][-1]["content"] == "Please explain this command concisely: ls"  # Rhetor was asked
    await adapter.aclose()


@pytest.mark.parametrize("rhetor", ["classic"], indirect=True)  # v1 reports provider errors with HTTP 500
async def test_in_band_provider_error_is_a_failure_not_an_answer_without_text(rhetor: RhetorTestServer) -> None:
    """Classic Rhetor's HTTP 200 ``{"error": …}``: the original read it as an answer without text ("No response
    from LLM adapter"); the shim reports the failure (legacy-adapters.md §0.3, MIGRATION.md §5.1)."""
    rhetor.faults.error_in_200 = True
    adapter = LLMAdapter()

    command = await adapter.analyze_command("s", "ls")
    help_text = str(await adapter.get_terminal_help("s", "task"))

    assert command == UNAVAILABLE.format(rhetor.url)
    assert help_text.startswith("Error getting terminal help: ") and help_text != "No response from LLM adapter"
    await adapter.aclose()


async def test_outer_guard_for_bad_arguments() -> None:
    adapter = LLMAdapter()

    result = await adapter.analyze_output("s", "ls", None)  # type: ignore[arg-type]

    assert result is not None and result.startswith("Error analyzing output: ")


# -- where the traffic goes -------------------------------------------------------------------------------------


def test_default_legacy_url_is_not_used_for_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLMAdapter().llm_url == "http://localhost:8003"
    monkeypatch.setenv("RHETOR_PORT", "8123")
    assert LLMAdapter().llm_url == "http://localhost:8123"


def test_configured_adapter_url_is_used_as_rhetor_url_unless_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMA_LLM_ADAPTER_URL", "http://rhetor.internal:8003")
    assert LLMAdapter().llm_url == "http://rhetor.internal:8003"
    monkeypatch.setenv("TERMA_LLM_ADAPTER_URL", "http://old-host:8301")
    assert LLMAdapter().llm_url == "http://localhost:8003"
    monkeypatch.setenv("RHETOR_URL", "http://rhetor.standard:9000")
    monkeypatch.setenv("TERMA_LLM_ADAPTER_URL", "http://rhetor.internal:8003")
    assert LLMAdapter().llm_url == "http://rhetor.standard:9000"
    assert LLMAdapter(adapter_url="http://explicit:1234").llm_url == "http://rhetor.standard:9000"
    monkeypatch.delenv("RHETOR_URL")
    assert LLMAdapter(adapter_url="http://explicit:1234").llm_url == "http://explicit:1234"
    assert LLMAdapter(adapter_url="http://localhost:8080").llm_url == "http://rhetor.internal:8003"


async def test_configured_adapter_url_carries_traffic(
    rhetor: RhetorTestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RHETOR_URL")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"llm": {"adapter_url": rhetor.url}}))
    adapter = LLMAdapter(str(path))

    answer = str(await adapter.analyze_command("s", "uptime"))

    assert "uptime" in answer
    await adapter.aclose()


async def test_one_client_per_adapter_reused_and_closable(rhetor: RhetorTestServer) -> None:
    adapter = LLMAdapter()
    await adapter.analyze_command("s", "a")
    first = adapter._client
    await adapter.analyze_command("s", "b")

    assert first is not None and adapter._client is first
    await adapter.aclose()
    assert getattr(adapter, "_client") is None  # noqa: B009 - re-read after the narrowing above
    assert "c" in str(await adapter.analyze_command("s", "c"))  # reconnects lazily
    await adapter.aclose()


async def test_per_request_adapters_share_one_client_that_collection_never_closes(rhetor: RhetorTestServer) -> None:
    first = LLMAdapter()  # Terma's pattern: a new adapter per request, never closed
    await first.analyze_command("s", "ls")
    client = first._client
    assert client is not None
    closed: list[bool] = []
    original = client.aclose

    async def recording_close() -> None:
        closed.append(True)
        await original()

    client.aclose = recording_close  # type: ignore[method-assign]
    collected = weakref.ref(first)
    tasks_before = asyncio.all_tasks()
    del first
    gc.collect()
    assert collected() is None  # the adapter really is gone
    # Whatever its collection scheduled (a close would be a task) has run to its end before we look.
    await asyncio.gather(*(asyncio.all_tasks() - tasks_before - {asyncio.current_task()}))
    second = LLMAdapter()
    answer = str(await second.analyze_command("s", "pwd"))

    assert closed == []
    assert second._client is client
    assert 'I received your message: "Please explain this command concisely: pwd"' in answer
    assert rhetor.attempts("/health") == 1  # the generation was detected once, not per adapter


# -- answers without text ---------------------------------------------------------------------------------------


async def test_answer_without_text_field_is_no_response_text(textless: Any) -> None:
    adapter = LLMAdapter()

    command = await adapter.analyze_command("s", "ls")
    output = await adapter.analyze_output("s", "ls", "")
    help_text = await adapter.get_terminal_help("s", "task")

    assert command == output == help_text == "No response from LLM adapter"
    assert len(textless.bodies) == 3  # Rhetor was asked each time
    assert adapter._session_contexts["s"][-1] == {"role": "assistant", "content": "No response from LLM adapter"}


async def test_empty_text_is_returned_empty_and_not_stored(textless: Any) -> None:
    textless.answer = ""
    adapter = LLMAdapter()

    assert await adapter.analyze_command("s", "ls") == ""
    assert adapter._session_contexts["s"] == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Please explain this command concisely: ls"},
    ]


# -- credentials ------------------------------------------------------------------------------------------------


async def test_credentials_of_configured_urls_stay_out_of_answers_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dead = closed_port()
    monkeypatch.setenv("TERMA_LLM_ADAPTER_URL", f"http://terma:s3cret-pw@127.0.0.1:{dead}")
    chunks: list[str] = []

    with caplog.at_level("DEBUG"):
        adapter = LLMAdapter()
        command = await adapter.analyze_command("s", "ls")
        help_text = str(await adapter.get_terminal_help("s", "task"))
        await adapter.stream_command_analysis("s", "ls", chunks.append)

    assert adapter.llm_url == f"http://terma:s3cret-pw@127.0.0.1:{dead}"  # the traffic did go there
    assert command == UNAVAILABLE.format(f"http://127.0.0.1:{dead}")
    assert help_text.startswith("Error getting terminal help: ") and chunks[0].startswith("Error analyzing command: ")
    texts = [command, help_text, *chunks, *(record.getMessage() for record in caplog.records)]
    assert [text for text in texts if "s3cret" in text] == []
    assert any(str(dead) in record.getMessage() for record in caplog.records)  # the failure was logged


def test_retired_url_warning_never_shows_credentials(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TERMA_LLM_ADAPTER_URL", "http://old:s3cret-pw@legacy-host:8300")

    with caplog.at_level("WARNING", logger="tekton_llm_shims"):
        LLMAdapter()

    messages = [record.getMessage() for record in caplog.records]
    assert any("TERMA_LLM_ADAPTER_URL=http://legacy-host:8300" in message for message in messages), messages
    assert not any("s3cret" in message for message in messages)
