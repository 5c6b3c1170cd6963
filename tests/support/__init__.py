"""Helpers the tests share (import them as `tests.support.<module>`)."""
