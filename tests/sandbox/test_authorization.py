"""Microsoft.Authorization in the sandbox, driven by the unmodified AuthorizationManagementClient.

Principals are made straight in the store (directory.py helpers), not through Graph, so these tests
depend only on ARM. Every object a test creates on the shared demo sandbox has a unique name.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import (
    Permission,
    RoleAssignmentCreateParameters,
    RoleDefinition,
)

from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import (
    add_member,
    add_password,
    new_application,
    new_group,
    new_service_principal,
)
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer
from acr_console.sandbox.store import Store

from ..support.sandbox import sandbox_fixture

ARM_SCOPE = "https://management.azure.com/.default"
API = "api-version=2022-04-01"
SUB_PROD = stable_id("contoso", "sub", "prod")
RG = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-platform-prod"
REGISTRY = f"{RG}/providers/Microsoft.ContainerRegistry/registries/contosoprod"
ACR_PULL = builtin_by_name("AcrPull").guid  # type: ignore[union-attr]
READER = builtin_by_name("Reader").guid  # type: ignore[union-attr]
CATALOG_LISTER = builtin_by_name("Container Registry Repository Catalog Lister").guid  # type: ignore[union-attr]
REPO_READER = builtin_by_name("Container Registry Repository Reader").guid  # type: ignore[union-attr]


def role_id(guid: str, sub: str = SUB_PROD) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def credential(conn: dict[str, Any], client_id: str, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(
        conn["tenant_id"], client_id, secret, authority=conn["authority_host"],
        disable_instance_discovery=True, connection_verify=conn["ca_bundle"],
    )


def auth_client(conn: dict[str, Any], cred: Any = None, **kwargs: Any) -> AuthorizationManagementClient:
    cred = cred or credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"])
    return AuthorizationManagementClient(
        cred, SUB_PROD, base_url=conn["resource_manager"], credential_scopes=[ARM_SCOPE],
        connection_verify=conn["ca_bundle"], **kwargs,
    )


def new_principal(store: Store, label: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(application, service principal, secret) of a fresh principal with no roles."""
    app = new_application(store, f"test-{label}-{uuid.uuid4().hex[:8]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    return app, sp, secret


def error_of(call: Callable[[], Any]) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        call()
    return info.value


def code(exc: HttpResponseError) -> str | None:
    return exc.error.code if exc.error is not None else None


@pytest.fixture
def store(sandbox_server: SandboxServer) -> Store:
    assert sandbox_server.sandbox is not None
    return sandbox_server.sandbox.store


@pytest.fixture
def admin_http(connection: dict[str, Any]) -> Iterator[httpx.Client]:
    """Plain HTTPS with the admin's ARM token, for what the SDK cannot express."""
    token = credential(connection, connection["admin"]["client_id"],
                       connection["admin"]["client_secret"]).get_token(ARM_SCOPE).token
    ctx = ssl.create_default_context(cafile=connection["ca_bundle"])
    with httpx.Client(base_url=connection["resource_manager"], verify=ctx,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


# -- role definitions ----------------------------------------------------------------------------


def test_role_definitions_by_name_type_and_id(connection: dict[str, Any]) -> None:
    client = auth_client(connection)
    # The SDK sends quotes as %27; ARM matches role names case-insensitively.
    found = list(client.role_definitions.list(f"/subscriptions/{SUB_PROD}", filter="roleName eq 'acrpull'"))
    assert [d.role_name for d in found] == ["AcrPull"]
    assert found[0].id == role_id(ACR_PULL)
    # Below a subscription the ids are still in the subscription's form.
    at_registry = list(client.role_definitions.list(REGISTRY, filter="roleName eq 'Reader'"))
    assert [d.id for d in at_registry] == [role_id(READER)]
    builtins = list(client.role_definitions.list(f"/subscriptions/{SUB_PROD}",
                                                 filter="type eq 'BuiltInRole'"))
    assert len(builtins) >= 20 and all(d.role_type == "BuiltInRole" for d in builtins)
    # Both id forms can be fetched; the answer keeps the form asked for.
    assert client.role_definitions.get_by_id(role_id(ACR_PULL)).role_name == "AcrPull"
    tenant_form = f"/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"
    assert client.role_definitions.get_by_id(tenant_form).id == tenant_form
    missing = error_of(lambda: client.role_definitions.get_by_id(role_id(str(uuid.uuid4()))))
    assert missing.status_code == 404 and code(missing) == "RoleDefinitionDoesNotExist"


def test_role_definitions_at_tenant_scope_have_tenant_ids(admin_http: httpx.Client) -> None:
    r = admin_http.get(f"/providers/Microsoft.Authorization/roleDefinitions?{API}"
                       "&$filter=roleName eq 'AcrPush'")
    assert r.status_code == 200, r.text
    [doc] = r.json()["value"]
    assert doc["id"] == f"/providers/Microsoft.Authorization/roleDefinitions/{doc['name']}"


def test_custom_role_lifecycle(connection: dict[str, Any], store: Store) -> None:
    client = auth_client(connection)
    guid, name = str(uuid.uuid4()), f"Test Pull Only {uuid.uuid4().hex[:6]}"
    sub_scope = f"/subscriptions/{SUB_PROD}"
    body = RoleDefinition(
        role_name=name, description="pull, nothing else", role_type="CustomRole",
        permissions=[Permission(actions=["Microsoft.ContainerRegistry/registries/pull/read"])],
        assignable_scopes=[sub_scope],
    )
    created = client.role_definitions.create_or_update(sub_scope, guid, body)
    assert created.id == role_id(guid) and created.role_type == "CustomRole"
    # Names are unique in the tenant, case-insensitively, whatever the guid.
    clash = RoleDefinition(role_name=name.upper(), permissions=[Permission(actions=[])],
                           assignable_scopes=[sub_scope])
    dup = error_of(lambda: client.role_definitions.create_or_update(sub_scope, str(uuid.uuid4()), clash))
    assert dup.status_code == 409 and code(dup) == "RoleDefinitionWithSameNameExists"
    customs = list(client.role_definitions.list(sub_scope, filter="type eq 'CustomRole'"))
    assert guid in {d.name for d in customs}
    # A role in use cannot go; once its assignment is gone it can.
    _, sp, _ = new_principal(store, "custom")
    ra = client.role_assignments.create(REGISTRY, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=role_id(guid), principal_id=sp["id"], principal_type="ServicePrincipal"))
    in_use = error_of(lambda: client.role_definitions.delete(sub_scope, guid))
    assert in_use.status_code == 409
    client.role_assignments.delete_by_id(ra.id)
    deleted = client.role_definitions.delete(sub_scope, guid)
    assert deleted is not None and deleted.name == guid
    gone = error_of(lambda: client.role_definitions.get(sub_scope, guid))
    assert code(gone) == "RoleDefinitionDoesNotExist"


# -- role assignments ----------------------------------------------------------------------------


def test_role_assignment_lifecycle(connection: dict[str, Any], store: Store) -> None:
    client = auth_client(connection)
    _, sp, _ = new_principal(store, "lifecycle")
    name = str(uuid.uuid4())
    created = client.role_assignments.create(REGISTRY, name, RoleAssignmentCreateParameters(
        role_definition_id=role_id(ACR_PULL), principal_id=sp["id"], principal_type="ServicePrincipal",
        description="CI pull"))
    assert created.id == f"{REGISTRY}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert created.role_definition_id == role_id(ACR_PULL)
    assert created.scope == REGISTRY and created.principal_type == "ServicePrincipal"
    assert client.role_assignments.get(REGISTRY, name).description == "CI pull"
    assert client.role_assignments.get_by_id(created.id).principal_id == sp["id"]
    listed = list(client.role_assignments.list_for_scope(REGISTRY, filter=f"assignedTo('{sp['id']}')"))
    assert [a.name for a in listed] == [name]
    deleted = client.role_assignments.delete(REGISTRY, name)
    assert deleted is not None and deleted.name == name
    # ARM answers 204 for what is already gone, which the SDK turns into None.
    assert client.role_assignments.delete(REGISTRY, name) is None
    missing = error_of(lambda: client.role_assignments.get(REGISTRY, name))
    assert missing.status_code == 404 and code(missing) == "RoleAssignmentNotFound"


def test_filters_at_scope_assigned_to_and_principal_id(
    connection: dict[str, Any], store: Store, admin_http: httpx.Client
) -> None:
    client = auth_client(connection)
    _, sp, _ = new_principal(store, "filters")
    outer = new_group(store, f"test-outer-{uuid.uuid4().hex[:6]}")
    inner = new_group(store, f"test-inner-{uuid.uuid4().hex[:6]}")
    add_member(store, inner["id"], sp["id"])
    add_member(store, outer["id"], inner["id"])
    at_sub = assign(store, f"/subscriptions/{SUB_PROD}", READER, sp["id"], "ServicePrincipal")
    at_rg = assign(store, RG, ACR_PULL, outer["id"], "Group")  # reached through two groups
    at_registry = assign(store, REGISTRY, ACR_PULL, sp["id"], "ServicePrincipal")
    mine = {at_sub["name"], at_rg["name"], at_registry["name"]}

    def names(scope: str, flt: str | None) -> set[str]:
        return {a.name for a in client.role_assignments.list_for_scope(scope, filter=flt)} & mine

    # atScope(): the scope and above, never below.
    assert names(RG, "atScope()") == {at_sub["name"], at_rg["name"]}
    # No filter: above and below.
    assert names(RG, None) == mine
    # assignedTo() is transitive through nested groups.
    assert names(REGISTRY, f"atScope() and assignedTo('{sp['id']}')") == mine
    assert names(f"/subscriptions/{SUB_PROD}", f"assignedTo('{sp['id']}')") == mine
    # principalId eq is the principal's own only, with quotes sent raw or encoded.
    for quoted in (f"'{sp['id']}'", quote(f"'{sp['id']}'")):
        r = admin_http.get(f"{RG}/providers/Microsoft.Authorization/roleAssignments?{API}"
                           f"&$filter=principalId eq {quoted}")
        assert r.status_code == 200, r.text
        assert {a["name"] for a in r.json()["value"]} == {at_sub["name"], at_registry["name"]}
    # ARM refuses atScope() with principalId eq.
    bad = error_of(lambda: list(client.role_assignments.list_for_scope(
        RG, filter=f"atScope() and principalId eq '{sp['id']}'")))
    assert bad.status_code == 400 and "is not supported" in str(bad)


def test_create_errors(connection: dict[str, Any], store: Store, admin_http: httpx.Client) -> None:
    client = auth_client(connection, retry_total=0)
    app, sp, _ = new_principal(store, "errors")

    def create(name: str | None = None, scope: str = REGISTRY, **props: Any) -> Any:
        # The model's principal_type defaults to "User", which ARM refuses for a service principal.
        params = {"role_definition_id": role_id(ACR_PULL), "principal_id": sp["id"],
                  "principal_type": "ServicePrincipal", **props}
        return client.role_assignments.create(scope, name or str(uuid.uuid4()),
                                              RoleAssignmentCreateParameters(**params))

    first = create()
    dup = error_of(create)
    assert dup.status_code == 409 and code(dup) == "RoleAssignmentExists"
    assert first.name.replace("-", "") in dup.message  # ARM names the existing one, without dashes

    for principal in (str(uuid.uuid4()), app["id"]):  # unknown, and an application's object id
        e = error_of(lambda p=principal: create(principal_id=p))
        assert e.status_code == 400 and code(e) == "PrincipalNotFound"
    e = error_of(lambda: create(role_definition_id=role_id(str(uuid.uuid4()))))
    assert e.status_code == 400 and code(e) == "RoleDefinitionDoesNotExist"
    e = error_of(lambda: create(name="not-a-guid"))
    assert e.status_code == 400 and code(e) == "InvalidRoleAssignmentId"
    e = error_of(lambda: create(principal_type="User"))
    assert e.status_code == 400 and code(e) == "UnmatchedPrincipalType"

    condition = ("((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR "
                 "(@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWith "
                 "'team-a/'))")
    e = error_of(lambda: create(role_definition_id=role_id(CATALOG_LISTER), condition=condition,
                                condition_version="2.0"))
    assert e.status_code == 400 and code(e) == "InvalidCondition"
    e = error_of(lambda: create(role_definition_id=role_id(REPO_READER), condition=condition,
                                condition_version="1.0"))
    assert e.status_code == 400 and code(e) == "InvalidConditionVersion"
    ok = create(role_definition_id=role_id(REPO_READER), condition=condition, condition_version="2.0")
    assert ok.condition == condition and ok.condition_version == "2.0"

    sub = f"/subscriptions/{SUB_PROD}"
    for scope, expected in (
        (f"/subscriptions/{uuid.uuid4()}", "SubscriptionNotFound"),
        (f"{sub}/resourceGroups/rg-nope-{uuid.uuid4().hex[:6]}", "ResourceGroupNotFound"),
        (f"{RG}/providers/Microsoft.ContainerRegistry/registries/no{uuid.uuid4().hex[:6]}",
         "ResourceNotFound"),
    ):
        e = error_of(lambda s=scope: create(scope=s))
        assert e.status_code == 404 and code(e) == expected, scope
    for name in (first.name, ok.name):
        client.role_assignments.delete(REGISTRY, name)


def test_replication_delay_gives_principal_not_found(fresh_sandbox: SandboxServer) -> None:
    assert fresh_sandbox.sandbox is not None and fresh_sandbox.connection is not None
    client = auth_client(fresh_sandbox.connection, retry_total=0)
    fresh_sandbox.settings.replication_delay_s = 60
    _, sp, _ = new_principal(fresh_sandbox.sandbox.store, "young")
    params = RoleAssignmentCreateParameters(role_definition_id=role_id(ACR_PULL), principal_id=sp["id"],
                                            principal_type="ServicePrincipal")
    e = error_of(lambda: client.role_assignments.create(REGISTRY, str(uuid.uuid4()), params))
    assert e.status_code == 400 and code(e) == "PrincipalNotFound"
    fresh_sandbox.settings.replication_delay_s = 0  # replicated now
    assert client.role_assignments.create(REGISTRY, str(uuid.uuid4()), params).principal_id == sp["id"]


def test_callers_need_authorization_permissions(connection: dict[str, Any], store: Store) -> None:
    pull_app, pull_sp, pull_secret = new_principal(store, "pull-only")
    assign(store, REGISTRY, ACR_PULL, pull_sp["id"], "ServicePrincipal")
    reader_app, reader_sp, reader_secret = new_principal(store, "reader")
    # Through a group, so the caller's own assignments are evaluated with its groups.
    readers = new_group(store, f"test-readers-{uuid.uuid4().hex[:6]}")
    add_member(store, readers["id"], reader_sp["id"])
    assign(store, RG, READER, readers["id"], "Group")

    as_puller = auth_client(connection, credential(connection, pull_app["appId"], pull_secret), retry_total=0)
    e = error_of(lambda: list(as_puller.role_assignments.list_for_scope(REGISTRY, filter="atScope()")))
    assert e.status_code == 403 and code(e) == "AuthorizationFailed"
    assert "Microsoft.Authorization/roleAssignments/read" in e.message and REGISTRY in e.message

    as_reader = auth_client(connection, credential(connection, reader_app["appId"], reader_secret),
                            retry_total=0)
    assert list(as_reader.role_assignments.list_for_scope(REGISTRY, filter="atScope()"))
    params = RoleAssignmentCreateParameters(role_definition_id=role_id(ACR_PULL),
                                            principal_id=reader_sp["id"])
    e = error_of(lambda: as_reader.role_assignments.create(REGISTRY, str(uuid.uuid4()), params))
    assert e.status_code == 403 and "Microsoft.Authorization/roleAssignments/write" in e.message
    theirs = next(iter(as_reader.role_assignments.list_for_scope(
        REGISTRY, filter=f"assignedTo('{pull_sp['id']}')")))
    e = error_of(lambda: as_reader.role_assignments.delete_by_id(theirs.id))
    assert e.status_code == 403 and "Microsoft.Authorization/roleAssignments/delete" in e.message
    # Outside the group's resource group the reader sees nothing.
    other_rg = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-payments-prod"
    e = error_of(lambda: list(as_reader.role_assignments.list_for_scope(other_rg)))
    assert e.status_code == 403


def test_paging_follows_next_link(fresh_sandbox: SandboxServer) -> None:
    assert fresh_sandbox.sandbox is not None and fresh_sandbox.connection is not None
    conn, store = fresh_sandbox.connection, fresh_sandbox.sandbox.store
    fresh_sandbox.settings.page_size = 3
    _, sp, _ = new_principal(store, "paging")
    made = {assign(store, REGISTRY, ACR_PULL, sp["id"], "ServicePrincipal", name=str(uuid.uuid4()))["name"]}
    for scope in (RG, f"/subscriptions/{SUB_PROD}"):
        for role in (READER, REPO_READER, CATALOG_LISTER):
            made.add(assign(store, scope, role, sp["id"], "ServicePrincipal")["name"])
    client = auth_client(conn)
    mine = f"assignedTo('{sp['id']}')"
    pages = list(client.role_assignments.list_for_scope(REGISTRY, filter=mine).by_page())
    assert [len(list(p)) for p in pages] == [3, 3, 1]
    assert {a.name for a in client.role_assignments.list_for_scope(
        REGISTRY, filter=f"assignedTo('{sp['id']}')")} == made
    definitions = list(client.role_definitions.list(f"/subscriptions/{SUB_PROD}").by_page())
    assert len(definitions) > 2
    # Role assignments continue with ARM's $skipToken spelling; both spellings are accepted back.
    admin = credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"])
    token = admin.get_token(ARM_SCOPE).token
    ctx = ssl.create_default_context(cafile=conn["ca_bundle"])
    with httpx.Client(base_url=conn["resource_manager"], verify=ctx,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        url = f"{REGISTRY}/providers/Microsoft.Authorization/roleAssignments?{API}&$filter={mine}"
        first = http.get(url).json()
        token = first["nextLink"].split("$skipToken=", 1)[1].split("&")[0]
        again = http.get(f"{url}&$skiptoken={token}").json()
        followed = http.get(first["nextLink"]).json()
        assert [a["name"] for a in again["value"]] == [a["name"] for a in followed["value"]]


# -- custom roles of a management group ----------------------------------------------------------

mg_sandbox = sandbox_fixture("sandbox-mg-roles", seed="empty",
                             doc="An empty tenant whose admin is also Owner of the tenant root group.")
OWNER = builtin_by_name("Owner").guid  # type: ignore[union-attr]
ACR_PUSH_ACTIONS = ["Microsoft.ContainerRegistry/registries/pull/read",
                    "Microsoft.ContainerRegistry/registries/push/write"]


def test_custom_roles_of_a_management_group(mg_sandbox: SandboxServer) -> None:
    """A custom role whose assignable scope is a management group is created, listed and read at
    that group and at the subscriptions below it, and not as a tenant-level role: MicrosoftDocs/
    azure-docs articles/role-based-access-control/custom-roles-rest.md ("List a custom role definition
    by ID": GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}, {scope} among them
    `providers/Microsoft.Management/managementGroups/{groupId1}`; create at "the first
    assignableScopes"), and Role Definitions - Get By Id (`/providers/Microsoft.Authorization/
    roleDefinitions/{id}` "for tenant level role definitions"). An assignment at the group carries
    the tenant form of the role's id, as assignments above subscriptions do."""
    conn = mg_sandbox.connection
    assert conn is not None and mg_sandbox.sandbox is not None
    store = mg_sandbox.sandbox.store
    mg = f"/providers/Microsoft.Management/managementGroups/{conn['tenant_id']}"
    admin_sp = store.by_app_id(conn["admin"]["client_id"], "servicePrincipal")
    assert admin_sp is not None
    assign(store, mg, OWNER, admin_sp["id"], "ServicePrincipal")  # the tenant's set-up: an MG owner
    token = credential(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"]).get_token(ARM_SCOPE).token
    sub = conn["subscriptions"][0]
    guid, name = str(uuid.uuid4()), f"Test MG Pusher {uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=conn["resource_manager"], verify=ssl.create_default_context(cafile=conn["ca_bundle"]),
                      headers={"Authorization": f"Bearer {token}"}) as http:
        created = http.put(f"{mg}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}", json={
            "properties": {"roleName": name, "type": "CustomRole", "assignableScopes": [mg],
                           "permissions": [{"actions": ACR_PUSH_ACTIONS}]}})
        assert created.status_code == 201, created.text
        for scope in (mg, f"/subscriptions/{sub}"):
            got = http.get(f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}")
            assert got.status_code == 200 and got.json()["properties"]["roleName"] == name, (scope, got.text)
            listed = http.get(f"{scope}/providers/Microsoft.Authorization/roleDefinitions?{API}"
                              "&$filter=type eq 'CustomRole'").json()["value"]
            assert guid in {d["name"] for d in listed}
        tenant_form = http.get(f"/providers/Microsoft.Authorization/roleDefinitions/{guid}?{API}")
        assert tenant_form.status_code == 404
        assert tenant_form.json()["error"]["code"] == "RoleDefinitionDoesNotExist"
        _, sp, _ = new_principal(store, "mg-role")
        ra = http.put(f"{mg}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?{API}", json={
            "properties": {"roleDefinitionId": f"{mg}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                           "principalId": sp["id"], "principalType": "ServicePrincipal"}})
        assert ra.status_code == 201, ra.text
        tenant_id = f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        assert ra.json()["properties"]["roleDefinitionId"] == tenant_id
        # Seen from a subscription below the group, the assignment is inherited.
        at_sub = http.get(f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?{API}"
                          "&$filter=atScope()").json()["value"]
        assert ra.json()["id"] in {a["id"] for a in at_sub}


def test_a_subscriptions_unfiltered_list_pages_through_at_above_and_below(fresh_sandbox: SandboxServer) -> None:
    """List For Scope without `$filter` at a subscription: the assignments at, above and below it
    (learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest), each once across
    the pages, in one stable order, whatever other subscriptions hold."""
    assert fresh_sandbox.sandbox is not None and fresh_sandbox.connection is not None
    store = fresh_sandbox.sandbox.store
    fresh_sandbox.settings.page_size = 7
    _, sp, _ = new_principal(store, "tenant-wide")
    assign(store, "/", READER, sp["id"], "ServicePrincipal")  # above: the tenant root
    sub = f"/subscriptions/{SUB_PROD}"
    listed = [a.name for a in auth_client(fresh_sandbox.connection).role_assignments.list_for_scope(sub)]
    expected = [r["name"] for r in store.rows(
        "SELECT name FROM role_assignments WHERE scope_lower = '/' OR scope_lower = ? OR scope_lower LIKE ?"
        " OR scope_lower LIKE '/providers/microsoft.management/managementgroups/%' ORDER BY seq",
        (sub.lower(), sub.lower() + "/%"))]
    assert len(expected) > 7 * 2 and listed == expected
