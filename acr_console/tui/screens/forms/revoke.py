"""Revoke a principal: its registry roles, and optionally its credentials, its sign-in, its application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Checkbox, Select, Static

from ....models import Principal, Registry
from ....presentation import printable
from .base import FieldError, OperationForm

if TYPE_CHECKING:
    from ....operations import Plan

ALL = "*all*"


class RevokeForm(OperationForm):
    TITLE = "Revoke principal"

    def __init__(self, principal: Principal, registries: list[Registry], registry: Registry | None = None) -> None:
        super().__init__()
        self.principal = principal  # captured now; never "the row under the cursor" later
        self.registries = registries
        self.initial = registry

    def compose_fields(self) -> ComposeResult:
        yield Static(Text.assemble(("Principal ", "dim"), (printable(self.principal.display_name), "bold"),
                                   (f"  appId {self.principal.app_id}", "dim")))
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

    def validate_fields(self) -> object:
        from ....operations import RevokeRequest, check_revoke

        if not self.principal.object_id:
            raise FieldError("registry", "this principal has no directory object to revoke")
        value = self.query_one("#field-registry", Select).value
        request = RevokeRequest(
            principal=self.principal.object_id, registry=None if value == ALL else str(value),
            all_registries=value == ALL, include_broader_scopes=self.query_one("#field-broader", Checkbox).value,
            remove_credentials=self.query_one("#field-credentials", Checkbox).value,
            disable=self.query_one("#field-disable", Checkbox).value,
            delete_application=self.query_one("#field-delete", Checkbox).value)
        check_revoke(request)
        return request

    def field_for(self, message: str) -> str | None:
        return "registry" if "registry" in message.lower() else None

    def plan_maker(self, request: object) -> Callable[[], Awaitable[Plan]]:
        from ....operations import plan_revoke

        return lambda: plan_revoke(self.console.backend.az, request)  # type: ignore[arg-type]
