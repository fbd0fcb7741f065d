"""Terma's HTTP and WebSocket API."""
