"""Hermes's HTTP and WebSocket API."""
