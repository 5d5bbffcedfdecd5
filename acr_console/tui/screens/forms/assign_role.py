"""Assign a registry role to a principal (the roles follow the registry's mode), or take one away."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from ....errors import InputError
from ....models import AccessEntry, Principal, Registry, RoleAssignmentMode
from ....operations.registry import ASSIGN, UNASSIGN, Operation
from ....presentation import NOT_RETURNED_SHORT, printable
from .base import OperationForm, principal_heading
from .registry_role import RegistryRoleForm

# Issue 16: the repository condition of the ABAC Repository roles, shared with the create form.
REPOSITORIES_LABEL = "Only these repositories (blank: every one; team/ = every repository under team/)"


def repositories_field(form: RegistryRoleForm) -> ComposeResult:
    yield from form.field("repositories", REPOSITORIES_LABEL,
                          Input(placeholder="e.g. team/ web (separated by spaces or commas)", compact=True))


def takes_repositories(form: RegistryRoleForm) -> bool:
    """Whether the chosen role on the chosen registry takes a repository condition: a Repository role
    (not Catalog Lister) on a registry that is not in legacy mode."""
    from ....operations.assign import REPOSITORY_ROLES

    registry = form.registry
    role = form.query_one("#field-role", Select).value
    return (registry is not None and registry.role_assignment_mode is not RoleAssignmentMode.LEGACY
            and role in REPOSITORY_ROLES)


def show_repositories(form: RegistryRoleForm) -> None:
    form.show_field("repositories", takes_repositories(form))


def repositories_value(form: RegistryRoleForm) -> tuple[str, ...]:
    """The typed repositories, when the field applies; () otherwise (or blank)."""
    if not takes_repositories(form):
        return ()
    text = form.query_one("#field-repositories", Input).value
    return tuple(part for part in text.replace(",", " ").split() if part)


class AssignRoleForm(RegistryRoleForm):
    OPERATION: ClassVar[Operation[Any, Any]] = ASSIGN
    ROLE_FOLLOWS_MODE = True  # only the roles the registry's mode honours

    def __init__(self, registries: list[Registry], registry: Registry | None = None,
                 principal: Principal | None = None) -> None:
        super().__init__(registries, registry)
        self.principal = principal
        if registry is None and principal is not None:
            # Opened from a principal: which registry is the person's choice, never the first in the list.
            self.initial = None

    def compose_fields(self) -> ComposeResult:
        ref = ""
        if self.principal is not None:
            ref = self.principal.app_id or self.principal.object_id or ""
        yield from self.field("principal", "Principal (appId, object id or exact display name)",
                              Input(value=ref, placeholder="appId or name", compact=True))
        yield from self.registry_fields("Role")
        if self.OPERATION is ASSIGN:
            yield from repositories_field(self)  # issue 16

    def on_mount(self) -> None:
        if self.OPERATION is ASSIGN:
            show_repositories(self)
        first = ("#field-principal" if self.principal is None
                 else "#field-registry" if self.initial is None else "#field-role")
        self.query_one(first).focus()

    @on(Select.Changed, "#field-role, #field-registry")
    def _repositories_apply(self) -> None:
        if self.OPERATION is ASSIGN:
            self.call_after_refresh(show_repositories, self)

    def request(self) -> object:
        registry = self.registry
        if registry is None:
            raise InputError("choose a registry", field="registry")
        # Surrounding spaces are not part of a name or an id (the command line passes them on).
        principal = self.query_one("#field-principal", Input).value.strip()
        role = str(self.query_one("#field-role", Select).value)
        if self.OPERATION is ASSIGN:
            return self.OPERATION.request_type(principal, registry.id, role, repositories=repositories_value(self))
        return self.OPERATION.request_type(principal, registry.id, role)

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
