"""The ctrl+p palette: jump to any registry or principal by name, open a view, or start an operation."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..presentation import type_label

if TYPE_CHECKING:
    from .app import AcrConsoleApp

# (title, help, operation kind); each starts the form of that operation.
OPERATIONS = (
    ("New service principal…", "Create a principal with a registry role and a secret or certificate.", "create"),
    ("Reset credential…", "Add or replace a principal's client secret.", "reset"),
    ("Add certificate…", "Add a certificate credential to a principal.", "certificate"),
    ("Assign role…", "Give a principal a role on a registry.", "assign"),
    ("Revoke principal…", "Remove a principal's credentials and registry roles.", "revoke"),
)


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
            ("Audit log", "Every write the console made, with its result.", partial(app.run_command, "audit")),
            ("Help", "Keys and commands.", app.action_help),
        ]

    def _operations(self) -> list[tuple[str, str, Callable[[], object]]]:
        if self.console.read_only:
            return []  # read-only: no way to even start a write
        return [(title, help_text, partial(self.console.start_operation, kind))
                for title, help_text, kind in OPERATIONS]

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
        for p in backend.principals.values():
            candidates.append((f"principal {p.display_name}", f"{type_label(p.type)} · appId {p.app_id}",
                               partial(app.open_principal, p.object_id)))
        for title, help_text, callback in candidates:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
