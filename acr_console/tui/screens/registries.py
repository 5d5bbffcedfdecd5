"""The registry browser: every registry of the selected subscriptions, grouped by subscription."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from ... import startup_gc
from ...azure.errors import from_exception
from ...azure.registries import RegistryListing
from ...models import Registry
from ...operations.registry import CREATE_PRINCIPAL
from ...presentation import mode_label, shown
from ..actions import operation_binding
from ..messages import LoadFailed, RegistriesLoaded
from ..widgets.filter_bar import FilterBar
from ..widgets.row_table import Row, RowTable
from .base import ConsoleScreen


def registry_rows(listing: RegistryListing) -> list[Row]:
    names = {s.id: s.display_name for s in listing.subscriptions}
    rows: list[Row] = []
    previous = None
    for reg in listing.registries:
        sub_name = names.get(reg.subscription_id, reg.subscription_id)
        abac = reg.role_assignment_mode.short == "abac"
        cells = (
            # The subscription is named once per group, so the eye finds the boundaries.
            Text(sub_name if sub_name != previous else "", style="dim" if sub_name == previous else ""),
            Text(reg.name, style="bold"),
            Text(reg.sku),
            Text(mode_label(reg.role_assignment_mode, short=True), style="bold magenta" if abac else ""),
            Text("ON ⚠", style="bold yellow") if reg.admin_user_enabled else Text("off", style="dim"),
            Text(reg.login_server),
            Text(reg.resource_group),
        )
        search = " ".join((sub_name, reg.name, reg.sku, reg.role_assignment_mode.short, reg.login_server,
                           reg.resource_group, "admin" if reg.admin_user_enabled else "")).lower()
        rows.append(Row(reg.id, cells, search, reg))
        previous = sub_name
    return rows


class RegistriesScreen(ConsoleScreen):
    CRUMB = "registries"
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Who can access the highlighted registry.", id="registries.open",
                show=True),
        Binding("slash", "filter", "Filter", tooltip="Narrow the list by any column (Escape clears).",
                id="registries.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read the registries again.", id="registries.refresh"),
        operation_binding("n", "registries", CREATE_PRINCIPAL, "New SP",
                          "Create a service principal for the highlighted registry."),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []
        self._listing: RegistryListing | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="registries-body"):
            yield Static("Loading registries…", id="registries-message")
            yield FilterBar(id="registries-filter")
            yield RowTable(id="registries-table", max_rows=self.console.settings.max_rows)

    def on_mount(self) -> None:
        table = self.query_one("#registries-table", RowTable)
        for label, key in (("Subscription", "subscription"), ("Registry", "registry"), ("SKU", "sku"),
                           ("Mode", "mode"), ("Admin", "admin"), ("Login server", "login"),
                           ("Resource group", "rg")):
            table.add_column(label, key=key)
        table.focus()
        # After the first frame: the list's SDK imports would otherwise slow the frame down.
        self.call_after_refresh(self.load)

    def action_refresh(self) -> None:
        self.query_one("#registries-message", Static).update("Refreshing…")
        self.load(refresh=True)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_open(self) -> None:
        registry = self.current_registry
        if registry is not None:
            self.console.open_registry(registry)

    def action_operation(self, name: str) -> None:
        """Start a write for the highlighted registry."""
        self.console.start_operation(name, registry=self.current_registry)

    @property
    def current_registry(self) -> Registry | None:
        row = self.query_one("#registries-table", RowTable).current_row
        return row.data if row is not None and isinstance(row.data, Registry) else None

    @work(exclusive=True, group="registries", exit_on_error=False)
    async def load(self, refresh: bool = False) -> None:
        try:
            listing = await self.backend.registries(refresh=refresh)
        except Exception as exc:  # turned into a message; the UI never shows a traceback
            self.post_message(LoadFailed("registries", from_exception(exc, "list registries")))
            return
        self.post_message(RegistriesLoaded(listing))

    @on(RegistriesLoaded)
    def show(self, message: RegistriesLoaded) -> None:
        self._listing = message.listing
        self._rows = registry_rows(message.listing)
        self._render_rows()
        # The first list is on screen: start-up is over (a no-op after the first time).
        self.call_after_refresh(startup_gc.settle)

    def _render_rows(self) -> None:
        listing = self._listing
        if listing is None:
            return
        needle = self.query_one(FilterBar).value.strip()
        shown = self.query_one("#registries-table", RowTable).show_rows(self._rows, needle)
        names = {s.id: s.display_name for s in listing.subscriptions}
        summary = f"{len(listing.registries)} registries in {len(listing.subscriptions)} subscriptions"
        if needle:
            summary = f"{shown.matched} of {summary} match '{needle}'"
        for sub_id, err in listing.errors.items():
            summary += f" · {names.get(sub_id, sub_id)}: {err.code}"
        self.query_one("#registries-message", Static).update(Text(summary))

    @on(FilterBar.Applied)
    def _filter_changed(self) -> None:
        self._render_rows()

    @on(RowTable.RowSelected, "#registries-table")
    def _selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    @on(LoadFailed)
    def failed(self, message: LoadFailed) -> None:
        self.query_one("#registries-message", Static).update(
            shown(f"Could not load {message.what}. {message.error}", style="bold red")
        )
        self.call_after_refresh(startup_gc.settle)  # start-up is over this way too
