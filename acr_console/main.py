"""The `acr-console` program: the command line parsed once, then the console or a command.

Above both front ends, so neither imports the other: the global options are the session's
(`session.add_arguments`), the commands are the command line's (`cli.main.add_commands`). With no
command the session's options go to the console (`tui.launch`); with one, the parsed command goes
to `cli.main.run`. Textual is imported only on the console's way, so no command pays for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import startup_gc
from .cli.main import add_commands, run
from .console_output import print_error
from .errors import EXIT_USAGE
from .session import SessionOptions, add_arguments


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse exits with 2 already; this only makes the message match the rest of the console.
        self.print_usage(sys.stderr)
        print_error(f"{message}. Run 'acr-console --help' for usage.")
        raise SystemExit(EXIT_USAGE)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given the argv about to be parsed, only its command's module is imported."""
    parser = _Parser(
        prog="acr-console",
        description="See and control who can access your Azure Container Registries. "
        "With no command, opens the terminal console.",
    )
    add_arguments(parser)
    add_commands(parser, argv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    options = SessionOptions.from_args(args)
    if args.command is None:
        from .tui.launch import run_tui

        return run_tui(options)
    return run(args, options)


def entry() -> NoReturn:
    """The `acr-console` program: `main` in a process of its own (see startup_gc)."""
    startup_gc.begin()
    code = main()
    startup_gc.settle(exiting=True)  # the console has settled already; a command is done
    sys.exit(code)


if __name__ == "__main__":
    entry()
