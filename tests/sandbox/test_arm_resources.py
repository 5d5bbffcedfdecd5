"""ARM in the sandbox: the front door (case, `//`, api-version), resource groups and registry writes.

Registries go through the unmodified ContainerRegistryManagementClient; resource groups through
plain HTTPS, since azure-mgmt-resource is not a dependency. Every name a test creates is unique.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    RegenerateCredentialParameters,
    Registry,
    RegistryProperties,
    RegistryPropertiesUpdateParameters,
    RegistryUpdateParameters,
    Sku,
)

from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer
from acr_console.sandbox.store import Store

ARM_SCOPE = "https://management.azure.com/.default"
SUB = stable_id("contoso", "sub", "dev")
RG_API = "api-version=2021-04-01"
ACR_API = "api-version=2025-11-01"
REGISTRIES = "Microsoft.ContainerRegistry/registries"
READER = builtin_by_name("Reader").guid  # type: ignore[union-attr]
ACR_PULL = builtin_by_name("AcrPull").guid  # type: ignore[union-attr]


def credential(conn: dict[str, Any], client_id: str, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(
        conn["tenant_id"], client_id, secret, authority=conn["authority_host"],
        disable_instance_discovery=True, connection_verify=conn["ca_bundle"],
    )


def acr_client(conn: dict[str, Any], cred: Any = None) -> ContainerRegistryManagementClient:
    cred = cred or credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"])
    return ContainerRegistryManagementClient(
        cred, SUB, base_url=conn["resource_manager"], credential_scopes=[ARM_SCOPE],
        connection_verify=conn["ca_bundle"], retry_total=0,
    )


def error_of(call: Callable[[], Any]) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        call()
    return info.value


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(sandbox_server: SandboxServer) -> Store:
    assert sandbox_server.sandbox is not None
    return sandbox_server.sandbox.store


@pytest.fixture
def http(connection: dict[str, Any]) -> Iterator[httpx.Client]:
    token = credential(connection, connection["admin"]["client_id"],
                       connection["admin"]["client_secret"]).get_token(ARM_SCOPE).token
    ctx = ssl.create_default_context(cafile=connection["ca_bundle"])
    with httpx.Client(base_url=connection["resource_manager"], verify=ctx,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def group(http: httpx.Client) -> Iterator[str]:
    """A resource group of the test's own, deleted afterwards with whatever is left in it."""
    name = unique("rg-test-")
    assert http.put(f"/subscriptions/{SUB}/resourceGroups/{name}?{RG_API}",
                    json={"location": "westeurope"}).status_code == 201
    yield name
    http.delete(f"/subscriptions/{SUB}/resourceGroups/{name}?{RG_API}")


# -- the front door --------------------------------------------------------------------------------


def test_paths_are_case_insensitive(http: httpx.Client) -> None:
    path = (f"/SUBSCRIPTIONS/{SUB.upper()}/resourcegroups/rg-platform-dev/PROVIDERS/"
            f"microsoft.containerregistry/REGISTRIES/contosodev?{ACR_API}")
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == (f"/subscriptions/{SUB}/resourceGroups/rg-platform-dev/providers/"
                              "Microsoft.ContainerRegistry/registries/contosodev")
    listed = http.get(f"/subscriptions/{SUB}/resourcegroups?{RG_API}")
    assert "rg-platform-dev" in {g["name"] for g in listed.json()["value"]}
    assert http.get(f"/subscriptions/{SUB}/providers/MICROSOFT.AUTHORIZATION/roleassignments"
                    "?api-version=2022-04-01&$filter=atScope()").status_code == 200


def test_double_slash_and_missing_api_version_are_refused(http: httpx.Client) -> None:
    r = http.get(f"/subscriptions/{SUB}//resourceGroups?{RG_API}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
    r = http.get(f"/subscriptions/{SUB}/resourceGroups")
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    # Any api-version is accepted, and logged.
    assert http.get(f"/subscriptions/{SUB}/resourceGroups?api-version=1999-01-01").status_code == 200


# -- resource groups -------------------------------------------------------------------------------


def test_resource_group_lifecycle(http: httpx.Client, store: Store) -> None:
    name = unique("rg-life-")
    url = f"/subscriptions/{SUB}/resourceGroups/{name}?{RG_API}"
    created = http.put(url, json={"location": "westeurope", "tags": {"team": "platform"}})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == f"/subscriptions/{SUB}/resourceGroups/{name}"
    assert http.put(url, json={"location": "westeurope"}).status_code == 200
    assert http.get(url).json()["name"] == name
    listed = http.get(f"/subscriptions/{SUB}/resourceGroups?{RG_API}").json()["value"]
    assert name in {g["name"] for g in listed}

    bad = http.put(f"/subscriptions/{SUB}/resourceGroups/bad%20name!?{RG_API}",
                   json={"location": "westeurope"})
    assert bad.status_code == 400
    assert http.put(url.replace(name, name + "x"), json={}).json()["error"]["code"] == "LocationRequired"

    # Deleting the group takes its registries and every assignment at or below it.
    reg = unique("reg")
    reg_url = f"/subscriptions/{SUB}/resourceGroups/{name}/providers/{REGISTRIES}/{reg}"
    reg_body = {"location": "westeurope", "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": True}}
    assert http.put(f"{reg_url}?{ACR_API}", json=reg_body).status_code == 201
    sp = new_service_principal(store, new_application(store, unique("test-rg-")))
    at_reg = assign(store, reg_url, ACR_PULL, sp["id"], "ServicePrincipal")
    at_rg = assign(store, f"/subscriptions/{SUB}/resourceGroups/{name}", READER, sp["id"], "ServicePrincipal")
    assert http.delete(url).status_code == 200
    missing = http.get(url)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceGroupNotFound"
    assert store.resource(reg_url) is None and store.registry_passwords(reg_url) == {}
    assert store.role_assignment(at_reg["name"]) is None and store.role_assignment(at_rg["name"]) is None
    assert http.delete(url).status_code == 404


# -- registries ------------------------------------------------------------------------------------


def test_registry_lifecycle(connection: dict[str, Any], group: str, store: Store) -> None:
    client = acr_client(connection)
    name = unique("Reg")  # mixed case: the login server is lower-case
    created = client.registries.begin_create(
        group, name, Registry(location="westeurope", sku=Sku(name="Premium"),
                              properties=RegistryProperties(admin_user_enabled=False)),
    ).result()
    assert created.login_server == f"{name.lower()}.azurecr.io"
    assert created.provisioning_state == "Succeeded" and created.admin_user_enabled is False

    disabled = error_of(lambda: client.registries.list_credentials(group, name))
    assert disabled.status_code == 400 and disabled.error is not None
    assert disabled.error.code == "AdminUserDisabled" and "admin user is disabled" in disabled.message

    updated = client.registries.begin_update(group, name, RegistryUpdateParameters(
        tags={"env": "test"},
        properties=RegistryPropertiesUpdateParameters(admin_user_enabled=True,
                                                      role_assignment_mode="AbacRepositoryPermissions"),
    )).result()
    assert updated.admin_user_enabled is True and updated.role_assignment_mode == "AbacRepositoryPermissions"
    assert updated.tags == {"env": "test"}

    creds = client.registries.list_credentials(group, name)
    assert creds.username == name
    passwords = {p.name: p.value for p in creds.passwords}
    assert set(passwords) == {"password", "password2"} and len(set(passwords.values())) == 2
    assert store.admin_password_matches(created.id, passwords["password2"])
    assert not store.admin_password_matches(created.id, "wrong")

    regenerated = client.registries.regenerate_credential(
        group, name, RegenerateCredentialParameters(name="password"))
    fresh = {p.name: p.value for p in regenerated.passwords}
    assert fresh["password"] != passwords["password"] and fresh["password2"] == passwords["password2"]
    assert not store.admin_password_matches(created.id, passwords["password"])
    assert store.admin_password_matches(created.id, fresh["password"])

    client.registries.begin_update(group, name, RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(admin_user_enabled=False))).result()
    # A disabled admin user signs in nowhere.
    assert not store.admin_password_matches(created.id, fresh["password"])

    client.registries.begin_delete(group, name).result()
    with pytest.raises(ResourceNotFoundError):
        client.registries.get(group, name)


def test_registry_create_errors(http: httpx.Client, group: str) -> None:
    base = f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry/registries"
    body = {"location": "westeurope", "sku": {"name": "Standard"}}
    for bad in ("abcd", "has-dash1", "x" * 51):
        r = http.put(f"{base}/{bad}?{ACR_API}", json=body)
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidResourceName", bad
    # Registry names are DNS names: taken in another subscription is taken.
    taken = http.put(f"{base}/ContosoProd?{ACR_API}", json=body)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "AlreadyInUse"
    r = http.put(f"{base}/{unique('reg')}?{ACR_API}", json={**body, "sku": {"name": "Gold"}})
    assert r.status_code == 400
    r = http.put(f"{base}/{unique('reg')}?{ACR_API}",
                 json={**body, "properties": {"roleAssignmentMode": "Sometimes"}})
    assert r.status_code == 400
    nowhere = f"/subscriptions/{SUB}/resourceGroups/{unique('rg-nope-')}/providers/{REGISTRIES}"
    r = http.put(f"{nowhere}/{unique('reg')}?{ACR_API}", json=body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceGroupNotFound"
    regen = http.post(f"/subscriptions/{SUB}/resourceGroups/rg-platform-dev/providers/{REGISTRIES}"
                      f"/contosodev/regenerateCredential?{ACR_API}", json={"name": "password3"})
    assert regen.status_code == 400
    # Deleting what is not there is not an error.
    assert http.delete(f"{base}/{unique('reg')}?{ACR_API}").status_code == 204


def test_registry_writes_need_permission(connection: dict[str, Any], store: Store, group: str) -> None:
    app = new_application(store, unique("test-reader-"))
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    assign(store, f"/subscriptions/{SUB}", READER, sp["id"], "ServicePrincipal")
    client = acr_client(connection, credential(connection, app["appId"], secret))
    assert {r.name for r in client.registries.list()} >= {"contosodev"}  # a reader reads

    name = unique("reg")
    denied = error_of(lambda: client.registries.begin_create(
        group, name, Registry(location="westeurope", sku=Sku(name="Basic"))).result())
    assert denied.status_code == 403 and denied.error is not None
    assert denied.error.code == "AuthorizationFailed"
    rid = f"/subscriptions/{SUB}/resourceGroups/{group}/providers/{REGISTRIES}/{name}"
    assert "Microsoft.ContainerRegistry/registries/write" in denied.message and rid in denied.message
    creds = error_of(lambda: client.registries.list_credentials("rg-platform-dev", "contosodev"))
    assert creds.status_code == 403 and "listCredentials/action" in creds.message
    delete = error_of(lambda: client.registries.begin_delete("rg-platform-dev", "contosodev").result())
    assert delete.status_code == 403 and "registries/delete" in delete.message
    token = credential(connection, app["appId"], secret).get_token(ARM_SCOPE).token
    ctx = ssl.create_default_context(cafile=connection["ca_bundle"])
    with httpx.Client(base_url=connection["resource_manager"], verify=ctx,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        r = http.put(f"/subscriptions/{SUB}/resourceGroups/{unique('rg-')}?{RG_API}",
                     json={"location": "westeurope"})
        assert r.status_code == 403 and "resourceGroups/write" in r.json()["error"]["message"]
