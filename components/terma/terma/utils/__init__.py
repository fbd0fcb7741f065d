"""Terma utilities."""
