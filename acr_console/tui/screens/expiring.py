"""The tenant's radar: credentials that expired or expire soon, of principals with registry access."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive

from ...models import PrincipalType
from ...presentation import expiry_text, owner_short, shown, type_label
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen

if TYPE_CHECKING:
    from ...azure.principals import ExpiringCredential

WINDOWS = (7, 30, 90, 365)


class ExpiringScreen(ListScreen["list[ExpiringCredential]"]):
    CRUMB = "expiring credentials"
    LIST = "expiring"
    LOADING = "Reading credentials of every principal with registry access…"
    WHAT = "expiring credentials"
    COLUMNS = tuple(Column(label) for label in ("Principal", "Type", "Cred", "On", "Expires", "Registries"))
    BINDINGS = [
        Binding("enter", "open", "Principal", tooltip="Open the highlighted principal.", id="expiring.open"),
        Binding("w", "window", "Window", tooltip="Look 7, 30, 90 or 365 days ahead.", id="expiring.window"),
        Binding("slash", "filter", "Filter", tooltip="Narrow by principal or registry.", id="expiring.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read again.", id="expiring.refresh"),
    ]

    within_days: reactive[int] = reactive(30, init=False)

    def __init__(self, within_days: int = 30) -> None:
        super().__init__()
        self.set_reactive(ExpiringScreen.within_days, within_days)

    def watch_within_days(self) -> None:
        self.set_message(f"Looking {self.within_days} days ahead…")
        self.load()

    async def fetch(self, refresh: bool) -> list[ExpiringCredential]:
        return await self.backend.expiring(self.within_days, self.console.now())

    def build_rows(self, data: list[ExpiringCredential]) -> list[Row]:
        now = self.console.now()
        warn = self.console.settings.expiry_warning_days
        rows: list[Row] = []
        for x in data:
            p = x.principal
            cells = (shown(p.display_name), Text(type_label(p.type)), Text(x.credential.kind.value[:4]),
                     Text(owner_short(x.credential)),
                     expiry_text(x.credential, now, warn), Text(", ".join(x.registries)))
            search = " ".join((p.display_name, p.app_id or "", p.object_id or "", *x.registries)).lower()
            rows.append(Row(f"{p.object_id}:{x.credential.key_id}", cells, search, x))
        return rows

    def summary(self, shown: Shown, needle: str) -> Text:
        text = Text(f"Expired or expiring within {self.within_days} days: ", style="bold")
        text.append(shown.describe("credentials"))
        text.append("   w: window", style="dim")
        return text

    def open_row(self, row: Row) -> None:
        item = cast("ExpiringCredential", row.data)  # build_rows put it there
        if item.principal.type is PrincipalType.REGISTRY_TOKEN and item.registries:
            self.console.open_registry_named(item.registries[0])  # a token lives in its registry's access view
            return
        if item.principal.object_id:
            self.console.open_principal(item.principal.object_id)

    def action_window(self) -> None:
        i = WINDOWS.index(self.within_days) if self.within_days in WINDOWS else 0
        self.within_days = WINDOWS[(i + 1) % len(WINDOWS)]
