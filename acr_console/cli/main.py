"""The `acr-console` command line: global options, sub-commands, and the TUI when none is given."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from .. import startup_gc
from ..azure.connection import CLOUDS, AuthMethod
from ..errors import EXIT_FAILED, EXIT_USAGE, ConsoleError
from .output import print_error

# Each module adds its sub-commands; keeping the list here makes the command set visible at a glance.
# Only the module of the command being run is imported: all of them together pull in rich tables,
# the access analysis, every operation and cryptography, about 0.3 s before the first request.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "registries": ("registries",),
    "access_cmd": ("access",),
    "principal_cmd": ("principal", "expiring"),
    "ops_create": ("create-principal",),
    "ops_credentials": ("reset-credential", "add-certificate", "remove-credential"),
    "ops_assign": ("assign", "unassign"),
    "ops_revoke": ("revoke",),
    "ops_login": ("test-login",),
    "ops_audit": ("audit",),
    "sandbox_cmd": ("sandbox",),
}
# Global options that take a value, to find the command word in argv without parsing it.
_VALUED = ("--sandbox-data", "--profile", "--cloud", "--tenant", "--subscription", "--auth")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{name}")


def _modules_for(argv: Sequence[str] | None) -> set[str]:
    """The command modules to import for parsing argv: its command's only; none for the console
    (no command); all of them for --help, an unknown command, or when argv is not known."""
    if argv is None:
        return set(COMMAND_MODULES)
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-h", "--help", "--"):
            return set(COMMAND_MODULES)
        elif token in _VALUED:
            skip = True
        elif not token.startswith("-"):
            owner = {m for m, names in COMMAND_MODULES.items() if token in names}
            return owner or set(COMMAND_MODULES)
    return set()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
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
    wanted = _modules_for(argv)
    for module, names in COMMAND_MODULES.items():
        if module in wanted:
            _module(module).add_parser(sub)
        else:
            # Named so usage and "invalid choice" messages list every command; never parsed.
            for name in names:
                sub.add_parser(name, add_help=False)
    return parser


async def _run_with_azure(args: argparse.Namespace) -> int:
    from ..azure.clients import AzureClients
    from .session import open_connection

    with open_connection(args) as conn:
        async with AzureClients(conn) as az:
            return await args.handler(args, az)


def entry() -> NoReturn:
    """The `acr-console` program: `main` in a process of its own (see startup_gc)."""
    startup_gc.begin()
    code = main()
    startup_gc.settle(exiting=True)  # the console has settled already; a command is done
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    if args.command is None:
        from ..tui.launch import run_tui

        return run_tui(args)
    try:
        if getattr(args, "needs_azure", True):
            return asyncio.run(_run_with_azure(args))
        return args.handler(args)
    except ConsoleError as err:  # Azure's refusals, bad input, bad configuration: one line each
        print_error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: a message, never a traceback
        from ..azure.errors import from_exception

        err = from_exception(exc)
        print_error(str(err))
        return err.exit_code or EXIT_FAILED

if __name__ == "__main__":
    entry()
