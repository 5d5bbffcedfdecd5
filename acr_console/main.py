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


def quiet_sdk_logging() -> None:
    """Keep the SDKs' log records off stderr: every failure is one `error:` line of the console's own.

    azure-identity logs a failed sign-in at WARNING ("AzureCliCredential.get_token_info failed: Azure
    CLI not found on path", azure/identity/_internal/get_token_mixin.py) and, with no handler
    anywhere on a logger's way to the root, Python prints WARNING and above through
    `logging.lastResort` on stderr, above the error line that says the same. A NullHandler is a
    handler (Python's logging HOWTO, "Configuring Logging for a Library"), so nothing reaches the last
    resort; the records still propagate, and a program that configures logging (a handler on the
    root, e.g. `logging.basicConfig(level=logging.DEBUG)` around `main`) still sees every one."""
    import logging

    for name in ("azure", "msal"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):  # main() may run again
            logger.addHandler(logging.NullHandler())
    # `az`, the CLI credential's child, can be reaped by asyncio's child watcher thread just after
    # asyncio.run closed the loop; the watcher then logs "Loop ... that handles pid N is closed" at
    # WARNING (CPython asyncio/unix_events.py, ThreadedChildWatcher._do_waitpid): a second stderr line
    # about a process already gone. Only that record is dropped; asyncio's others still show.
    watcher = logging.getLogger("asyncio")
    if not any(isinstance(f, _ClosedLoopChild) for f in watcher.filters):
        watcher.addFilter(_ClosedLoopChild())


class _ClosedLoopChild:
    def filter(self, record: object) -> bool:
        return getattr(record, "msg", None) != "Loop %r that handles pid %r is closed"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:
        # Started with standard output closed (`acr-console … >&-`): Python then sets sys.stdout to
        # None (docs.python.org/3/library/sys.html#sys.__stdout__), and the next file opened may take
        # descriptor 1, so a result printed "to stdout" could land in a socket. A read's answer would
        # be lost and a write's report with it: refuse before anything is read or sent, as `ls >&-`
        # refuses ("write error: Bad file descriptor").
        if sys.stderr is not None:
            print_error("standard output is closed: send it to a file or to /dev/null (e.g. > /dev/null) and run again")
        return EXIT_USAGE
    quiet_sdk_logging()
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
