"""The `acr-console` commands: each module adds its sub-commands, and `run` runs the one parsed.

The program's parser, with the global options, is the entry point's (`acr_console.main`); the
commands reach Azure through a session (`acr_console.session`) like the console does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

from ..config import Settings, load_settings
from ..console_output import print_error
from ..errors import EXIT_FAILED, ConsoleError, Stopped, exit_code_for_signal
from ..session import VALUED_OPTIONS, Session, SessionOptions

# Each module adds its sub-commands; keeping the list here makes the command set visible at a glance.
# Only the module of the command being run is imported: all of them together pull in rich tables,
# the access analysis, every operation and cryptography, about 0.3 s before the first request.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "registries": ("registries",),
    "access_cmd": ("access",),
    "principal_cmd": ("principal", "expiring"),
    "report_cmd": ("report",),  # issue 18
    "ops_create": ("create-principal",),
    "ops_credentials": ("reset-credential", "add-certificate", "remove-credential"),
    "ops_assign": ("assign", "unassign"),
    "ops_revoke": ("revoke",),
    "ops_anonymous": ("disable-anonymous-pull",),
    "ops_tokens": ("disable-token", "remove-token-password"),
    "ops_admin_user": ("disable-admin-user",),  # issue 16
    "ops_login": ("test-login",),
    "login_cmd": ("login", "logout"),
    "ops_audit": ("audit",),
    "diff_cmd": ("diff",),  # issue 18: two reports compared, no Azure
    "findings_cmd": ("findings",),  # issue 18; `findings --fix` writes (see writes())
    "sandbox_cmd": ("sandbox",),
}


# The commands that may write: before anything is sent they check that the audit log can be written
# (a regular file or none yet). The others read, and never touch the log's path.
WRITE_COMMANDS = frozenset(name for module, names in COMMAND_MODULES.items()
                           if module.startswith("ops_") and module not in ("ops_login", "ops_audit") for name in names)


def writes(args: argparse.Namespace) -> bool:
    """Whether this command line may write: the write commands, and `findings --fix RULE`."""
    fixing = args.command == "findings" and getattr(args, "fix_rule", None) is not None
    return args.command in WRITE_COMMANDS or fixing


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
        elif token in VALUED_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            owner = {m for m, names in COMMAND_MODULES.items() if token in names}
            return owner or set(COMMAND_MODULES)
    return set()


def add_commands(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """The sub-commands; given the argv about to be parsed, only its command's module is imported."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _modules_for(argv)
    for module, names in COMMAND_MODULES.items():
        if module in wanted:
            _module(module).add_parser(sub)
        else:
            # Named so usage and "invalid choice" messages list every command; never parsed.
            for name in names:
                sub.add_parser(name, add_help=False)


async def _run_with_azure(args: argparse.Namespace, options: SessionOptions, settings: Settings) -> int:
    from ..azure.clients import AzureClients
    from ..azure.errors import SignInError

    # A sandbox the session starts serves exactly as long as the command runs.
    with Session(options, settings) as session:
        connection = session.connect()
        try:
            async with AzureClients(connection) as az:
                return await args.handler(args, az)
        except SignInError as err:
            # Which identity failed (with several managed identities on a host, the one that matters).
            err.message = f"signing in with {connection.sign_in_label}: {err.message}"
            raise


def _tolerant_streams() -> None:
    """Text a terminal cannot encode (a Latin-1 or ASCII locale) is escaped, not a UnicodeEncodeError
    half-way through a result: a display name's accent must not cost a write its report."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def _raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def run(args: argparse.Namespace, options: SessionOptions) -> int:
    """Run the parsed command; every failure is one line on stderr and the family's exit code."""
    _tolerant_streams()
    # A hang-up or SIGTERM ends a command as Ctrl+C does: the session closes (its sandbox stops),
    # and the exit status is the shell's 128 + n. A write in progress stops itself more gently.
    if threading.current_thread() is threading.main_thread():  # signal handlers can be set nowhere else
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_stopped)
    try:
        # The configuration is checked whole before anything else, by every command but the sandbox's
        # own (which reads none): a bad file or variable is an error, never a silent default.
        settings = load_settings() if args.command != "sandbox" else Settings()
        if writes(args):
            from ..operations.audit import AuditLog

            AuditLog().check_path()
        if getattr(args, "needs_azure", True):
            return asyncio.run(_run_with_azure(args, options, settings))
        return args.handler(args)
    except ConsoleError as err:  # Azure's refusals, bad input, bad configuration: one line each
        print_error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Stopped as stop:
        with contextlib.suppress(OSError):  # after a hang-up there may be no terminal left to tell
            print_error(f"stopped by {signal.Signals(stop.signum).name}")
        return exit_code_for_signal(stop.signum)
    except BrokenPipeError:
        # The reader went away (`| head`): as a pipeline expects, no message, SIGPIPE's status.
        # Writes are not affected: their reports catch output failures themselves (ops_common).
        from .handover import silence_stdout

        silence_stdout()
        return exit_code_for_signal(signal.SIGPIPE)
    except Exception as exc:  # the last line of defence: a message, never a traceback
        from ..azure.errors import from_exception

        failure = from_exception(exc)
        print_error(str(failure))
        return failure.exit_code or EXIT_FAILED
