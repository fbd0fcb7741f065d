"""Telos's HTTP API."""
