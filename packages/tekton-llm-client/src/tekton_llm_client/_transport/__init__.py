"""Transports: the only modules that import httpx or websockets."""
