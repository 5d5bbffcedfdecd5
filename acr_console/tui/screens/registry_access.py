"""Who can access one registry: a row per principal, the paths of the highlighted one below."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ...azure.errors import from_exception
from ...models import AccessEntry, PrincipalType, Registry, RegistryAccess, Right
from ...operations.registry import ASSIGN, CREATE_PRINCIPAL, REVOKE
from ...presentation import entry_roles, entry_scope, entry_via, printable, registry_heading, shown, type_label
from ..actions import operation_binding
from ..messages import AccessLoaded, LoadFailed
from ..widgets.filter_bar import FilterBar
from ..widgets.path_detail import PathDetail
from ..widgets.row_table import Row, RowTable
from .base import ConsoleScreen

_FOCUS_LABEL = {None: "who has access", Right.PUSH: "who can push", Right.PULL: "who can pull",
                Right.DELETE: "who can delete"}


def _mark(entry: AccessEntry, right: Right) -> Text:
    return Text("✓", style="bold green") if entry.can(right) else Text("·", style="dim")


def _flags(entry: AccessEntry) -> Text:
    text = Text()
    if entry.orphaned:
        text.append("✗del", style="bold red")
    if entry.latent:
        text.append("⚑", style="bold red")
    if not entry.principal.enabled:
        text.append("off", style="red")
    return text


def access_rows(access: RegistryAccess, name_width: int) -> list[Row]:
    rows: list[Row] = []
    for entry in access.entries:
        p = entry.principal
        name = Text(printable(p.display_name), overflow="ellipsis", no_wrap=True)
        name.truncate(name_width, overflow="ellipsis")
        if p.type is PrincipalType.ADMIN_USER:
            name.stylize("yellow")
        cells = (
            name,
            Text(type_label(p.type)),
            _mark(entry, Right.PULL),
            _mark(entry, Right.PUSH),
            _mark(entry, Right.DELETE),
            _flags(entry),
            Text(entry_roles(entry)),
            entry_scope(entry),
            Text(entry_via(entry)),
        )
        search = " ".join((p.display_name, p.app_id or "", p.object_id or "", type_label(p.type),
                           entry_roles(entry), entry_via(entry))).lower()
        key = p.object_id or f"{p.type.value}:{p.display_name}"
        rows.append(Row(key, cells, search, entry))
    return rows


class RegistryAccessScreen(ConsoleScreen):
    BINDINGS = [
        Binding("enter", "open", "Principal", tooltip="Open the highlighted principal.", id="access.open"),
        Binding("1", "focus_right('push')", "Push", tooltip="Only principals that can push.",
                id="access.push", show=False),
        Binding("2", "focus_right('pull')", "Pull", tooltip="Only principals that can pull.",
                id="access.pull", show=False),
        Binding("3", "focus_right('delete')", "Delete", tooltip="Only principals that can delete.",
                id="access.delete", show=False),
        Binding("0", "focus_right('')", "All", tooltip="Every principal with any access.", id="access.all", show=False),
        Binding("slash", "filter", "Filter", tooltip="Narrow by name, appId, role or group.", id="access.filter",
                show=False),
        Binding("r", "refresh", "Refresh", tooltip="Read the registry's access again.", id="access.refresh"),
        operation_binding("n", "access", CREATE_PRINCIPAL, "New SP", "Create a service principal with a role here."),
        operation_binding("a", "access", ASSIGN, "Assign",
                          "Assign a role on this registry to the highlighted principal."),
        operation_binding("R", "access", REVOKE, "Revoke", "Revoke the highlighted principal (asks to type its name)."),
    ]

    right: reactive[Right | None] = reactive(None, init=False)

    def __init__(self, registry: Registry, right: Right | None = None) -> None:
        super().__init__()
        self.registry = registry
        self.access: RegistryAccess | None = None
        self._rows: list[Row] = []
        self.set_reactive(RegistryAccessScreen.right, right)

    def crumb(self) -> str:
        return f"registries › {self.registry.name}"

    def compose_body(self) -> ComposeResult:
        with Vertical(id="access-body"):
            yield Static(registry_heading(self.registry), id="access-heading")
            yield Static("Reading role assignments…", id="access-message")
            yield FilterBar(id="access-filter")
            yield RowTable(id="access-table", max_rows=self.console.settings.max_rows)
            yield PathDetail(id="access-detail")

    def on_mount(self) -> None:
        table = self.query_one("#access-table", RowTable)
        # Widths follow the terminal so the name and the three marks fit in 80 columns.
        self._name_width = max(16, min(36, self.app.size.width - 60))
        table.add_column("Principal", key="name", width=self._name_width)
        table.add_column("Type", key="type")
        table.add_column("Pull", key="pull")
        table.add_column("Push", key="push")
        table.add_column("Del", key="delete")
        table.add_column("!", key="flags")
        table.add_column("Roles", key="roles")
        table.add_column("Scope", key="scope")
        table.add_column("Via group", key="via")
        table.focus()
        self.load()

    @work(exclusive=True, group="access", exit_on_error=False)
    async def load(self) -> None:
        try:
            access = await self.backend.registry_access(self.registry)
        except Exception as exc:
            self.post_message(LoadFailed(f"access to {self.registry.name}", from_exception(exc)))
            return
        self.post_message(AccessLoaded(access))

    @on(AccessLoaded)
    def _loaded(self, message: AccessLoaded) -> None:
        self.access = message.access
        self.registry = message.access.registry
        self.query_one("#access-heading", Static).update(registry_heading(self.registry))
        self._rows = access_rows(message.access, self._name_width)
        self._render_rows()

    @on(LoadFailed)
    def _failed(self, message: LoadFailed) -> None:
        self.query_one("#access-message", Static).update(
            shown(f"Could not read {message.what}. {message.error}", style="bold red"))

    def _render_rows(self) -> None:
        if self.access is None:
            return
        right = self.right
        rows = [r for r in self._rows if right is None or (isinstance(r.data, AccessEntry) and r.data.can(right))]
        needle = self.query_one(FilterBar).value.strip()
        table = self.query_one("#access-table", RowTable)
        shown = table.show_rows(rows, needle)
        summary = Text(_FOCUS_LABEL[right], style="bold")
        summary.append(f": {shown.describe('principals')}")
        if right is not None:
            summary.append(f" (of {len(self._rows)} with any access)", style="dim")
        summary.append("   1 push · 2 pull · 3 delete · 0 all · / filter", style="dim")
        self.query_one("#access-message", Static).update(summary)
        self._show_detail()

    def watch_right(self) -> None:
        self._render_rows()

    def action_focus_right(self, right: str) -> None:
        self.right = Right(right) if right else None

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_refresh(self) -> None:
        self.query_one("#access-message", Static).update("Refreshing…")
        self.load()

    @property
    def current_entry(self) -> AccessEntry | None:
        row = self.query_one("#access-table", RowTable).current_row
        return row.data if row is not None and isinstance(row.data, AccessEntry) else None

    def _show_detail(self) -> None:
        self.query_one(PathDetail).show_entry(self.current_entry)

    @on(RowTable.RowHighlighted, "#access-table")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(FilterBar.Applied)
    def _filter_changed(self) -> None:
        self._render_rows()

    @on(RowTable.RowSelected, "#access-table")
    def _selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        entry = self.current_entry
        if entry is None:
            return
        p = entry.principal
        if entry.orphaned or p.type is PrincipalType.ADMIN_USER or not p.object_id:
            self.notify("That path has no directory object to open.", severity="warning")
            return
        if p.type not in (PrincipalType.SERVICE_PRINCIPAL, PrincipalType.MANAGED_IDENTITY):
            self.notify(f"Only service principals open in the principal view; this is a {type_label(p.type)}.",
                        severity="warning")
            return
        self.console.open_principal(p.object_id)

    def action_operation(self, name: str) -> None:
        """Start a write for this registry and the highlighted principal."""
        entry = self.current_entry
        self.console.start_operation(name, registry=self.registry,
                                     principal=entry.principal if entry is not None else None)
