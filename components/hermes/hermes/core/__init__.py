"""Hermes core services."""
