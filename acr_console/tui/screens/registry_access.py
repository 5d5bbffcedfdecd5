"""Who can access one registry: a row per principal, the paths of the highlighted one below."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from ...access import TakeoverIndex, groups_of, holder_counts
from ...access.federated import read_federated
from ...models import AccessEntry, DirectoryFacts, PrincipalType, Registry, RegistryAccess, Right
from ...operations.registry import (
    ASSIGN,
    CREATE_PRINCIPAL,
    DISABLE_ADMIN_USER,
    DISABLE_ANONYMOUS_PULL,
    DISABLE_TOKEN,
    REMOVE_TOKEN_PASSWORD,
    REVOKE,
    UNASSIGN,
)
from ...presentation import (
    ANONYMOUS_STYLE,
    entry_roles,
    entry_scope,
    entry_via,
    printable,
    registry_heading,
    right_mark,
    token_read_warning,
    type_label,
)
from ..actions import OPERATION_ACTION, operation_binding
from ..messages import TakeoverRead
from ..widgets.path_detail import PathDetail, Takeover, takeable
from ..widgets.row_table import Row, Shown
from .list_screen import Column, ListScreen

_FOCUS_LABEL = {None: "who has access", Right.PUSH: "who can push", Right.PULL: "who can pull",
                Right.DELETE: "who can delete"}
FEDERATED_MARK = "F"  # in the Take column: federated credentials, a workload signs in with no secret


def _mark(entry: AccessEntry, right: Right) -> Text:
    return right_mark(entry, right)  # ◐ on some repositories only (the detail says which), ⊘ sign-in disabled


def right_counts(entries: Sequence[AccessEntry], right: Right) -> Text:
    """"11 can push (1 disabled)": a principal whose sign-in is disabled is not counted as able."""
    able = [e for e in entries if e.can(right)]
    off = sum(1 for e in able if not e.principal.enabled)
    text = Text(f"{len(able) - off} can {right.value}")
    if off:
        text.append(f" ({off} disabled)", style="red")
    return text


def _flags(entry: AccessEntry) -> Text:
    text = Text()
    if entry.principal.type is PrincipalType.ANONYMOUS:
        text.append("anon", style=ANONYMOUS_STYLE)
    if entry.orphaned:
        text.append("?dir", style="bold red")  # not returned by the directory (presentation.NOT_RETURNED)
    if entry.latent:
        text.append("⚑", style="bold red")
    if not entry.principal.enabled:
        text.append("off", style="red")
    return text


def takeover_cell(entry: AccessEntry, takeover: Takeover) -> Text:
    """The Take column (issue 17): how many can take the principal over, F when workloads sign in as it
    with federated credentials; … while the reads run, ? when they failed; empty where nothing applies."""
    if not takeable(entry):
        return Text("")
    if takeover.error is not None:
        return Text("?", style="bold red")
    if takeover.index is None:
        return Text("…", style="dim")
    count, _two = holder_counts(takeover.paths(entry))
    text = Text(str(count), style="yellow" if count else "dim")
    if takeover.federated(entry):
        text.append(" " + FEDERATED_MARK, style="bold magenta")
    return text


def takeover_search(entry: AccessEntry, takeover: Takeover) -> str:
    """What `/` matches besides the names (issue 17): each federated credential's name, subject and
    reading, so `contoso/payments` finds every principal that repository's workflows sign in as."""
    words: list[str] = []
    for credential in takeover.federated(entry):
        reading = read_federated(credential)
        words += [credential.name, credential.subject, reading.repository or "",
                  reading.summary(credential.subject)]
    return " ".join(w for w in words if w)


def _entry(row: Row | None) -> AccessEntry | None:
    return row.data if row is not None and isinstance(row.data, AccessEntry) else None


def table_roles(entry: AccessEntry) -> str:
    """The roles as the table shows them: the ABAC roles' common "Container Registry" as CR, so
    "CR Repository Writer" fits at 80 columns; the detail pane and `?` help say it in full."""
    return entry_roles(entry).replace(CR_LONG, CR_SHORT)


CR_LONG, CR_SHORT = "Container Registry ", "CR "
# The table's columns at a width (issue 16): names get what the terminal has, up to NAME_MAX;
# Scope and Via group are shown only where they fit with the roles, else the detail pane under the
# table shows them for the highlighted row (nothing is off to the right at 80 columns).
NAME_MIN, NAME_MAX = 16, 32
ROLES_MIN, ROLES_MAX = 18, 32
SCOPE_MAX, VIA_MAX = 24, 24
_MARKS = ("type", "pull", "push", "delete", "flags", "takeover")
_PAD = 2  # a space either side of every cell (row_table.PADDING)
_TIGHT_PAD = 1  # the marks (Type to Take) are tight: a space after each (issue 17: room for Take)


def column_widths(rows: Sequence[Row], width: int) -> dict[str, int]:
    """Widths for the access table's columns in `width` cells (0: the column is not shown)."""

    def widest(n: int, header: str) -> int:
        return max([len(header), *(r.cells[n].cell_len for r in rows if n < len(r.cells))])

    marks = sum(widest(n, label) + _TIGHT_PAD for n, label in (
        (1, "Type"), (2, "Pull"), (3, "Push"), (4, "Del"), (5, "!"), (6, "Take")))
    names, roles = widest(0, "Principal"), widest(7, "Roles")
    scope, via = min(widest(8, "Scope"), SCOPE_MAX), min(widest(9, "Via group"), VIA_MAX)
    room = width - marks - 2 * _PAD  # for the name and the roles
    name = min(names, NAME_MAX)
    wide_roles = min(roles, ROLES_MAX)
    if rows and name + wide_roles + scope + via + 2 * _PAD <= room:
        return {"name": name, "roles": wide_roles, "scope": scope,
                "via": room - name - wide_roles - scope - 2 * _PAD}
    # Narrow: the name first (who), the roles in what is left (the detail pane has them in full).
    name = max(NAME_MIN, min(names if rows else NAME_MAX, room - min(roles, ROLES_MIN)))
    return {"name": name, "roles": max(4, room - name), "scope": 0, "via": 0}


def access_rows(access: RegistryAccess, takeover: Takeover | None = None) -> list[Row]:
    takeover = takeover or Takeover()
    rows: list[Row] = []
    for entry in access.entries:
        p = entry.principal
        # Cut to the column's width where it is drawn (row_table), so a resize shows more of it.
        name = Text(printable(p.display_name), overflow="ellipsis", no_wrap=True)
        if p.type is PrincipalType.ADMIN_USER:
            name.stylize("yellow")
        elif p.type is PrincipalType.ANONYMOUS:
            name.stylize(ANONYMOUS_STYLE)  # issue 13: the first row, and it must not be missed
        elif p.type is PrincipalType.REGISTRY_TOKEN:
            name.stylize("cyan")  # a registry token: no Entra identity behind it
        cells = (
            name,
            Text(type_label(p.type)),
            _mark(entry, Right.PULL),
            _mark(entry, Right.PUSH),
            _mark(entry, Right.DELETE),
            _flags(entry),
            takeover_cell(entry, takeover),
            Text(table_roles(entry)),
            entry_scope(entry),
            Text(entry_via(entry)),
        )
        search = " ".join((p.display_name, p.app_id or "", p.object_id or "", type_label(p.type),
                           entry_roles(entry), " ".join(groups_of(entry)),  # inner groups too
                           takeover_search(entry, takeover))).lower()
        key = p.object_id or f"{p.type.value}:{p.display_name}"
        rows.append(Row(key, cells, search, entry))
    return rows


class RegistryAccessScreen(ListScreen[RegistryAccess]):
    LIST = "access"
    LOADING = "Reading role assignments…"
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
        # Issue 13: shown only on a registry with anonymous pull (check_action).
        operation_binding("P", "access", DISABLE_ANONYMOUS_PULL, "Anon pull off",
                          "Turn this registry's anonymous pull off (a plan, asked first)."),
        # Issue 13 item 4: shown only while a registry token's row is highlighted (check_action).
        operation_binding("D", "access", DISABLE_TOKEN, "Disable token",
                          "Disable the highlighted registry token (a plan, asked first)."),
        operation_binding("X", "access", REMOVE_TOKEN_PASSWORD, "Token password",
                          "Remove password1 or password2 of the highlighted registry token."),
        # Issue 16: shown only while the admin user's row is highlighted (check_action); R there too.
        operation_binding("U", "access", DISABLE_ADMIN_USER, "Admin user off",
                          "Disable the registry's admin user (a plan, asked first)."),
    ]
    # Read by `?` (help.py): what the marks in the table mean.
    HELP_NOTES = (
        "In Pull, Push and Del: ✓ on every repository, ◐ on some repositories only (an ABAC condition or a "
        "token's scope map: the detail names them, e.g. push on team/*). "
        "Marks in the ! column: ?dir the role assignment names an object id the directory did not return "
        "(deleted, or not yet replicated: R removes it by assignment id); "
        "⚑ it can give itself more rights (latent); off its sign-in is disabled (its rights show ⊘, not ✓, "
        "and it is counted apart: '11 can push (1 disabled)'); "
        "anon the registry has anonymous pull on: the first row, 'anyone (anonymous pull)', "
        "means anyone who can reach the registry pulls every repository without signing in "
        "(P turns it off, with a plan first). "
        "Rows of type token are registry tokens (user name and password, repositories set by a scope map, "
        "no Entra identity): D disables the highlighted one, X removes one of its passwords. "
        "CR in Roles: Container Registry (the detail pane names each role in full, with its scope and group; "
        "Tab moves into it to scroll). "
        "On the admin user's row, U (or R) disables the admin user, with a plan first. "
        "Take: how many can take the service principal over (add a credential to it: owners, Entra roles, "
        "Graph permissions, or give themselves the right to, in two steps), read after the rows are shown "
        "(… meanwhile); F: federated credentials let a workload (a GitHub workflow, a Kubernetes service "
        "account) sign in as it with no secret. The detail pane lists who and how, and each workflow; "
        "/ with a repository (contoso/payments) finds the principals its workflows sign in as."
    )

    right: reactive[Right | None] = reactive(None, init=False)

    def __init__(self, registry: Registry, right: Right | None = None) -> None:
        super().__init__()
        self.registry = registry
        self.set_reactive(RegistryAccessScreen.right, right)
        self.takeover = Takeover()  # issue 17: read after the rows are shown (load_takeover)
        self._refresh_since: int | None = None

    def crumb(self) -> str:
        return f"registries › {self.registry.name}"

    def what(self) -> str:
        return f"access to {self.registry.name}"

    def compose_above(self) -> ComposeResult:
        yield Static(registry_heading(self.registry), id="access-heading")

    def compose_below(self) -> ComposeResult:
        yield PathDetail(id="access-detail")

    CUT_IN_THE_MIDDLE = "name"  # github-actions-*, aks-prod-*-kubelet stay apart at 60 columns

    def fitted_widths(self, width: int) -> dict[str, int | None] | None:
        return dict(column_widths(self.rows, width))

    def columns(self) -> Sequence[Column]:
        widths = column_widths(self.rows, self.table_width())
        # Issue 17: the marks sit one space apart, so that Take fits at 80 columns beside names in full.
        return (Column("Principal", "name", widths["name"]), Column("Type", "type", tight=True),
                Column("Pull", "pull", tight=True),
                Column("Push", "push", tight=True), Column("Del", "delete", tight=True),
                Column("!", "flags", tight=True), Column("Take", "takeover", tight=True),
                Column("Roles", "roles", widths["roles"]), Column("Scope", "scope", widths["scope"]),
                Column("Via group", "via", widths["via"]))

    async def fetch(self, refresh: bool) -> RegistryAccess:
        # "Read again" reads the tenant's takeover facts again too, unless a read began since.
        self._refresh_since = self.backend.takeover_cache.tenant_reads if refresh else None
        registry = self.registry
        if refresh or registry.anonymous_pull_enabled:
            # Issue 13: read again after it may have been turned off (here, or by hand): one GET.
            from ...azure.registry_switches import ANONYMOUS_PULL, read_switch

            now = await read_switch(self.backend.az, registry, ANONYMOUS_PULL)
            if now is not None and now != registry.anonymous_pull_enabled:
                registry = dataclasses.replace(registry, anonymous_pull_enabled=now)
        return await self.backend.registry_access(registry)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (action == OPERATION_ACTION and parameters == (DISABLE_ANONYMOUS_PULL.name,)
                and not self.registry.anonymous_pull_enabled):
            return False  # nothing to turn off here: not in the footer
        if action == OPERATION_ACTION and parameters in ((DISABLE_TOKEN.name,), (REMOVE_TOKEN_PASSWORD.name,)):
            entry = self.current_entry if self.is_mounted else None
            if entry is None or entry.token is None:
                return False  # a token's writes, on a token's row only
        if action == OPERATION_ACTION and parameters == (DISABLE_ADMIN_USER.name,):
            entry = self.current_entry if self.is_mounted else None
            if entry is None or entry.principal.type is not PrincipalType.ADMIN_USER:
                return False  # the admin user's write, on its row only
        return super().check_action(action, parameters)

    def loaded(self, data: RegistryAccess) -> None:
        self.registry = data.registry
        self.query_one("#access-heading", Static).update(registry_heading(self.registry))
        self.refresh_bindings()  # anonymous pull may have changed (check_action)
        reading = any(takeable(e) for e in data.entries)
        self.takeover = Takeover(reading=True) if reading else Takeover(index=TakeoverIndex(DirectoryFacts()))
        super().loaded(data)  # the rows first; who can take them over follows
        if reading:
            self.load_takeover(data, self._refresh_since)

    @work(exclusive=True, group="takeover", exit_on_error=False)
    async def load_takeover(self, access: RegistryAccess, refresh_since: int | None) -> None:
        """Issue 17: owners, directory roles, Graph permissions and federated credentials of the
        principals shown; the tenant-wide part from the session's cache after the first registry."""
        from ...azure.errors import from_exception

        try:
            read, facts = await self.backend.takeover(access, refresh_since=refresh_since)
        except Exception as exc:  # shown in the column and the detail pane, never a traceback
            self.post_message(TakeoverRead(access, None, None, str(from_exception(exc))))
            return
        self.post_message(TakeoverRead(access, read, facts, None))

    @on(TakeoverRead)
    def _takeover_read(self, message: TakeoverRead) -> None:
        message.stop()
        if message.source is not self.data:
            return  # the access was read again meanwhile: its own takeover read follows
        if message.access is None or message.facts is None:
            self.takeover = Takeover(error=message.error or "unknown error")
        else:
            self.data = message.access  # the same entries, with their applications' object ids
            self.takeover = Takeover(index=TakeoverIndex(message.facts))
        self.rows = self.build_rows(self.data)
        self.render_rows()

    def build_rows(self, data: RegistryAccess) -> list[Row]:
        return access_rows(data, self.takeover)

    def visible_rows(self) -> Sequence[Row]:
        right = self.right
        return [r for r in self.rows if right is None or (isinstance(r.data, AccessEntry) and r.data.can(right))]

    def summary(self, shown: Shown, needle: str) -> Text:
        right = self.right
        summary = Text(_FOCUS_LABEL[right], style="bold")
        entries = [r.data for r in self.rows if isinstance(r.data, AccessEntry)]
        off = sum(1 for e in entries if right is not None and e.can(right) and not e.principal.enabled)
        if right is not None and off and not needle and shown.shown == shown.matched:
            # A disabled principal holds the role but cannot sign in: not counted with those who can.
            summary.append(f": {shown.total - off:,} principals")
            summary.append(f" ({off} disabled, not counted)", style="red")
        else:
            summary.append(f": {shown.describe('principals')}")
        if right is not None:
            summary.append(f" (of {len(self.rows)} with any access)", style="dim")
        else:
            summary.append(" · ")
            summary.append_text(right_counts(entries, Right.PUSH))
        summary.append("   1 push · 2 pull · 3 delete · 0 all · / filter", style="dim")
        warning = token_read_warning(self.data) if self.data is not None else None
        if warning is not None:  # one line: the reason is in the text, cut by the width if need be
            summary.append("   ⚠ ", style="yellow")
            summary.append_text(warning)
        return summary

    def show_detail(self, row: Row | None) -> None:
        self.query_one(PathDetail).show_entry(_entry(row), self.registry.role_assignment_mode, self.takeover)
        self.refresh_bindings()  # a token's row shows its writes (check_action)

    def watch_right(self) -> None:
        self.render_rows()

    def action_focus_right(self, right: str) -> None:
        self.right = Right(right) if right else None

    @property
    def current_entry(self) -> AccessEntry | None:
        return _entry(self.table.current_row)

    def open_row(self, row: Row) -> None:
        entry = _entry(row)
        if entry is None:
            return
        p = entry.principal
        if p.type is PrincipalType.ANONYMOUS:
            self.notify(f"Anyone who can reach {self.registry.name} pulls every repository without signing in. "
                        "Press P to turn anonymous pull off (a plan, asked before anything is sent).",
                        severity="warning")
            return
        if p.type is PrincipalType.REGISTRY_TOKEN:
            self.notify(f"{p.display_name} is a registry token, not a directory object: D disables it, X removes "
                        "one of its passwords.", severity="information")
            return
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
        if entry is not None and entry.principal.type is PrincipalType.ADMIN_USER and name == REVOKE.name:
            name = DISABLE_ADMIN_USER.name  # issue 16: revoking the admin user is disabling it
        if entry is not None and entry.orphaned and name in (REVOKE.name, UNASSIGN.name):
            self._remove_orphaned(entry)  # issue 16: nothing to look up, its assignments go by id
            return
        self.console.start_operation(name, registry=self.registry,
                                     principal=entry.principal if entry is not None else None)

    def _remove_orphaned(self, entry: AccessEntry) -> None:
        """Remove an assignment of a principal the directory did not return, by its id (issue 16):
        revoke and unassign look the principal up, which fails (Request_ResourceNotFound)."""
        if self.console.read_only:
            self.console.start_operation(UNASSIGN.name)  # refused there, in the console's words
            return
        from ..operations_ui import confirm_and_run
        from .forms.assign_role import RemoveAssignmentForm

        self.app.push_screen(RemoveAssignmentForm(entry), lambda plan: confirm_and_run(self.console, plan))

