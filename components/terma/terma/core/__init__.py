"""Terma core services."""
