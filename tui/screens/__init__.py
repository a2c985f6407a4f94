"""Screens of the Liaison TUI, one per module."""
