"""Disable a registry's admin user (issue 16): the registry, and what it means, before the plan."""

from __future__ import annotations

from ....models import Registry
from ....operations.registry import DISABLE_ADMIN_USER
from .registry_switch import RegistrySwitchForm


class DisableAdminUserForm(RegistrySwitchForm):
    OPERATION = DISABLE_ADMIN_USER
    SETTING = "admin user"
    EXPLANATION = ("The admin user signs in with the registry's name and an admin password, and pulls, pushes and "
                   "deletes everywhere. Disabling it stops every client using those passwords; role assignments and "
                   "tokens stay as they are.")

    def is_on(self, registry: Registry) -> bool:
        return registry.admin_user_enabled

    def request_for(self, registry_id: str) -> object:
        from ....operations import DisableAdminUserRequest

        return DisableAdminUserRequest(registry=registry_id)
