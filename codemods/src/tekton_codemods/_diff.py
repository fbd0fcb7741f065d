"""Unified diffs of a rewrite, in the form ``git apply`` and reviewers expect."""

from __future__ import annotations

import difflib

from ._source import source_lines

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, old: str, new: str) -> str:
    """``--- a/path`` / ``+++ b/path`` diff; a last line without a newline is marked like git does."""
    lines = difflib.unified_diff(
        source_lines(old),
        source_lines(new),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out: list[str] = []
    for line in lines:
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)
