'''Microsoft Entra roles and Microsoft Graph application permissions that let someone add a credential
to an application or a service principal, or give themselves a role or permission that does.

The table is data, ``acr_console/data/entra_roles.json`` (read as a resource, as the Azure role table
is; the sandbox may read the same file), with its sources in the file. What it holds and why:

- Roles: "Microsoft Entra built-in roles",
  https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference
  (MicrosoftDocs/entra-docs ``permissions-reference.md`` for template ids, ``includes/<role>.md`` for
  each role's actions). Application Administrator and Cloud Application Administrator hold
  ``microsoft.directory/applications/credentials/update`` and ``…/servicePrincipals/credentials/update``
  ("Users assigned this role can add credentials to an application, and use those credentials to
  impersonate the application's identity"). Global Administrator holds
  ``…/applications/allProperties/allTasks`` and ``…/servicePrincipals/allProperties/allTasks``.
  Hybrid Identity Administrator holds **no** credentials action but holds ``applications/owners/update``
  and ``servicePrincipals/owners/update``: it can make itself an owner, then add a credential (two
  steps). Privileged Role Administrator holds ``microsoft.directory/roleAssignments/allProperties/allTasks``:
  "users assigned to this role can grant themselves or others additional privilege by assigning
  additional roles" (two steps). Left out for want of a source read here: Directory Synchronization
  Accounts, Partner Tier2 Support, Agent ID Administrator (agent identities only).
- Graph application permissions: "Microsoft Graph permissions reference",
  https://learn.microsoft.com/graph/permissions-reference (the ids are the same in every tenant).
  ``addPassword`` on an application or a service principal takes ``Application.ReadWrite.OwnedBy`` or
  ``Application.ReadWrite.All`` (application-addpassword, serviceprincipal-addpassword);
  ``Application.ReadWrite.OwnedBy`` "cannot update any apps that it is not an owner of".
  ``AppRoleAssignment.ReadWrite.All`` lets a service principal grant itself any application permission,
  ``RoleManagement.ReadWrite.Directory`` assign itself any directory role (two steps).
'''

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from types import MappingProxyType

# Resource actions (Microsoft Entra role permissions) the takeover analysis looks for.
APPLICATION_CREDENTIALS = "microsoft.directory/applications/credentials/update"
SERVICE_PRINCIPAL_CREDENTIALS = "microsoft.directory/servicePrincipals/credentials/update"
APPLICATION_OWNERS = "microsoft.directory/applications/owners/update"
SERVICE_PRINCIPAL_OWNERS = "microsoft.directory/servicePrincipals/owners/update"
ROLE_ASSIGNMENTS = "microsoft.directory/roleAssignments/allProperties/allTasks"

# Template ids of the built-in roles in the table.
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
HYBRID_IDENTITY_ADMINISTRATOR = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"

# Microsoft Graph application permissions (app role values).
APPLICATION_READWRITE_ALL = "Application.ReadWrite.All"
APPLICATION_READWRITE_OWNEDBY = "Application.ReadWrite.OwnedBy"
APPROLEASSIGNMENT_READWRITE_ALL = "AppRoleAssignment.ReadWrite.All"
ROLEMANAGEMENT_READWRITE_DIRECTORY = "RoleManagement.ReadWrite.Directory"


@cache
def _table() -> dict[str, object]:
    text = resources.files("acr_console.data").joinpath("entra_roles.json").read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


@cache
def builtin_directory_roles() -> MappingProxyType[str, tuple[str, tuple[str, ...]]]:
    """Template id (lower case) -> (display name, the allowedResourceActions that matter here)."""
    rows = _table()["directoryRoles"]
    assert isinstance(rows, list)
    return MappingProxyType({
        r["templateId"].lower(): (r["displayName"], tuple(r["allowedResourceActions"])) for r in rows
    })


@cache
def graph_app_roles() -> MappingProxyType[str, str]:
    """Microsoft Graph app role id (lower case) -> its value, e.g. ``Application.ReadWrite.All``."""
    rows = _table()["graphAppRoles"]
    assert isinstance(rows, list)
    return MappingProxyType({r["id"].lower(): r["value"] for r in rows})
