"""Engram: memory for Tekton components (sample legacy component for the migration workspace)."""

__version__ = "0.1.0"
