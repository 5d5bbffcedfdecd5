"""Printing results: JSON for scripts, rich tables for people, errors on stderr without tracebacks."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.text import Text


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def stdout_console() -> Console:
    # highlight=False: directory text must appear as typed, never recoloured or interpreted.
    return Console(highlight=False, soft_wrap=False)


def _stderr() -> Console:
    # soft_wrap: an error is one line a person can grep and a script can parse, whatever the width.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str) -> None:
    console = _stderr()
    console.print(Text("error: ", style="bold red") + Text(message))


def print_warning(message: str) -> None:
    console = _stderr()
    console.print(Text("warning: ", style="bold yellow") + Text(message))
