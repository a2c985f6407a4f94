"""Modal screens of the Liaison TUI: each only dismisses with a value."""
