"""Telos core: requirements and their review."""
