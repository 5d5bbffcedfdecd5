"""Assign a registry role to a principal (the roles follow the registry's mode), or take one away."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from ....errors import InputError
from ....models import AccessEntry, Principal, Registry
from ....operations.registry import ASSIGN, UNASSIGN, Operation
from ....presentation import NOT_RETURNED_SHORT, printable
from .base import OperationForm, principal_heading
from .registry_role import RegistryRoleForm


class AssignRoleForm(RegistryRoleForm):
    OPERATION: ClassVar[Operation[Any, Any]] = ASSIGN
    ROLE_FOLLOWS_MODE = True  # only the roles the registry's mode honours

    def __init__(self, registries: list[Registry], registry: Registry | None = None,
                 principal: Principal | None = None) -> None:
        super().__init__(registries, registry)
        self.principal = principal

    def compose_fields(self) -> ComposeResult:
        ref = ""
        if self.principal is not None:
            ref = self.principal.app_id or self.principal.object_id or ""
        yield from self.field("principal", "Principal (appId, object id or exact display name)",
                              Input(value=ref, placeholder="appId or name", compact=True))
        yield from self.registry_fields("Role")

    def on_mount(self) -> None:
        self.query_one("#field-principal" if self.principal is None else "#field-role").focus()

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


class RemoveAssignmentForm(OperationForm):
    """Issue 16: remove one role assignment by its id, for a principal the directory did not return
    (deleted, say): its assignments cannot be found through the principal, so the access view hands
    over their ids (the entry's paths) and nothing is looked up before the plan."""

    OPERATION = UNASSIGN

    def __init__(self, entry: AccessEntry) -> None:
        super().__init__()
        self.entry = entry
        self.choices = [(p.assignment_id, p) for p in entry.paths if p.assignment_id]

    def compose_fields(self) -> ComposeResult:
        yield principal_heading(self.entry.principal)
        yield Static(Text(NOT_RETURNED_SHORT + ": its assignments are removed by id", style="yellow"))
        options = [(f"{printable(p.role or '?')} @ {printable(p.scope or '?')}", aid) for aid, p in self.choices]
        yield from self.field("assignment_id", "Role assignment", Select(
            options, value=options[0][1] if options else Select.NULL, allow_blank=not options, compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-assignment-id").focus()

    def request(self) -> object:
        value = self.query_one("#field-assignment-id", Select).value
        if not isinstance(value, str):
            raise InputError("choose the role assignment to remove", field="assignment_id")
        return UNASSIGN.request_type(assignment_id=value)
