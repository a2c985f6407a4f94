"""The `liaison` command line (`tui/cli/main.py` assembles it from one module per command group).

`tui.cli.main` is the entry point of the `liaison` console script and of `python -m tui`.
"""

from tui.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
