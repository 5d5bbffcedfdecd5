"""Start the TUI from the command line's options."""

from __future__ import annotations

import argparse

from ..azure.errors import EXIT_OK


def run_tui(args: argparse.Namespace) -> int:
    from ..cli.session import open_connection
    from .app import AcrConsoleApp

    with open_connection(args) as conn:
        result = AcrConsoleApp(conn).run()
    return result if isinstance(result, int) else EXIT_OK
