"""A secret the console holds for a moment: a new client secret or a private key.

Not a `str`: it cannot be concatenated, formatted, JSON-encoded or logged by accident. Its repr
and str are a placeholder; the text comes out only through `reveal()`, which front ends call at the
one place the user asked for it (a 0600 file, `--json` stdout, the TUI's one-time secret screen).
"""

from __future__ import annotations

from typing import Any


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds text")
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def hint(self) -> str:
        """The first three characters, as Microsoft Graph shows them for a password credential."""
        return self._value[:3]

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str | tuple[Any, ...]:  # no pickling into caches or worker queues
        raise TypeError("a Secret cannot be pickled")
