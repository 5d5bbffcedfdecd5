"""The tenant's radar: credentials that expired or expire soon, of principals with registry access."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.errors import from_exception
from ...presentation import expiry_text, shown, type_label
from ..messages import ExpiringLoaded, LoadFailed
from ..widgets.filter_bar import FilterBar
from ..widgets.row_table import Row, RowTable
from .base import ConsoleScreen

WINDOWS = (7, 30, 90, 365)


class ExpiringScreen(ConsoleScreen):
    CRUMB = "expiring credentials"
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
        self._rows: list[Row] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(id="expiring-body"):
            yield Static("Reading credentials of every principal with registry access…", id="expiring-message")
            yield FilterBar(id="expiring-filter")
            yield RowTable(id="expiring-table", max_rows=self.console.settings.max_rows)

    def on_mount(self) -> None:
        table = self.query_one("#expiring-table", RowTable)
        for label in ("Principal", "Type", "Cred", "On", "Expires", "Registries"):
            table.add_column(label)
        table.focus()
        self.load()

    def watch_within_days(self) -> None:
        self.query_one("#expiring-message", Static).update(f"Looking {self.within_days} days ahead…")
        self.load()

    @work(exclusive=True, group="expiring", exit_on_error=False)
    async def load(self) -> None:
        days = self.within_days
        try:
            items = await self.backend.expiring(days, self.console.now())
        except Exception as exc:
            self.post_message(LoadFailed("expiring credentials", from_exception(exc)))
            return
        self.post_message(ExpiringLoaded(items, days))

    @on(ExpiringLoaded)
    def _loaded(self, message: ExpiringLoaded) -> None:
        now = self.console.now()
        warn = self.console.settings.expiry_warning_days
        rows: list[Row] = []
        for x in message.items:
            p = x.principal
            cells = (shown(p.display_name), Text(type_label(p.type)), Text(x.credential.kind.value[:4]),
                     Text("app" if x.credential.owner.value == "application" else "SP"),
                     expiry_text(x.credential, now, warn), Text(", ".join(x.registries)))
            search = " ".join((p.display_name, p.app_id or "", *x.registries)).lower()
            rows.append(Row(f"{p.object_id}:{x.credential.key_id}", cells, search, x))
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        needle = self.query_one(FilterBar).value.strip()
        shown = self.query_one("#expiring-table", RowTable).show_rows(self._rows, needle)
        text = Text(f"Expired or expiring within {self.within_days} days: ", style="bold")
        text.append(shown.describe("credentials"))
        text.append("   w: window", style="dim")
        self.query_one("#expiring-message", Static).update(text)

    @on(LoadFailed)
    def _failed(self, message: LoadFailed) -> None:
        self.query_one("#expiring-message", Static).update(
            shown(f"Could not read {message.what}. {message.error}", style="bold red"))

    @on(FilterBar.Applied)
    def _filter_changed(self) -> None:
        self._render_rows()

    def action_window(self) -> None:
        i = WINDOWS.index(self.within_days) if self.within_days in WINDOWS else 0
        self.within_days = WINDOWS[(i + 1) % len(WINDOWS)]

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_refresh(self) -> None:
        self.load()

    @on(RowTable.RowSelected, "#expiring-table")
    def _selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.query_one("#expiring-table", RowTable).current_row
        if row is not None and row.data is not None and row.data.principal.object_id:  # type: ignore[attr-defined]
            self.console.open_principal(row.data.principal.object_id)  # type: ignore[attr-defined]
