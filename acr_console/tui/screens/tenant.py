"""The tenant view (issue 18, `t` on the registry list): every identity with a right on any visible
registry, the widest first: how many registries each can push to, then pull from, then delete on.

A directory principal is one row across every registry (by object id). A registry token, the admin
user and "anyone (anonymous pull)" exist only in their registry: each is a row of its own, named
with its registry, and Enter opens that registry's access view, where their keys are. Enter on a
service principal or managed identity opens the principal view; users and groups have none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from rich.text import Text
from textual.binding import Binding

from ...access.breadth import TenantIdentity, tenant_identities
from ...models import PrincipalType, RegistryAccess
from ...presentation import ANONYMOUS_STYLE, printable, type_label
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen

# What the principal view reads (azure/principals.py read_principal_detail: service principals).
OPENS_PRINCIPAL = (PrincipalType.SERVICE_PRINCIPAL, PrincipalType.MANAGED_IDENTITY)


def _count(names: list[str]) -> Text:
    return Text(str(len(names)) if names else "·", style="bold" if names else "dim", justify="right")


def identity_rows(identities: Sequence[TenantIdentity]) -> list[Row]:
    rows: list[Row] = []
    for item in identities:
        p = item.principal
        name = Text(printable(item.name), overflow="ellipsis", no_wrap=True)
        if p.type is PrincipalType.ANONYMOUS:
            name.stylize(ANONYMOUS_STYLE)
        elif item.orphaned:
            name.stylize("red")
        cells = (name, Text(type_label(p.type)), _count(item.push), _count(item.pull), _count(item.delete),
                 Text("groups" if item.via_groups else "", style="dim"),
                 Text(", ".join(item.push), overflow="ellipsis", no_wrap=True))
        search = " ".join((item.name, type_label(p.type), p.type.value, p.app_id or "", p.object_id or "",
                           "groups" if item.via_groups else "", *item.push, *item.pull, *item.delete)).lower()
        rows.append(Row(item.key, cells, search, item))
    return rows


_PAD = 2  # a space either side of every cell (row_table.PADDING)
NAME_MIN, NAME_MAX = 20, 40
# Type, Push, Pull, Del, Via: as wide as their widest cells ("unknown" is 7, "groups" 6).
_MARKS = (("Type", 7), ("Push", 4), ("Pull", 4), ("Del", 3), ("Via", 6))


def column_widths(rows: Sequence[Row], width: int) -> dict[str, int]:
    """The name gets up to NAME_MAX, the registries it can push to what is left (none under 12 cells):
    at 80 columns every count is on screen."""
    marks = sum(w + _PAD for _, w in _MARKS)
    widest = max([len("Identity"), *(r.cells[0].cell_len for r in rows)])
    room = width - marks - _PAD
    name = max(NAME_MIN, min(widest, NAME_MAX, room))
    rest = room - name - _PAD
    return {"name": name, "pushes": rest if rest >= 12 else 0}


class TenantScreen(ListScreen["list[RegistryAccess]"]):
    CRUMB = "tenant"
    LIST = "tenant"
    LOADING = "Reading who has access to every registry…"
    WHAT = "access across the tenant"
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Open the highlighted principal (a token, the admin user or anonymous "
                "pull: its registry).", id="tenant.open", show=True),
        Binding("slash", "filter", "Filter", tooltip="Narrow by name, type, id or registry (Escape clears).",
                id="tenant.filter"),
        Binding("r", "refresh", "Refresh", tooltip="Read every registry's access again.", id="tenant.refresh"),
    ]

    CUT_IN_THE_MIDDLE = "name"  # aks-prod-*-kubelet stay apart in a narrow column

    def fitted_widths(self, width: int) -> dict[str, int | None] | None:
        return dict(column_widths(self.rows, width))

    def columns(self) -> Sequence[Column]:
        widths = column_widths(self.rows, self.table_width())
        return (Column("Identity", "name", widths["name"]), Column("Type", "type", 7), Column("Push", "push", 4),
                Column("Pull", "pull", 4), Column("Del", "delete", 3), Column("Via", "via", 6),
                Column("Can push to", "pushes", widths["pushes"]))

    async def fetch(self, refresh: bool) -> list[RegistryAccess]:
        if self.backend.listing is not None:
            self.set_message(f"Reading who has access to {len(self.backend.listing.registries)} registries…")

        def progress(done: int, known: int) -> None:
            # Called on this worker's event loop (the app's): the message can be set directly.
            if self.data is None and known:
                self.set_message(f"Reading who has access: {done} of {known} registries read…")

        return await self.backend.tenant_access(refresh=refresh, progress=progress)

    def build_rows(self, data: list[RegistryAccess]) -> list[Row]:
        return identity_rows(tenant_identities(data))

    def summary(self, shown: Shown, needle: str) -> Text:
        data = self.data or []
        pushers = sum(1 for r in self.rows if cast(TenantIdentity, r.data).push)
        text = Text(shown.describe("identities"), style="bold")
        text.append(f" with rights on {len(data)} registries · {pushers} can push somewhere")
        if needle and shown.matched < shown.total:
            text.append(f" · filter '{needle}'", style="dim")
        return text

    def open_row(self, row: Row) -> None:
        item = cast(TenantIdentity, row.data)  # identity_rows put it there
        p = item.principal
        if item.registry is not None:
            self.console.open_registry(item.registry)  # a token, the admin user, anonymous pull: where it lives
        elif item.orphaned or not p.object_id:
            self.notify("The directory did not return this principal: there is no object to open.",
                        severity="warning")
        elif p.type not in OPENS_PRINCIPAL:
            self.notify(f"Only service principals open in the principal view; this is a {type_label(p.type)}.",
                        severity="warning")
        else:
            self.console.open_principal(p.object_id)
