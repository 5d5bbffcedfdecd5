"""Revoke a principal: its registry roles, and optionally its credentials, its sign-in, its application.

What is proposed depends on where the revoke starts (issue 16). From a registry's list it proposes
that registry's role assignments only: removing every credential and disabling sign-in act on the
whole tenant (every registry, every other service the principal signs in to), so they are opt-in there,
each with its consequence written under it. From the principal view the full revoke (every visible
registry, credentials, sign-in) stays the default. For a managed identity, and for the identity the
console itself signs in as, neither is ticked anywhere and ticking one shows a stronger warning; the
plan is confirmed by typing the principal's name, as every revoke is.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Checkbox, Select, Static

from ....errors import InputError
from ....models import Principal, PrincipalType, Registry
from ....operations.registry import REVOKE
from ....presentation import printable
from .base import OperationForm, principal_heading

ALL = "*all*"

CREDENTIALS_CONSEQUENCE = ("Tenant-wide: every secret and certificate of the application goes; everything that "
                           "signs in with them, on any registry or other service, stops working.")
DISABLE_CONSEQUENCE = ("Tenant-wide: the principal can no longer sign in to anything (tokens already issued "
                       "live until they expire, up to 3 hours for registry tokens).")
# Microsoft Graph, servicePrincipal resource type, servicePrincipalType "ManagedIdentity": "Service
# principals representing managed identities can be granted access and permissions, but can't be
# updated or modified directly" (also MicrosoftDocs/entra-docs
# docs/identity-platform/app-objects-and-service-principals.md). Its credentials are Azure's: none to remove.
MANAGED_IDENTITY_CREDENTIALS = ("A managed identity has no secret or certificate of its own to remove: Azure "
                                "issues and rotates its credentials.")
MANAGED_IDENTITY_WARNING = ("⚠ {name} is a managed identity: Azure manages its service principal, which \"can't be "
                            "updated or modified directly\" (Microsoft Graph). Disabling it, if Azure accepts, stops "
                            "the Azure resource it belongs to from signing in to anything; to end it, remove the "
                            "identity from its resource instead.")
SELF_WARNING = ("⚠ {name} is the identity this console signs in as: removing its credentials or disabling it "
                "locks the console (and everything else using it) out, possibly before the plan finishes.")


class RevokeForm(OperationForm):
    OPERATION = REVOKE

    def __init__(self, principal: Principal, registries: list[Registry], registry: Registry | None = None, *,
                 from_registry: bool = False, signed_in_object_id: str | None = None) -> None:
        super().__init__()
        self.principal = principal  # captured now; never "the row under the cursor" later
        self.registries = registries
        self.initial = registry
        # Started from a registry's list: that registry's assignments only, nothing tenant-wide ticked.
        self.from_registry = from_registry and registry is not None
        self.managed_identity = principal.type is PrincipalType.MANAGED_IDENTITY
        self.is_self = bool(signed_in_object_id and principal.object_id
                            and signed_in_object_id.lower() == principal.object_id.lower())

    @property
    def full_by_default(self) -> bool:
        """Credentials and sign-in ticked when the form opens."""
        return not (self.from_registry or self.managed_identity or self.is_self)

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.principal)
        options = [("Every visible registry", ALL)] + [(r.name, r.id) for r in self.registries]
        yield from self.field("registry", "Remove its roles on", Select(
            options, value=self.initial.id if self.initial else ALL, allow_blank=False, compact=True))
        yield Checkbox("Also roles at resource group / subscription scope that reach the registry",
                       id="field-broader", compact=True)
        full = self.full_by_default
        yield Checkbox("Remove every credential (secrets and certificates)", value=full,
                       id="field-credentials", compact=True, disabled=self.managed_identity)
        yield Static(Text(MANAGED_IDENTITY_CREDENTIALS if self.managed_identity else CREDENTIALS_CONSEQUENCE,
                          style="dim"), id="consequence-credentials", classes="consequence")
        yield Checkbox("Disable sign-in", value=full, id="field-disable", compact=True)
        yield Static(Text(DISABLE_CONSEQUENCE, style="dim"), id="consequence-disable", classes="consequence")
        yield Checkbox("Delete the application (restorable for 30 days)", id="field-delete", compact=True,
                       disabled=self.managed_identity)
        danger = Static("", id="revoke-danger")
        danger.display = False
        yield danger

    def on_mount(self) -> None:
        self.query_one("#field-registry", Select).focus()
        self._update_danger()

    @on(Checkbox.Changed)
    def _ticked(self) -> None:
        self._update_danger()

    def _update_danger(self) -> None:
        """The stronger warning, shown while something tenant-wide is ticked for a managed identity or
        for the console's own identity."""
        tenant_wide = any(self.query_one(f"#field-{name}", Checkbox).value
                          for name in ("credentials", "disable", "delete"))
        lines = []
        name = printable(self.principal.display_name)
        if self.is_self:
            lines.append(SELF_WARNING.format(name=name))
        if self.managed_identity:
            lines.append(MANAGED_IDENTITY_WARNING.format(name=name))
        danger = self.query_one("#revoke-danger", Static)
        danger.display = tenant_wide and bool(lines)
        danger.update(Text("\n".join(lines), style="bold red"))
        if danger.display:
            danger.scroll_visible()  # below the boxes: brought into view at 80x24 and smaller

    def request(self) -> object:
        from ....operations import RevokeRequest

        if not self.principal.object_id:
            raise InputError("this principal has no directory object to revoke", field="principal")
        value = self.query_one("#field-registry", Select).value
        return RevokeRequest(
            principal=self.principal.object_id, registry=None if value == ALL else str(value),
            all_registries=value == ALL, include_broader_scopes=self.query_one("#field-broader", Checkbox).value,
            remove_credentials=self.query_one("#field-credentials", Checkbox).value,
            disable=self.query_one("#field-disable", Checkbox).value,
            delete_application=self.query_one("#field-delete", Checkbox).value)
