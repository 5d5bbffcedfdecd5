"""Start the TUI from the command line's options."""

from __future__ import annotations

import argparse

from ..errors import EXIT_OK, EXIT_USAGE


def run_tui(args: argparse.Namespace) -> int:
    from ..cli.output import print_error
    from ..cli.session import open_connection
    from ..config import ConfigError, load_settings
    from .app import AcrConsoleApp

    try:
        settings = load_settings()
        with open_connection(args) as conn:
            app = AcrConsoleApp(conn, settings=settings, profile_name=getattr(args, "profile", None),
                                accent=getattr(args, "accent", None))
            result = app.run()
    except ConfigError as err:
        print_error(str(err))
        return EXIT_USAGE
    return result if isinstance(result, int) else EXIT_OK
