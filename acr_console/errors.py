"""The console's error family, and the exit code each member means.

Every front end ends a failed command the same way: it catches `ConsoleError`, prints `str(err)`
and exits with `err.exit_code`. The codes are the README's ("Exit codes"): they belong to the kind
of failure, not to the layer that found it, so they live here, below every layer.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a write or read failed (Azure refused, the network broke, a step failed)
EXIT_USAGE = 2  # bad options or input: nothing was sent
EXIT_NOT_FOUND = 3  # the registry, principal or assignment named does not exist
EXIT_NOT_PERMITTED = 4  # Azure refused for lack of permission, or read-only mode refused a write


class ConsoleError(Exception):
    """A failure the console can explain in one line. Subclasses set `exit_code`."""

    exit_code: int = EXIT_FAILED


class UsageError(ConsoleError, ValueError):
    """Bad options or input, found before anything was sent: exit code 2."""

    exit_code = EXIT_USAGE


class InputError(UsageError):
    """Bad input to an operation, naming the field it belongs to.

    `field` is the request's field name (e.g. "out"): the CLI shows it as its flag (`--out`), a form
    shows the message under that field's own label. `None` means the input as a whole.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Stopped(BaseException):
    """SIGTERM or SIGHUP outside a running plan: ends the command as Ctrl+C's KeyboardInterrupt
    does (a BaseException, so no `except Exception` swallows it). A running plan handles the
    signals itself (operations/runner.py) and stops cleanly instead."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_code_for_signal(signum: int) -> int:
    """128 + the signal's number, as shells report a process a signal ended (130 for SIGINT, 129
    for SIGHUP, 143 for SIGTERM): a script tells an interrupted write from a failed one."""
    return 128 + signum


class LocalError(ConsoleError):
    """Something on this machine failed during a write (a file, the terminal, the audit log), not
    Azure. `code` names the kind for step results and JSON."""

    code = "LocalFailure"


class OutputError(LocalError):
    """A result or a secret could not be written where it was to go: standard output closed
    (EPIPE) or full (ENOSPC), a terminal that cannot encode it, a file."""

    code = "OutputFailed"


class AuditError(LocalError):
    """The audit log cannot be written: a write is refused before anything is sent, so the exit code
    is bad usage's (2), as for an audit log path that is not a regular file (AuditLog.check_path)."""

    code = "AuditLogUnwritable"
    exit_code = EXIT_USAGE


class BusyError(LocalError):
    """Another operator's write on the same target holds it (see operations/locks.py)."""

    code = "TargetBusy"


def describe_os_error(exc: BaseException) -> str:
    """An OSError as a person reads it: 'No space left on device (ENOSPC)', never the class name."""
    import errno

    if isinstance(exc, UnicodeError):
        return "the terminal's character encoding cannot show it"
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno)
        text = exc.strerror or str(exc)
        return f"{text} ({name})" if name else text
    return str(exc) or type(exc).__name__
