"""Engram core: the memory store."""
