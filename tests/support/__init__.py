"""Helpers and fixtures the test modules share; fixtures are registered as plugins in tests/conftest.py."""
