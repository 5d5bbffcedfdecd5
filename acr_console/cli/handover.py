"""Handing a new password over on standard output, mid-plan, before the old ones are removed
(operations/handover.py says why).

With --show-secret the password is printed and flushed when the step runs. With --json the one
JSON document is written in two parts: its first members (the new credential's facts and the
password) when the step runs, flushed, and the rest (`ok`, `outcome`) when the plan has finished.
A script still reads one document; a process stopped between the two parts has already delivered
the password, and the audit log says what happened after. A write that fails (EPIPE, ENOSPC, an
encoding) fails the step, so nothing is removed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from rich.text import Text

from ..errors import OutputError, describe_os_error
from ..secret import Secret
from .output import json_text, make_console


class StdoutHandOver:
    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.written: dict[str, Any] | None = None  # the members already written (JSON)

    @property
    def description(self) -> str:
        where = "in the JSON on standard output" if self.as_json else "on standard output"
        return f"Print the new password {where}"

    async def deliver(self, operation: str, facts: dict[str, Any], secret: Secret) -> None:
        key_id = facts.get("keyId") or facts.get("passwordKeyId")
        try:
            if self.as_json:
                doc = {**facts, "password": secret.reveal()}
                text = json_text(doc)
                # Everything but the closing brace; the rest follows in finish().
                sys.stdout.write(text[:-2] + ",\n" if text.endswith("\n}") else text[:-1] + ",")
                self.written = doc
            else:
                console = make_console(soft_wrap=True)
                console.print(Text(f"  new password: key id {key_id}, expires {facts.get('endDateTime')}",
                                   style="dim"))
                console.print(Text("  password: ", style="dim") + Text(secret.reveal(), style="bold"))
            sys.stdout.flush()
        except (OSError, UnicodeError, ValueError) as exc:  # ValueError: a closed stdout
            silence_stdout()
            raise OutputError(f"the new password (key id {key_id}) could not be written to standard output: "
                              f"{describe_os_error(exc)}") from None

    def finish(self, rest: dict[str, Any]) -> None:
        """The JSON document's remaining members, after the plan ran."""
        assert self.written is not None
        remaining = {k: v for k, v in rest.items() if k not in self.written}
        text = json_text(remaining)
        sys.stdout.write((text[2:] if text.startswith("{\n") else text[1:]) + "\n")
        sys.stdout.flush()


def silence_stdout() -> None:
    """After standard output failed: point it at /dev/null, so the interpreter's flush at exit does
    not print a traceback for the same failure (Python's documented recipe for SIGPIPE, signal
    module docs, "Note on SIGPIPE")."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
