"""Microsoft.Authorization as strict as ARM: who may write a custom role, where a custom role may be
assigned, and what a role definition may hold. Each test cites where Azure documents the rule.

Driven by the unmodified AuthorizationManagementClient; principals are made in the store.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from azure.mgmt.authorization.v2022_04_01.models import (
    Permission,
    RoleAssignmentCreateParameters,
    RoleDefinition,
)

from acr_console.roles import builtin_by_name
from acr_console.sandbox.seed import CUSTOM_ROLE_GUID, assign, stable_id
from acr_console.sandbox.store import Store

from .test_authorization import (
    API,
    auth_client,
    code,
    credential,
    error_of,
    new_principal,
    role_id,
)
from .test_authorization import admin_http as admin_http
from .test_authorization import store as store

SUB_PROD = stable_id("contoso", "sub", "prod")
SUB_DEV = stable_id("contoso", "sub", "dev")
OWNER = builtin_by_name("Owner").guid  # type: ignore[union-attr]
DEV_RG = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-platform-dev"
RD_WRITE = "Microsoft.Authorization/roleDefinitions/write"


def owner_of_one_group(connection: dict[str, Any], store: Store) -> tuple[Any, dict[str, Any]]:
    """(a client signed in as a principal that is Owner of one resource group only, its service principal)."""
    app, sp, secret = new_principal(store, "rg-owner")
    assign(store, DEV_RG, OWNER, sp["id"], "ServicePrincipal")
    cred = credential(connection, app["appId"], secret)
    return auth_client(connection, cred, retry_total=0), sp


def test_the_owner_of_one_resource_group_cannot_rewrite_a_role_assigned_in_another_subscription(
        connection: dict[str, Any], store: Store) -> None:
    # custom-roles.md, "Who can create, delete, update, or view a custom role": "Users that are
    # granted this action [roleDefinitions/write] on all the AssignableScopes of the custom role can
    # update custom roles in those scopes". The demo's "Contoso Image Promoter" is assignable in all
    # three subscriptions and assigned at prod; naming only one's own group as the new assignable
    # scope must not get round the existing ones.
    before = store.role_definition(CUSTOM_ROLE_GUID)
    client, sp = owner_of_one_group(connection, store)
    takeover = RoleDefinition(role_name="Contoso Image Promoter", role_type="CustomRole",
                              permissions=[Permission(actions=["*"])], assignable_scopes=[DEV_RG])
    e = error_of(lambda: client.role_definitions.create_or_update(DEV_RG, CUSTOM_ROLE_GUID, takeover))
    assert e.status_code == 403 and code(e) == "AuthorizationFailed"
    # ARM's wording: the action and the scope it was refused over.
    assert f"'{RD_WRITE}' over scope '/subscriptions/{SUB_PROD}'" in e.message
    assert sp["id"] in e.message
    assert store.role_definition(CUSTOM_ROLE_GUID) == before  # nothing changed
    # ... and so cannot make anyone Owner of the other subscription.
    params = RoleAssignmentCreateParameters(role_definition_id=role_id(OWNER), principal_id=sp["id"],
                                            principal_type="ServicePrincipal")
    e = error_of(lambda: client.role_assignments.create(f"/subscriptions/{SUB_PROD}", str(uuid.uuid4()), params))
    assert e.status_code == 403 and code(e) == "AuthorizationFailed"
    # Deleting the role needs the right on every assignable scope as well.
    e = error_of(lambda: client.role_definitions.delete(DEV_RG, CUSTOM_ROLE_GUID))
    assert e.status_code == 403 and code(e) == "AuthorizationFailed"
    assert store.role_definition(CUSTOM_ROLE_GUID) == before


def test_a_role_of_ones_own_group_can_be_written_and_rewritten(connection: dict[str, Any], store: Store) -> None:
    # The other side of the same rule: write at every existing and new assignable scope is enough.
    client, _ = owner_of_one_group(connection, store)
    guid = str(uuid.uuid4())
    body = RoleDefinition(role_name=f"Group Puller {guid[:8]}", permissions=[Permission(actions=[
        "Microsoft.ContainerRegistry/registries/pull/read"])], assignable_scopes=[DEV_RG])
    assert client.role_definitions.create_or_update(DEV_RG, guid, body).name == guid
    body.permissions = [Permission(actions=["Microsoft.ContainerRegistry/registries/*/read"])]
    assert client.role_definitions.create_or_update(DEV_RG, guid, body).permissions[0].actions == [
        "Microsoft.ContainerRegistry/registries/*/read"]
    # Widening it to a subscription the caller does not own is refused, naming that subscription.
    body.assignable_scopes = [DEV_RG, f"/subscriptions/{SUB_PROD}"]
    e = error_of(lambda: client.role_definitions.create_or_update(DEV_RG, guid, body))
    assert e.status_code == 403 and f"over scope '/subscriptions/{SUB_PROD}'" in e.message
    client.role_definitions.delete(DEV_RG, guid)


def test_a_custom_role_is_assignable_only_inside_its_assignable_scopes(connection: dict[str, Any],
                                                                       store: Store) -> None:
    # role-definitions.md, "AssignableScopes": a custom role is "available for assignment" at and
    # below the scopes it names, nowhere else. ARM's message as users quote it: "The role … is not
    # available for assignment at the requested scope." (status 400; its code is not documented).
    client = auth_client(connection, retry_total=0)
    guid = str(uuid.uuid4())
    name = f"Dev Only {guid[:8]}"
    client.role_definitions.create_or_update(DEV_RG, guid, RoleDefinition(
        role_name=name, permissions=[Permission(actions=["Microsoft.ContainerRegistry/registries/read"])],
        assignable_scopes=[DEV_RG]))
    _, sp, _ = new_principal(store, "assignee")
    params = RoleAssignmentCreateParameters(role_definition_id=role_id(guid, SUB_DEV), principal_id=sp["id"],
                                            principal_type="ServicePrincipal")
    for outside in (f"/subscriptions/{SUB_DEV}", f"/subscriptions/{SUB_PROD}/resourceGroups/rg-platform-prod"):
        e = error_of(lambda s=outside: client.role_assignments.create(s, str(uuid.uuid4()), params))
        assert e.status_code == 400 and code(e) == "InvalidRoleAssignmentScope", outside
        assert f"The role {name} is not available for assignment at the requested scope." in e.message
    inside = client.role_assignments.create(DEV_RG, str(uuid.uuid4()), params)
    assert inside.scope == DEV_RG
    client.role_assignments.delete_by_id(inside.id)
    client.role_definitions.delete(DEV_RG, guid)


BAD_DEFINITIONS: list[tuple[str, dict[str, Any], str]] = [
    # (what, properties, ARM's code). Types: the REST model's string[] (azure-rest-api-specs
    # specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
    # authorization-RoleDefinitionsCalls.json, "Permission"); limits: custom-roles.md.
    ("a number among the actions", {"permissions": [{"actions": [1]}]}, "InvalidRequestContent"),
    ("an object among the actions", {"permissions": [{"actions": [{"a": 1}]}]}, "InvalidRequestContent"),
    ("actions as one string", {"permissions": [{"actions": "Microsoft.ContainerRegistry/*"}]},
     "InvalidRequestContent"),
    ("a list among the notDataActions", {"permissions": [{"notDataActions": [["x"]]}]}, "InvalidRequestContent"),
    ("permissions not a list of objects", {"permissions": ["*"]}, "InvalidRequestContent"),
    ("assignable scopes not strings", {"assignableScopes": [7]}, "InvalidRequestContent"),
    ("a role name of 513 characters", {"roleName": "r" * 513}, "InvalidRoleDefinitionName"),
    ("a description of 2049 characters", {"description": "d" * 2049}, "InvalidRoleDefinitionDescription"),
    ("2001 assignable scopes", {"assignableScopes": [DEV_RG] * 2001}, "InvalidAssignableScopes"),
    ("the root scope", {"assignableScopes": ["/"]}, "InvalidAssignableScopes"),
    ("a wildcard scope", {"assignableScopes": [f"/subscriptions/{SUB_DEV}/resourceGroups/*"]},
     "InvalidAssignableScopes"),
    ("two wildcards in an action", {"permissions": [{"actions": ["Microsoft.*/*/read"]}]},
     "InvalidActionOrNotAction"),
    ("an empty action", {"permissions": [{"actions": [""]}]}, "InvalidActionOrNotAction"),
]


@pytest.mark.parametrize(("what", "props", "expected"), BAD_DEFINITIONS, ids=[b[0] for b in BAD_DEFINITIONS])
def test_role_definitions_are_validated_on_write(admin_http: httpx.Client, store: Store, what: str,
                                                 props: dict[str, Any], expected: str) -> None:
    guid = str(uuid.uuid4())
    body = {"properties": {"roleName": f"Bad {guid[:8]}", "assignableScopes": [DEV_RG],
                           "permissions": [{"actions": ["Microsoft.ContainerRegistry/registries/read"]}], **props}}
    r = admin_http.put(f"{DEV_RG}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}", json=body)
    assert r.status_code == 400, what
    assert r.json()["error"]["code"] == expected, r.json()
    assert store.role_definition(guid) is None
