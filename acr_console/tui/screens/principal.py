"""One service principal: identity, credentials with their expiry, its federated credentials and owners
(issue 17), assignments across registries, groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from ...access.resource_ids import subscription_of
from ...azure.errors import from_exception
from ...models import Credential, Principal, PrincipalDetail, PrincipalType, RoleAssignment
from ...operations.registry import ADD_CERTIFICATE, ASSIGN, RESET_CREDENTIAL, REVOKE
from ...presentation import expiry_text, printable, role_cell, scope_label, short_id, shown, type_label
from ..actions import operation_binding
from ..messages import LoadFailed, OwnersRead, PrincipalLoaded
from ..widgets.path_detail import federated_lines
from ..widgets.status_line import StatusLine
from .base import ConsoleScreen

if TYPE_CHECKING:
    from ...azure.takeover_reads import OwnerFacts


def identity_text(detail: PrincipalDetail) -> Text:
    p = detail.principal
    text = shown(p.display_name, style="bold")
    text.append(f"  {type_label(p.type)}  ")
    text.append("enabled" if p.enabled else "DISABLED", style="green" if p.enabled else "bold red")
    text.append(f"\nappId  {p.app_id or '-'}\nobject {p.object_id or '-'}")
    if detail.application_display_name is not None:
        text.append("\napplication ")
        text.append(printable(detail.application_display_name))
        if p.application_object_id:
            text.append(f" (object {p.application_object_id})", style="dim")
    else:
        text.append("\napplication in another tenant (credentials there are not visible)", style="dim")
    return text


def _owner_names(owners: tuple[Principal, ...]) -> Text:
    text = Text()
    for n, owner in enumerate(owners):
        if n:
            text.append(", ")
        text.append(printable(owner.display_name), style="bold")
        text.append(f" ({type_label(owner.type)})", style="dim")
    return text if owners else Text("none", style="dim")


def owners_text(principal: Principal, facts: OwnerFacts) -> Text:
    """Issue 17: who owns the application and the service principal (an owner can add a credential and
    sign in as it), then the federated credentials through which a workload signs in with no secret."""
    sp = (principal.object_id or "").lower()
    app = facts.application_objects.get(sp)
    text = Text("Owners", style="bold")
    text.append("\n application: ")
    if app is None:
        text.append("in another tenant (not visible here)" if principal.app_id else "none", style="dim")
    else:
        text.append_text(_owner_names(facts.application_owners.get(app, ())))
    text.append("\n service principal: ")
    text.append_text(_owner_names(facts.service_principal_owners.get(sp, ())))
    credentials = facts.federated_credentials.get(app, ()) if app is not None else ()
    text.append("\nFederated credentials", style="bold")
    text.append(f" ({len(credentials)}: a workload signs in as it with no secret)" if credentials else ": none",
                style="" if credentials else "dim")
    text.append_text(federated_lines(credentials))
    return text


class PrincipalScreen(ConsoleScreen):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", tooltip="Read the principal again.", id="principal.refresh", show=False),
        Binding("c", "copy_app_id", "Copy id", tooltip="Copy the appId to the clipboard (OSC 52).",
                id="principal.copy-app-id"),
        operation_binding("S", "principal", RESET_CREDENTIAL, "Reset", "Add or replace a client secret."),
        operation_binding("C", "principal", ADD_CERTIFICATE, "Cert", "Add a certificate credential."),
        operation_binding("a", "principal", ASSIGN, "Assign", "Assign a registry role."),
        operation_binding("R", "principal", REVOKE, "Revoke", "Revoke access (asks to type the name)."),
    ]

    def __init__(self, ref: str, detail: PrincipalDetail | None = None) -> None:
        super().__init__()
        self.ref = ref
        # Given when the caller has read it already (`:sp`, `:revoke` look the principal up first, to
        # say "not found" rather than open an empty view).
        self.detail: PrincipalDetail | None = detail

    def crumb(self) -> str:
        return f"principal {self.ref}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="principal-body"):
            yield Static("Reading the principal…", id="principal-identity")
            yield Static("Credentials", classes="section-title")
            yield DataTable(id="principal-credentials", cursor_type="row", classes="auto-table")
            yield Static("Role assignments", classes="section-title")
            yield DataTable(id="principal-assignments", cursor_type="row", classes="auto-table")
            yield Static("", id="principal-groups")
            yield Static("", id="principal-owners")

    def on_mount(self) -> None:
        creds = self.query_one("#principal-credentials", DataTable)
        for label in ("Type", "On", "Name", "Hint/thumbprint", "Expires", "Key id"):
            creds.add_column(label)
        assignments = self.query_one("#principal-assignments", DataTable)
        for label in ("Role", "Scope", "Via group"):
            assignments.add_column(label)
        if self.detail is not None:
            self.post_message(PrincipalLoaded(self.detail))
        else:
            self.load()

    @work(exclusive=True, group="principal", exit_on_error=False)
    async def load(self) -> None:
        try:
            detail = await self.backend.principal(self.ref)
            await self.backend.registries()  # scope names; cached after the first screen
        except Exception as exc:
            self.post_message(LoadFailed(f"principal {self.ref}", from_exception(exc)))
            return
        self.post_message(PrincipalLoaded(detail))

    @on(PrincipalLoaded)
    def _loaded(self, message: PrincipalLoaded) -> None:
        self.detail = detail = message.detail
        self.query_one(StatusLine).crumb = f"principal {printable(detail.principal.display_name)}"
        self.query_one("#principal-identity", Static).update(identity_text(detail))
        now = self.console.now()
        warn = self.console.settings.expiry_warning_days
        creds = self.query_one("#principal-credentials", DataTable)
        creds.clear()
        for c in sorted(detail.credentials, key=_credential_order):
            creds.add_row(Text(c.kind.value), Text("app" if c.owner.value == "application" else "SP"),
                          shown(c.display_name), shown(c.hint or short_id(c.thumbprint, 12)),
                          expiry_text(c, now, warn), Text(short_id(c.key_id)), key=c.key_id)
        if not detail.credentials:
            creds.add_row(Text("none", style="dim"), Text(""), Text(""), Text(""), Text(""), Text(""))
        listing = self.backend.listing
        registries = listing.registries if listing is not None else []
        groups = {g.object_id.lower(): g.display_name for g in detail.groups}
        table = self.query_one("#principal-assignments", DataTable)
        table.clear()
        for a in sorted(detail.assignments, key=lambda a: a.scope.lower()):
            table.add_row(role_cell(detail.role_names.get(a.role_guid, a.role_guid), a),
                          scope_label(a.scope, registries, self.backend.subscription_name(_sub(a))),
                          shown(self._via(a, groups)), key=a.id)
        if not detail.assignments:
            table.add_row(Text("none", style="dim"), Text(""), Text(""))
        group_text = Text("Groups: ", style="bold")
        group_text.append(printable(", ".join(g.display_name for g in detail.groups)) or "none")
        self.query_one("#principal-groups", Static).update(group_text)
        owners = self.query_one("#principal-owners", Static)
        if detail.principal.type is PrincipalType.SERVICE_PRINCIPAL and detail.principal.object_id:
            owners.update(Text("Reading owners and federated credentials…", style="italic dim"))
            self.load_owners(detail.principal)
        else:  # a managed identity: Entra takes no credential on it, and it has no owners to list
            owners.update(Text("Owners and federated credentials: not read for a managed identity "
                               "(whoever controls its Azure resource runs as it).", style="dim"))

    @work(exclusive=True, group="owners", exit_on_error=False)
    async def load_owners(self, principal: Principal) -> None:
        """Issue 17: one `$batch` after the principal is shown."""
        try:
            facts = await self.backend.owners(principal)
        except Exception as exc:
            self.post_message(OwnersRead(principal, None, str(from_exception(exc))))
            return
        self.post_message(OwnersRead(principal, facts, None))

    @on(OwnersRead)
    def _owners_read(self, message: OwnersRead) -> None:
        message.stop()
        if self.detail is None or message.principal != self.detail.principal:
            return  # read again meanwhile
        owners = self.query_one("#principal-owners", Static)
        if message.facts is None:
            owners.update(shown(f"Could not read owners and federated credentials. {message.error}", style="red"))
        else:
            owners.update(owners_text(message.principal, message.facts))

    def _via(self, assignment: RoleAssignment, groups: dict[str, str]) -> str:
        assert self.detail is not None
        if assignment.principal_id.lower() == (self.detail.principal.object_id or "").lower():
            return ""
        return groups.get(assignment.principal_id.lower(), assignment.principal_id)

    @on(LoadFailed)
    def _failed(self, message: LoadFailed) -> None:
        self.query_one("#principal-identity", Static).update(message.describe())

    def action_refresh(self) -> None:
        self.load()

    def action_copy_app_id(self) -> None:
        if self.detail is None or not self.detail.principal.app_id:
            return
        self.app.copy_to_clipboard(self.detail.principal.app_id)
        self.notify(f"Copied appId {self.detail.principal.app_id}")

    def action_operation(self, name: str) -> None:
        if self.detail is None:
            self.notify("The principal is still loading.", severity="warning")
            return
        self.console.start_operation(name, principal=self.detail.principal, detail=self.detail)


def _credential_order(c: Credential) -> tuple[str, str]:
    return (c.end.isoformat() if c.end else "9999", c.key_id)


def _sub(a: RoleAssignment) -> str:
    return subscription_of(a.scope) or ""
