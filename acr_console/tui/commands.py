"""The ctrl+p palette: jump to any registry or principal by name, open a view, or start an operation."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..azure.directory import is_guid
from ..operations.registry import OPERATIONS
from ..presentation import type_label
from .operations_ui import OPERATION_UI

if TYPE_CHECKING:
    from .app import AcrConsoleApp

# A query of hex digits and dashes at least this long is taken for (part of) an id.
MIN_ID_QUERY = 4
_GUID_CHARS = frozenset("0123456789abcdef-")


class ConsoleCommands(Provider):
    @property
    def console(self) -> AcrConsoleApp:
        return cast("AcrConsoleApp", self.app)

    async def startup(self) -> None:
        backend = self.console.backend
        try:
            await backend.registries()
            if not backend.principals:
                # Principals are met through registry access; read it once so every one is findable.
                await backend.all_access()
        except Exception:  # the palette still offers views and operations; errors show on the screens
            pass

    def _views(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.console
        return [
            ("Registries", "The registry browser.", partial(app.run_command, "registries")),
            ("Expiring credentials", "Credentials expired or expiring soon.", partial(app.run_command, "expiring")),
            ("Findings", "What an auditor would flag, with the plan that fixes it.",
             partial(app.run_command, "findings")),
            ("Audit log", "Every write the console made, with its result.", partial(app.run_command, "audit")),
            ("Help", "Keys and commands.", app.action_help),
        ]

    def _operations(self) -> list[tuple[str, str, Callable[[], object]]]:
        if self.console.read_only:
            return []  # read-only: no way to even start a write
        return [(f"{op.title}…", OPERATION_UI[op.name].help, partial(self._start, op.name)) for op in OPERATIONS]

    def _start(self, name: str) -> None:
        # The palette runs this once it has closed: the screen is then the one it was opened on,
        # and starting there gives the operation what that screen shows (its registry, its principal).
        start = getattr(self.console.screen, "action_operation", None)
        if callable(start):
            start(name)
        else:
            self.console.start_operation(name)

    async def discover(self) -> Hits:
        for title, help_text, callback in [*self._views(), *self._operations()]:
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.console
        backend = app.backend
        candidates: list[tuple[str, str, Callable[[], object]]] = [*self._views(), *self._operations()]
        if backend.listing is not None:
            for reg in backend.listing.registries:
                candidates.append((f"registry {reg.name}", f"{reg.login_server} · {reg.resource_group}",
                                   partial(app.open_registry, reg)))
        for title, help_text, callback in candidates:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
        # Principals by name (fuzzy, as every entry), and by appId or object id: a pasted or partly
        # typed id matches as a substring, never fuzzily (any few hex digits are in most GUIDs).
        needle = query.strip().lower()
        by_id = len(needle) >= MIN_ID_QUERY and all(c in _GUID_CHARS for c in needle)
        found_exact = False
        for p in backend.principals.values():
            title = f"principal {p.display_name}"
            help_text = f"{type_label(p.type)} · appId {p.app_id or '-'} · object {p.object_id}"
            callback = partial(app.open_principal, p.object_id)
            ids = [i.lower() for i in (p.app_id, p.object_id) if i]
            if by_id and any(needle in i for i in ids):
                exact = needle in ids
                found_exact = found_exact or exact
                yield Hit(1.0 if exact else 0.9, Text(title), callback, text=title, help=help_text)
                continue
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
        if is_guid(query.strip()) and not found_exact:
            # Not among the principals met in registry access: look it up (`:sp`, "not found" if none).
            title = f"principal {query.strip()}"
            yield Hit(0.5, Text(title), partial(app.run_command, f"sp {query.strip()}"), text=title,
                      help="Look this appId or object id up in the directory.")
