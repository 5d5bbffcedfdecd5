"""The `acr-console` command line: global options, sub-commands, and the TUI when none is given."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ..azure.connection import CLOUDS, AuthMethod
from ..azure.errors import EXIT_FAILED, EXIT_USAGE, AzureError
from . import (
    access_cmd,
    ops_assign,
    ops_audit,
    ops_create,
    ops_credentials,
    ops_login,
    ops_revoke,
    principal_cmd,
    registries,
    sandbox_cmd,
)
from .output import print_error

# Each module adds its sub-command; keeping the list here makes the command set visible at a glance.
COMMAND_MODULES = [registries, access_cmd, principal_cmd, ops_create, ops_credentials, ops_assign, ops_revoke,
                   ops_login, ops_audit, sandbox_cmd]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse exits with 2 already; this only makes the message match the rest of the console.
        self.print_usage(sys.stderr)
        print_error(f"{message}. Run 'acr-console --help' for usage.")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="acr-console",
        description="See and control who can access your Azure Container Registries. "
        "With no command, opens the terminal console.",
    )
    g = parser.add_argument_group("connection")
    g.add_argument("--sandbox", action="store_true",
                   help="use the local sandbox in the default data folder (started if none is serving)")
    g.add_argument("--sandbox-data", metavar="DIR", help="use the sandbox whose data is in DIR (implies --sandbox)")
    g.add_argument("--profile", metavar="NAME",
                   help="a profile from the configuration file (cloud, tenant, subscriptions, sign-in, read-only); "
                   "the options below override it")
    # Defaults are None so an option given here can be told apart from one the profile supplies.
    g.add_argument("--cloud", choices=sorted(CLOUDS), help="Azure cloud (default AzureCloud)")
    g.add_argument("--tenant", help="tenant id or domain to sign in to")
    g.add_argument("--subscription", action="append", metavar="ID",
                   help="limit to this subscription (repeatable; default: every visible one)")
    g.add_argument("--auth", choices=[m.value for m in AuthMethod if m is not AuthMethod.SECRET],
                   help="how to sign in: Azure CLI (default), device code (over SSH), environment variables, "
                   "managed identity, or a browser")
    g.add_argument("--read-only", action="store_true", help="refuse every write before anything is sent")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


async def _run_with_azure(args: argparse.Namespace) -> int:
    from ..azure.clients import AzureClients
    from .session import open_connection

    with open_connection(args) as conn:
        async with AzureClients(conn) as az:
            return await args.handler(args, az)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from ..tui.launch import run_tui

        return run_tui(args)
    try:
        if getattr(args, "needs_azure", True):
            return asyncio.run(_run_with_azure(args))
        return args.handler(args)
    except AzureError as err:
        print_error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: a message, never a traceback
        from ..azure.errors import from_exception
        from ..config import ConfigError
        from .session import UsageError

        if isinstance(exc, UsageError | ConfigError):
            print_error(str(exc))
            return EXIT_USAGE
        err = from_exception(exc)
        print_error(str(err))
        return err.exit_code or EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
