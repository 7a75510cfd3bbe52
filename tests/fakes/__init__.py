"""Fake platform servers for tests."""
