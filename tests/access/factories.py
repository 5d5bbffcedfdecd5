"""Small builders for access-analysis tests; every value is explicit so tables stay readable."""

from __future__ import annotations

import zlib

from acr_console.models import (
    Group,
    Principal,
    PrincipalType,
    Registry,
    RoleAssignment,
    RoleAssignmentMode,
    RoleDefinition,
)
from acr_console.roles import builtin_by_name

SUB = "11111111-1111-1111-1111-111111111111"
OTHER_SUB = "22222222-2222-2222-2222-222222222222"
RG = "rg-app"
SUB_SCOPE = f"/subscriptions/{SUB}"
RG_SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}"
REGISTRY_ID = f"{RG_SCOPE}/providers/Microsoft.ContainerRegistry/registries/myreg"
MG_SCOPE = "/providers/Microsoft.Management/managementGroups/contoso-root"

LEGACY = RoleAssignmentMode.LEGACY
ABAC = RoleAssignmentMode.ABAC

REPO_READ = "Microsoft.ContainerRegistry/registries/repositories/content/read"
REPO_WRITE = "Microsoft.ContainerRegistry/registries/repositories/content/write"
REPO_DELETE = "Microsoft.ContainerRegistry/registries/repositories/content/delete"
META_READ = "Microsoft.ContainerRegistry/registries/repositories/metadata/read"
META_WRITE = "Microsoft.ContainerRegistry/registries/repositories/metadata/write"
CATALOG_READ = "Microsoft.ContainerRegistry/registries/catalog/read"
REPO_ATTR = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"


def registry(mode: RoleAssignmentMode = LEGACY, *, admin: bool = False, registry_id: str = REGISTRY_ID) -> Registry:
    name = registry_id.rsplit("/", 1)[-1]
    return Registry(
        id=registry_id,
        name=name,
        login_server=f"{name}.azurecr.io",
        resource_group=RG,
        subscription_id=SUB,
        admin_user_enabled=admin,
        role_assignment_mode=mode,
    )


def role_definition_id(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def guid_of(role_name: str) -> str:
    role = builtin_by_name(role_name)
    assert role is not None, role_name
    return role.guid


def assignment(
    role: str,
    principal_id: str,
    *,
    scope: str = REGISTRY_ID,
    condition: str | None = None,
    assignment_id: str | None = None,
    principal_type: str = "ServicePrincipal",
) -> RoleAssignment:
    """``role`` is a built-in role name or a role GUID."""
    guid = role if builtin_by_name(role) is None else guid_of(role)
    salt = zlib.crc32(f"{scope}|{condition}".encode()) % 10_000
    name = assignment_id or f"asg-{guid[:8]}-{principal_id}-{salt}"
    return RoleAssignment(
        id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        name=name,
        scope=scope,
        role_definition_id=role_definition_id(guid),
        principal_id=principal_id,
        principal_type=principal_type,
        condition=condition,
        condition_version="2.0" if condition else None,
    )


def custom_role(
    guid: str,
    role_name: str = "Custom ACR role",
    *,
    actions: tuple[str, ...] = (),
    not_actions: tuple[str, ...] = (),
    data_actions: tuple[str, ...] = (),
    not_data_actions: tuple[str, ...] = (),
    custom: bool = True,
) -> RoleDefinition:
    return RoleDefinition(
        id=role_definition_id(guid),
        name=guid,
        role_name=role_name,
        custom=custom,
        actions=actions,
        not_actions=not_actions,
        data_actions=data_actions,
        not_data_actions=not_data_actions,
    )


def sp(object_id: str, name: str | None = None, *, app_id: str | None = None) -> Principal:
    return Principal(
        object_id=object_id,
        display_name=name or object_id,
        type=PrincipalType.SERVICE_PRINCIPAL,
        app_id=app_id,
    )


def user(object_id: str, name: str | None = None) -> Principal:
    return Principal(object_id=object_id, display_name=name or object_id, type=PrincipalType.USER)


def group(object_id: str, name: str | None = None, *members: str) -> Group:
    return Group(object_id=object_id, display_name=name or object_id, member_ids=tuple(members))


def group_principal(g: Group) -> Principal:
    return Principal(object_id=g.object_id, display_name=g.display_name, type=PrincipalType.GROUP)


def condition(*blocks: tuple[tuple[str, ...], str]) -> str:
    """Blocks of (actions, repository expression) in the documented portal shape, joined by AND."""
    rendered = []
    for actions, expression in blocks:
        guards = " AND ".join(f"!(ActionMatches{{'{a}'}})" for a in actions)
        rendered.append(f"( ( {guards} ) OR ( {expression} ) )")
    return " AND ".join(rendered)


def equals(name: str) -> str:
    return f"{REPO_ATTR} StringEqualsIgnoreCase '{name}'"


def starts_with(prefix: str) -> str:
    return f"{REPO_ATTR} StringStartsWithIgnoreCase '{prefix}'"
