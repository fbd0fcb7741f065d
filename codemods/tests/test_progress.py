"""The progress bar appears only on a terminal, and drawing it never changes what a run does."""

from __future__ import annotations

import io

import pytest
from tekton_codemods import cli as cli_module
from tekton_codemods._progress import wants_bar


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_only_on_an_interactive_terminal(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert wants_bar(_Tty()) is True
    assert wants_bar(io.StringIO()) is False
    monkeypatch.setenv("TERM", "dumb")
    assert wants_bar(_Tty()) is False


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_run_with_the_bar_drawn_gives_the_same_result(tree, cli, monkeypatch, jobs) -> None:
    monkeypatch.setattr(cli_module, "wants_bar", lambda: True)
    root = tree({f"m{i}.py": "from telos.core.llm_adapter import LLMAdapter\n" for i in range(4)} | {"x.py": "1\n"})
    result = cli("rewrite", root, "-j", jobs)
    assert result.code == 0
    assert result.summary == (5, 4, 4, 0)
    assert all((root / f"m{i}.py").read_text() == "from tekton_llm_shims.telos import LLMAdapter\n" for i in range(4))
