"""The registry browser: subscriptions and their registries."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...azure.errors import AzureError, from_exception
from ...azure.registries import RegistryListing, list_registries
from ..messages import LoadFailed, RegistriesLoaded
from ..widgets.status_line import StatusLine


class RegistriesScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", tooltip="Read the registries again.", id="registries.refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine(self.app.connection, id="status")  # type: ignore[attr-defined]
        with Vertical(id="registries-body"):
            yield Static("Loading registries…", id="registries-message")
            yield DataTable(id="registries-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#registries-table", DataTable)
        table.add_column("Subscription", key="subscription")
        table.add_column("Registry", key="registry")
        table.add_column("Login server", key="login")
        table.add_column("Resource group", key="rg")
        table.add_column("SKU", key="sku")
        table.add_column("Mode", key="mode")
        table.add_column("Admin", key="admin")
        self.load()

    def action_refresh(self) -> None:
        self.query_one("#registries-message", Static).update("Refreshing…")
        self.load()

    @work(exclusive=True, group="registries", exit_on_error=False)
    async def load(self) -> None:
        try:
            listing = await list_registries(self.app.azure)  # type: ignore[attr-defined]
        except Exception as exc:  # turned into a message; the UI never shows a traceback
            self.post_message(LoadFailed("registries", from_exception(exc, "list registries")))
            return
        self.post_message(RegistriesLoaded(listing))

    @on(RegistriesLoaded)
    def show(self, message: RegistriesLoaded) -> None:
        listing: RegistryListing = message.listing
        names = {s.id: s.display_name for s in listing.subscriptions}
        table = self.query_one("#registries-table", DataTable)
        table.clear()
        previous = None
        for reg in listing.registries:
            sub_name = names.get(reg.subscription_id, reg.subscription_id)
            table.add_row(
                Text(sub_name if sub_name != previous else ""),
                Text(reg.name, style="bold"),
                Text(reg.login_server),
                Text(reg.resource_group),
                Text(reg.sku),
                Text(reg.role_assignment_mode.short.upper(),
                     style="bold magenta" if reg.role_assignment_mode.short == "abac" else ""),
                Text("ON ⚠", style="bold yellow") if reg.admin_user_enabled else Text("off", style="dim"),
                key=reg.id,
            )
            previous = sub_name
        summary = f"{len(listing.registries)} registries in {len(listing.subscriptions)} subscriptions"
        for sub_id, err in listing.errors.items():
            summary += f" · {names.get(sub_id, sub_id)}: {err.code}"
        self.query_one("#registries-message", Static).update(Text(summary))

    @on(LoadFailed)
    def failed(self, message: LoadFailed) -> None:
        err: AzureError = message.error
        self.query_one("#registries-message", Static).update(
            Text(f"Could not load {message.what}. {err}", style="bold red")
        )
