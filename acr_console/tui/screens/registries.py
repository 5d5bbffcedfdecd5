"""The registry browser: every registry of the selected subscriptions, grouped by subscription."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from ... import startup_gc
from ...azure.registries import RegistryListing
from ...models import Registry
from ...operations.registry import CREATE_PRINCIPAL
from ...presentation import mode_label, mode_style
from ..actions import operation_binding
from ..messages import LoadFailed
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen


def registry_rows(listing: RegistryListing) -> list[Row]:
    names = {s.id: s.display_name for s in listing.subscriptions}
    rows: list[Row] = []
    previous = None
    for reg in listing.registries:
        sub_name = names.get(reg.subscription_id, reg.subscription_id)
        cells = (
            # The subscription is named once per group, so the eye finds the boundaries.
            Text(sub_name if sub_name != previous else "", style="dim" if sub_name == previous else ""),
            Text(reg.name, style="bold"),
            Text(reg.sku),
            Text(mode_label(reg.role_assignment_mode, short=True), style=mode_style(reg.role_assignment_mode)),
            Text("ON ⚠", style="bold yellow") if reg.admin_user_enabled else Text("off", style="dim"),
            Text(reg.login_server),
            Text(reg.resource_group),
        )
        search = " ".join((sub_name, reg.name, reg.sku, reg.role_assignment_mode.short, reg.login_server,
                           reg.resource_group, "admin" if reg.admin_user_enabled else "")).lower()
        rows.append(Row(reg.id, cells, search, reg))
        previous = sub_name
    return rows


class RegistriesScreen(ListScreen[RegistryListing]):
    CRUMB = "registries"
    LIST = "registries"
    LOADING = "Loading registries…"
    WHAT = "registries"
    OPERATION = "list registries"
    COLUMNS = (Column("Subscription", "subscription"), Column("Registry", "registry"), Column("SKU", "sku"),
               Column("Mode", "mode"), Column("Admin", "admin"), Column("Login server", "login"),
               Column("Resource group", "rg"))
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Who can access the highlighted registry.", id="registries.open",
                show=True),
        Binding("slash", "filter", "Filter", tooltip="Narrow the list by any column (Escape clears).",
                id="registries.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read the registries again.", id="registries.refresh"),
        Binding("t", "tenant", "Tenant", tooltip="Every identity with a right on any registry, the widest first.",
                id="registries.tenant"),
        # Not in the footer: at 80 columns it pushed ": Cmd" off the line. `?`, the palette and
        # `:findings` name it.
        Binding("f", "findings", "Findings", tooltip="What an auditor would flag, most severe first; Enter on one "
                "shows the plan that fixes it.", id="registries.findings", show=False),
        operation_binding("n", "registries", CREATE_PRINCIPAL, "New SP",
                          "Create a service principal for the highlighted registry."),
    ]

    def first_load(self) -> None:
        # After the first frame: the list's SDK imports would otherwise slow the frame down.
        self.call_after_refresh(self.load)

    async def fetch(self, refresh: bool) -> RegistryListing:
        return await self.backend.registries(refresh=refresh)

    def build_rows(self, data: RegistryListing) -> list[Row]:
        return registry_rows(data)

    def loaded(self, data: RegistryListing) -> None:
        super().loaded(data)
        # The first list is on screen: start-up is over (a no-op after the first time).
        self.call_after_refresh(startup_gc.settle)

    def failed(self, message: LoadFailed) -> None:
        super().failed(message)
        self.call_after_refresh(startup_gc.settle)  # start-up is over this way too

    def summary(self, shown: Shown, needle: str) -> Text:
        listing = self.data
        assert listing is not None
        names = {s.id: s.display_name for s in listing.subscriptions}
        summary = f"{len(listing.registries)} registries in {len(listing.subscriptions)} subscriptions"
        if needle:
            summary = f"{shown.matched} of {summary} match '{needle}'"
        for sub_id, err in listing.errors.items():
            summary += f" · {names.get(sub_id, sub_id)}: {err.code}"
        return Text(summary)

    def open_row(self, row: Row) -> None:
        if isinstance(row.data, Registry):
            self.console.open_registry(row.data)

    def action_tenant(self) -> None:
        """Issue 18: the tenant view (it reads only: read-only mode leaves it as it is)."""
        from .tenant import TenantScreen

        self.app.push_screen(TenantScreen())

    def action_findings(self) -> None:
        """Issue 18: the findings view (it reads; its fixes are writes, refused there in read-only mode)."""
        self.console.open_findings()

    def action_operation(self, name: str) -> None:
        """Start a write for the highlighted registry."""
        self.console.start_operation(name, registry=self.current_registry)

    @property
    def current_registry(self) -> Registry | None:
        row = self.table.current_row
        return row.data if row is not None and isinstance(row.data, Registry) else None
