"""Start the console from the session's options (the entry point's, when no command is given)."""

from __future__ import annotations

from ..config import load_settings
from ..console_output import print_error
from ..errors import EXIT_OK, ConsoleError
from ..session import Session, SessionOptions, resolve


def run_tui(options: SessionOptions) -> int:
    from .app import AcrConsoleApp

    try:
        settings = load_settings()
        target = resolve(options, settings)
        # Checked whole before the console opens, so a mistake is one line on a normal terminal: a
        # keymap id or theme that does not exist, an audit log path that is not a file.
        from ..operations.audit import AuditLog
        from .keymap import check_console_settings

        check_console_settings(settings)
        AuditLog().check_path()
        # The session outlives the app: a sandbox it started serves until the console has closed.
        with Session(options, settings) as session:
            app = AcrConsoleApp(session.connect(target), settings=settings, session=session,
                                profile_name=target.profile_name, accent=target.profile.accent)
            result = app.run()
    except ConsoleError as err:  # a bad configuration file, an unknown profile
        print_error(str(err))
        return err.exit_code
    return result if isinstance(result, int) else EXIT_OK
