"""Start the console from the session's options (the entry point's, when no command is given)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import Settings, load_settings
from ..console_output import print_error
from ..errors import EXIT_OK, ConsoleError
from ..session import Session, SessionOptions, Target, resolve

if TYPE_CHECKING:
    from .app import AcrConsoleApp


def run_tui(options: SessionOptions) -> int:
    try:
        settings, target = prepare(options)
        # The session outlives the app: a sandbox it started serves until the console has closed.
        with Session(options, settings) as session:
            result = console_app(session, target).run()
    except ConsoleError as err:  # a bad configuration file, an unknown profile
        print_error(str(err))
        return err.exit_code
    return result if isinstance(result, int) else EXIT_OK


def prepare(options: SessionOptions) -> tuple[Settings, Target]:
    """The settings and what to connect to, checked whole before the console opens, so a mistake is
    one line on a normal terminal: the configuration and ACR_CONSOLE_* variables, a keymap id or
    theme that does not exist, an audit log path that is not a file. Raises ConsoleError."""
    from ..operations.audit import AuditLog
    from .keymap import check_console_settings

    settings = load_settings()
    target = resolve(options, settings)
    check_console_settings(settings)
    AuditLog().check_path()
    return settings, target


def console_app(session: Session, target: Target) -> AcrConsoleApp:
    """The console on `target`'s connection (made by `session`, which may start a sandbox)."""
    from .app import AcrConsoleApp

    return AcrConsoleApp(session.connect(target), settings=session.settings, session=session,
                         profile_name=target.profile_name, accent=target.profile.accent)
