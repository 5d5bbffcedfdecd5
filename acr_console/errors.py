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
