"""Revoke a principal: its registry roles, and optionally its credentials, its sign-in, its application."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Checkbox, Select

from ....errors import InputError
from ....models import Principal, Registry
from ....operations.registry import REVOKE
from .base import OperationForm, principal_heading

ALL = "*all*"


class RevokeForm(OperationForm):
    OPERATION = REVOKE

    def __init__(self, principal: Principal, registries: list[Registry], registry: Registry | None = None) -> None:
        super().__init__()
        self.principal = principal  # captured now; never "the row under the cursor" later
        self.registries = registries
        self.initial = registry

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.principal)
        options = [("Every visible registry", ALL)] + [(r.name, r.id) for r in self.registries]
        yield from self.field("registry", "Remove its roles on", Select(
            options, value=self.initial.id if self.initial else ALL, allow_blank=False, compact=True))
        yield Checkbox("Also roles at resource group / subscription scope that reach the registry",
                       id="field-broader", compact=True)
        yield Checkbox("Remove every credential (secrets and certificates)", value=True,
                       id="field-credentials", compact=True)
        yield Checkbox("Disable sign-in (issued tokens live until they expire)", value=True,
                       id="field-disable", compact=True)
        yield Checkbox("Delete the application (restorable for 30 days)", id="field-delete", compact=True)

    def on_mount(self) -> None:
        self.query_one("#field-registry", Select).focus()

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
