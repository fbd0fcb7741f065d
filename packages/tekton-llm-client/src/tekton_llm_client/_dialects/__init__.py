"""Rhetor generations: each dialect maps the logical request to its wire shape and parses what comes back."""

from __future__ import annotations

from .base import HttpDialect
from .classic import ClassicDialect
from .v1 import V1Dialect

DIALECTS: dict[str, HttpDialect] = {"v1": V1Dialect(), "classic": ClassicDialect()}

__all__ = ["DIALECTS", "ClassicDialect", "HttpDialect", "V1Dialect"]
