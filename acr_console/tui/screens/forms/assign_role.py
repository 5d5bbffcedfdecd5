"""Assign a registry role to a principal (the roles follow the registry's mode), or take one away."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from ....errors import InputError
from ....models import Principal, Registry
from ....operations.registry import ASSIGN, UNASSIGN, Operation
from .base import OperationForm
from .create_principal import roles_for


class AssignRoleForm(OperationForm):
    OPERATION: ClassVar[Operation[Any, Any]] = ASSIGN
    ROLE_FOLLOWS_MODE = True  # only the roles the registry's mode honours

    def __init__(self, registries: list[Registry], registry: Registry | None = None,
                 principal: Principal | None = None) -> None:
        super().__init__()
        self.registries = registries
        self.initial = registry or (registries[0] if registries else None)
        self.principal = principal

    def roles(self, registry: Registry | None) -> tuple[str, ...]:
        return roles_for(registry)

    def compose_fields(self) -> ComposeResult:
        ref = ""
        if self.principal is not None:
            ref = self.principal.app_id or self.principal.object_id or ""
        yield from self.field("principal", "Principal (appId, object id or exact display name)",
                              Input(value=ref, placeholder="appId or name", compact=True))
        yield from self.field("registry", "Registry", Select(
            [(f"{r.name} ({r.role_assignment_mode.short.upper()})", r.id) for r in self.registries],
            value=self.initial.id if self.initial else Select.BLANK, allow_blank=self.initial is None, compact=True))
        roles = self.roles(self.initial)
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
        roles = self.roles(self.registry)
        select = self.query_one("#field-role", Select)
        current = select.value
        select.set_options([(r, r) for r in roles])
        select.value = current if current in roles else roles[0]

    def request(self) -> object:
        registry = self.registry
        if registry is None:
            raise InputError("choose a registry", field="registry")
        # Surrounding spaces are not part of a name or an id (the command line passes them on).
        return self.OPERATION.request_type(self.query_one("#field-principal", Input).value.strip(), registry.id,
                                           str(self.query_one("#field-role", Select).value))

    def validate_fields(self) -> Any:
        from ....operations.validation import check_role_for_mode

        request = super().validate_fields()
        registry = self.registry
        if self.ROLE_FOLLOWS_MODE and registry is not None:
            # The registry's mode is known here: a role it does not honour is refused without a read.
            check_role_for_mode(request.role, registry.role_assignment_mode, registry.name)
        return request


class UnassignRoleForm(AssignRoleForm):
    """Take a role away: any data role, also one the registry's mode does not honour (that is
    exactly the assignment worth removing)."""

    OPERATION = UNASSIGN
    ROLE_FOLLOWS_MODE = False

    def roles(self, registry: Registry | None) -> tuple[str, ...]:
        from ....operations.validation import all_data_roles

        return all_data_roles()
