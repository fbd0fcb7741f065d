"""Credentials never leave the shims: ``user:password@`` is removed from every URL in a text.

The client already strips credentials from its own messages, but the shims also build texts of their own (legacy
fallback strings naming ``adapter_url``, log lines naming a legacy URL, the service's health body) and pass on
texts of errors raised outside the client. Every such text goes through ``redact_credentials`` first.
"""

from __future__ import annotations

import re

__all__ = ["redact_credentials"]

# A scheme, then the authority's user-info up to its last "@" (the authority ends at "/", "?", "#" or whitespace).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#]*@")


def redact_credentials(text: str) -> str:
    """``text`` with the user-info of every ``scheme://user:password@host`` URL removed."""
    return _USERINFO.sub(r"\1", text) if "@" in text else text
