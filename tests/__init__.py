"""Liaison test suite (a package, so test folders such as tests/tui never shadow the real packages)."""
