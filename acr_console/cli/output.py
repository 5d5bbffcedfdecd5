"""Printing results: JSON for scripts, rich tables for people, errors on stderr without tracebacks.

The consoles and the `error:`/`warning:` lines are the front ends' shared ones (console_output);
the commands import them from here with the rest of their output.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..console_output import make_console, print_error, print_warning

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["json_text", "make_console", "print_error", "print_json", "print_warning", "stdout_console"]

# rich is imported where it is used: `--json` output never needs it (0.1 s of start-up).


# JSON escapes C0 controls itself; these it would print raw with ensure_ascii=False, and a terminal
# reading the output would obey them (0x9B is a one-byte CSI; the others reorder text). Escaped,
# the parsed string is still exactly the directory's.
_JSON_RAW = re.compile("[\u007f-\u009f\u202a-\u202e\u2066-\u2069]")


def json_text(doc: Any, *, pretty: bool | None = None) -> str:
    """Indented for a person at a terminal; one line for a pipe or a file, where a program reads it
    (as gh does): Python's indenting encoder is pure Python, 4x slower than the compact one in C,
    0.1 s on the 2 MB answer for a registry with 2,300 principals. ASCII with escapes when standard
    output cannot encode everything (LC_ALL=C with PYTHONIOENCODING=ascii, a Latin-1 terminal):
    the same JSON, and a result is never lost to a display name's accent. `pretty=False`: one line
    whatever standard output is (JSON Lines)."""
    if pretty is None:
        pretty = sys.stdout.isatty()
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    text = json.dumps(doc, indent=2 if pretty else None, separators=None if pretty else (",", ":"),
                      ensure_ascii=encoding not in ("utf8", "utf16", "utf32"))
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def compact_json_encoder() -> Callable[[Any], str]:
    """`json_text(doc, pretty=False)` as a function, for `report`'s 150,000 entries: orjson where
    standard output takes UTF-8 (a tenth of json's CPU: 160,000 role assignments' documents in 0.08 s
    of CPU against 0.77 s, measured for issue 18). Elsewhere, and for what orjson refuses (a lone
    surrogate, a key that is not a string), the standard library's compact encoder, made once, with
    ASCII escapes: the same JSON either way (tests/cli/test_compact_json.py holds the two to it)."""
    import orjson

    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    utf = encoding in ("utf8", "utf16", "utf32")
    ascii_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode

    def text(doc: Any) -> str:
        if not utf:
            out = ascii_json(doc)
        else:
            try:
                out = orjson.dumps(doc).decode()
            except TypeError:
                out = ascii_json(doc)
        # Most entries are ASCII, where only DEL (0x7f) could need escaping: two scans in C (isascii is
        # a flag of the string) instead of the pattern's, which cost as much as the encoding.
        if out.isascii() and "\x7f" not in out:
            return out
        return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", out)

    return text


def print_json(doc: Any) -> None:
    sys.stdout.write(json_text(doc) + "\n")


def stdout_console() -> Console:
    return make_console()
