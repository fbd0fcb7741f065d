"""Line endings, BOM and encoding cookies survive byte for byte outside the rewritten lines."""

from __future__ import annotations

import pytest

OLD = b"from terma.core.llm_adapter import LLMAdapter"
NEW = b"from tekton_llm_shims.terma import LLMAdapter"

CASES = {
    "crlf": b"import os\r\n\r\n" + OLD + b"  # c\r\n\r\nx = 'a'\r\n",
    "lf": b"import os\n\n" + OLD + b"\n",
    "mixed-endings": b"import os\r\n" + OLD + b"\nx = 1\r\ny = 2\n",
    "no-final-newline": b"import os\n" + OLD,
    "bom": b"\xef\xbb\xbf# comment\n" + OLD + b"\ns = '\xc3\xa9t\xc3\xa9'\n",
    "bom-crlf": b"\xef\xbb\xbf" + OLD + b"\r\n",
    "latin-1-cookie": b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + OLD + b"\ns = '\xe9\xe8'\n",
    "cp1252-cookie-second-line": b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n"
    + OLD
    + b"\nx = '\x80'\r\n",
    "tabs-and-form-feed": b"\x0c\nif True:\n\t" + OLD + b"\n\tx = 1\n",
}


@pytest.mark.parametrize("before", list(CASES.values()), ids=list(CASES))
def test_only_the_import_bytes_change(tmp_path, tree, cli, before: bytes) -> None:
    root = tree({"pkg/mod.py": before})
    result = cli("rewrite", root)
    assert result.code == 0, result.err
    assert (root / "pkg/mod.py").read_bytes() == before.replace(OLD, NEW)


def test_split_import_in_a_crlf_file_uses_crlf_for_the_new_line(tree, cli) -> None:
    root = tree({"m.py": b"x = 1\r\nfrom terma.core.llm_adapter import LLMAdapter, helper\r\ny = 2\r\n"})
    assert cli("rewrite", root).code == 0
    assert (root / "m.py").read_bytes() == (
        b"x = 1\r\n"
        b"from tekton_llm_shims.terma import LLMAdapter\r\n"
        b"from terma.core.llm_adapter import helper\r\n"
        b"y = 2\r\n"
    )


def test_diff_of_a_crlf_file_is_printed_and_nothing_is_written(tree, cli) -> None:
    before = b"a = 1\r\n" + OLD + b"\r\n"
    root = tree({"m.py": before})
    result = cli("rewrite", "--diff", root)
    assert result.code == 0
    assert (root / "m.py").read_bytes() == before
    assert "-from terma.core.llm_adapter import LLMAdapter\r\n+from tekton_llm_shims.terma import LLMAdapter\r\n" in (
        result.out
    )


def test_file_libcst_cannot_reproduce_is_refused_and_untouched(tree, cli) -> None:
    # Bare CR line endings: libcst's round trip is not exact, so the file must not be rewritten.
    before = b"import os\r" + OLD + b"\rx = 1\r"
    root = tree({"m.py": before})
    result = cli("rewrite", root)
    assert result.code == 2
    assert (root / "m.py").read_bytes() == before
    assert "does not reproduce this file exactly" in result.err
