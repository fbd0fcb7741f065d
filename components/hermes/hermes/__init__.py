"""Hermes: message bus and service discovery (sample legacy component for the migration workspace)."""

__version__ = "0.1.0"
