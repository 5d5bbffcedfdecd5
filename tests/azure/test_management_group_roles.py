"""A custom role defined at a management group and assigned there resolves whatever `--subscription`
says: the console reads the definition at the group, where it lives (azure/authorization.py
`definition_read_id`), not through a subscription it guesses. Before, it was "unknown role" without
`--subscription` (no guess) and with it (the tenant form it then read holds built-in roles only;
tests/sandbox/test_authorization.py::test_custom_roles_of_a_management_group).

The sandbox's registry token service says what the role really gives; the analysis must agree.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import jwt
import pytest
from azure.identity import ClientSecretCredential

from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.principals import read_principal_detail
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.models import PathKind, Right
from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign
from acr_console.sandbox.server import SandboxServer

from ..sandbox.graph_support import ssl_context
from ..support.sandbox import sandbox_fixture

ARM_SCOPE = "https://management.azure.com/.default"
API = "api-version=2022-04-01"
OWNER = builtin_by_name("Owner").guid  # type: ignore[union-attr]
REGISTRY = "mgrolesacr"

mg_sandbox = sandbox_fixture("mg-roles-console", seed="empty")


@pytest.fixture(scope="module")
def tenant(mg_sandbox: SandboxServer) -> dict[str, Any]:
    """The admin owns the tenant root group; a custom role "MG Image Pusher" is defined there and
    assigned there to a new service principal; a legacy registry sits in the second subscription."""
    conn = mg_sandbox.connection
    assert conn is not None and mg_sandbox.sandbox is not None
    store = mg_sandbox.sandbox.store
    mg = f"/providers/Microsoft.Management/managementGroups/{conn['tenant_id']}"
    admin_sp = store.by_app_id(conn["admin"]["client_id"], "servicePrincipal")
    assert admin_sp is not None
    assign(store, mg, OWNER, admin_sp["id"], "ServicePrincipal")
    app = new_application(store, "mg-image-pusher")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    guid = str(uuid.uuid4())
    subs = conn["subscriptions"]
    sub = subs[1]
    token = ClientSecretCredential(conn["tenant_id"], conn["admin"]["client_id"], conn["admin"]["client_secret"],
                                   authority=conn["authority_host"], disable_instance_discovery=True,
                                   connection_verify=conn["ca_bundle"]).get_token(ARM_SCOPE).token
    with httpx.Client(base_url=conn["resource_manager"], verify=ssl_context(conn),
                      headers={"Authorization": f"Bearer {token}"}) as http:
        for path, body in (
            (f"{mg}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}",
             {"properties": {"roleName": "MG Image Pusher", "type": "CustomRole", "assignableScopes": [mg],
                             "permissions": [{"actions": ["Microsoft.ContainerRegistry/registries/pull/read",
                                                          "Microsoft.ContainerRegistry/registries/push/write"]}]}}),
            (f"{mg}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?{API}",
             {"properties": {"roleDefinitionId": f"{mg}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                             "principalId": sp["id"], "principalType": "ServicePrincipal"}}),
            (f"/subscriptions/{sub}/resourceGroups/rg-mg?api-version=2021-04-01", {"location": "westeurope"}),
            (f"/subscriptions/{sub}/resourceGroups/rg-mg/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"
             "?api-version=2025-11-01",
             {"location": "westeurope", "sku": {"name": "Standard"},
              "properties": {"roleAssignmentMode": "LegacyRegistryPermissions"}}),
        ):
            r = http.put(path, json=body)
            assert r.status_code in (200, 201), r.text
    return {"conn": conn, "app_id": app["appId"], "secret": secret, "subs": subs, "sub": sub}


@pytest.mark.parametrize("selection", ["none", "registry's", "another first"])
async def test_the_role_resolves_whatever_subscription_says(tenant: dict[str, Any], selection: str) -> None:
    subs, sub = tenant["subs"], tenant["sub"]
    chosen = {"none": (), "registry's": (sub,), "another first": (subs[0], sub)}[selection]
    async with AzureClients(sandbox_connection(tenant["conn"], subscriptions=chosen)) as az:
        registry = await find_registry(az, REGISTRY)
        access = await read_registry_access(az, registry, RoleDefinitions(az))
        [entry] = [e for e in access.entries if e.principal.app_id == tenant["app_id"]]
        [path] = [p for p in entry.paths if p.kind is PathKind.ROLE_ASSIGNMENT]
        assert path.role == "MG Image Pusher"
        assert path.rights == {Right.PULL, Right.PUSH}
        detail = await read_principal_detail(az, tenant["app_id"], RoleDefinitions(az))
        assert "MG Image Pusher" in detail.role_names.values()


def test_the_token_service_agrees(tenant: dict[str, Any]) -> None:
    conn = tenant["conn"]
    login = f"{REGISTRY}.azurecr.io"
    basic = base64.b64encode(f"{tenant['app_id']}:{tenant['secret']}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token",
                     params={"service": login, "scope": "repository:app/web:pull,push,delete"},
                     headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"]
    assert access == [{"type": "repository", "name": "app/web", "actions": ["pull", "push"]}]
