"""Assign a registry role to a principal; the role list follows the registry's mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from ....models import Principal, Registry
from .base import FieldError, OperationForm
from .create_principal import roles_for

if TYPE_CHECKING:
    from ....operations import Plan


@dataclass(frozen=True)
class AssignRequest:
    principal: str
    registry: str
    role: str


class AssignRoleForm(OperationForm):
    TITLE = "Assign role"

    def __init__(self, registries: list[Registry], registry: Registry | None = None,
                 principal: Principal | None = None) -> None:
        super().__init__()
        self.registries = registries
        self.initial = registry or (registries[0] if registries else None)
        self.principal = principal

    def compose_fields(self) -> ComposeResult:
        ref = ""
        if self.principal is not None:
            ref = self.principal.app_id or self.principal.object_id or ""
        yield from self.field("principal", "Principal (appId, object id or exact display name)",
                              Input(value=ref, placeholder="appId or name", compact=True))
        yield from self.field("registry", "Registry", Select(
            [(f"{r.name} ({r.role_assignment_mode.short.upper()})", r.id) for r in self.registries],
            value=self.initial.id if self.initial else Select.BLANK, allow_blank=self.initial is None, compact=True))
        roles = roles_for(self.initial)
        yield from self.field("role", "Role",
                              Select([(r, r) for r in roles], value=roles[0], allow_blank=False, compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-principal" if self.principal is None else "#field-role").focus()

    @property
    def registry(self) -> Registry | None:
        value = self.query_one("#field-registry", Select).value
        return next((r for r in self.registries if r.id == value), None)

    @on(Select.Changed, "#field-registry")
    def _registry_changed(self) -> None:
        roles = roles_for(self.registry)
        select = self.query_one("#field-role", Select)
        current = select.value
        select.set_options([(r, r) for r in roles])
        select.value = current if current in roles else roles[0]

    def validate_fields(self) -> object:
        from ....operations.validation import check_reference, check_role_for_mode, check_role_name

        principal = self.query_one("#field-principal", Input).value
        try:
            principal = check_reference(principal, "principal")
        except ValueError as err:
            raise FieldError("principal", str(err)) from None
        registry = self.registry
        if registry is None:
            raise FieldError("registry", "choose a registry")
        role = str(self.query_one("#field-role", Select).value)
        try:
            check_role_for_mode(check_role_name(role), registry.role_assignment_mode, registry.name)
        except ValueError as err:
            raise FieldError("role", str(err)) from None
        return AssignRequest(principal, registry.id, role)

    def field_for(self, message: str) -> str | None:
        low = message.lower()
        if "principal" in low:
            return "principal"
        if "role" in low:
            return "role"
        return None

    def plan_maker(self, request: object) -> Callable[[], Awaitable[Plan]]:
        from ....operations import plan_assign

        assert isinstance(request, AssignRequest)
        return lambda: plan_assign(self.console.backend.az, request.principal, request.registry, request.role)
