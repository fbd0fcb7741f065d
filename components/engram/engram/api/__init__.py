"""Engram's HTTP API."""
