"""A registry and a role that follows its mode: the part the create, assign and unassign forms share."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select

from ....models import Registry, RoleAssignmentMode
from ....roles import ABAC_DATA_ROLES, LEGACY_DATA_ROLES
from .base import OperationForm


def roles_for(registry: Registry | None) -> tuple[str, ...]:
    if registry is None:
        return LEGACY_DATA_ROLES
    if registry.role_assignment_mode is RoleAssignmentMode.UNKNOWN:
        return (*LEGACY_DATA_ROLES, *ABAC_DATA_ROLES)  # the mode is not stated: offer every data role
    return ABAC_DATA_ROLES if registry.role_assignment_mode is RoleAssignmentMode.ABAC else LEGACY_DATA_ROLES


class RegistryRoleForm(OperationForm):
    PREFERRED_ROLE: ClassVar[str | None] = None  # chosen first where the registry's mode offers it

    def __init__(self, registries: list[Registry], registry: Registry | None = None) -> None:
        super().__init__()
        self.registries = registries
        self.initial = registry or (registries[0] if registries else None)

    def roles(self, registry: Registry | None) -> tuple[str, ...]:
        """The roles offered on `registry`: by default, those its mode honours."""
        return roles_for(registry)

    def _default_role(self, roles: tuple[str, ...]) -> str:
        return self.PREFERRED_ROLE if self.PREFERRED_ROLE in roles else roles[0]

    def registry_fields(self, role_label: str) -> ComposeResult:
        yield from self.field("registry", "Registry", Select(
            [(f"{r.name} ({r.role_assignment_mode.short.upper()})", r.id) for r in self.registries],
            value=self.initial.id if self.initial else Select.NULL, allow_blank=self.initial is None, compact=True))
        roles = self.roles(self.initial)
        yield from self.field("role", role_label, Select([(r, r) for r in roles], value=self._default_role(roles),
                                                         allow_blank=False, compact=True))

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
        select.value = current if current in roles else self._default_role(roles)
