"""Disable a registry's admin user (issue 16): the registry, and what it means, before the plan."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Select, Static

from ....errors import InputError
from ....models import Registry
from ....operations.registry import DISABLE_ADMIN_USER
from .base import OperationForm


def registry_label(registry: Registry) -> str:
    return f"{registry.name} (admin user ON)" if registry.admin_user_enabled else registry.name


class DisableAdminUserForm(OperationForm):
    OPERATION = DISABLE_ADMIN_USER

    def __init__(self, registries: list[Registry], registry: Registry | None = None) -> None:
        super().__init__()
        # Those with the admin user on first: they are the ones this is for.
        self.registries = sorted(registries, key=lambda r: not r.admin_user_enabled)
        self.initial = registry or (self.registries[0] if self.registries else None)

    def compose_fields(self) -> ComposeResult:
        yield Static(Text("The admin user signs in with the registry's name and an admin password, and pulls, "
                          "pushes and deletes everywhere. Disabling it stops every client using those passwords; "
                          "role assignments and tokens stay as they are.", style="dim"))
        yield from self.field("registry", "Registry", Select(
            [(registry_label(r), r.id) for r in self.registries],
            value=self.initial.id if self.initial else Select.NULL, allow_blank=self.initial is None, compact=True))

    def on_mount(self) -> None:
        self.query_one("#field-registry", Select).focus()

    def request(self) -> object:
        from ....operations import DisableAdminUserRequest

        value = self.query_one("#field-registry", Select).value
        if not isinstance(value, str):
            raise InputError("choose a registry", field="registry")
        return DisableAdminUserRequest(registry=value)
