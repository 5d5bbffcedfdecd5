"""What takeover paths are made of, served as Microsoft Graph v1.0 serves them: owners, Microsoft
Entra roles and their assignments, Graph's own service principal with its app roles and the
assignments of them, federated identity credentials, users. Each test names its source.

The clients are plain httpx over the sandbox's HTTPS (Graph's REST contract is what is tested) and,
where a model must parse what the sandbox sends, the unmodified msgraph-sdk.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from acr_console.sandbox.seed import stable_id
from acr_console.sandbox.server import SandboxServer
from tests.sandbox.graph_support import graph_client
from tests.support.sandbox import sandbox_fixture

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# learn.microsoft.com/graph/permissions-reference, "All permissions and IDs" (application permissions).
GRAPH_ROLE_IDS = {
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
}
# learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference (template ids).
ENTRA_ROLE_IDS = {
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
}
AZURE_CLI_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GITHUB = "https://token.actions.githubusercontent.com"

takeover_sandbox = sandbox_fixture("takeover-graph")


class Graph:
    """Graph v1.0 over HTTPS with one bearer token."""

    def __init__(self, conn: dict[str, Any], token: str) -> None:
        self.conn = conn
        self.base = f"{conn['microsoft_graph']}/v1.0"
        self.http = httpx.Client(verify=ssl.create_default_context(cafile=conn["ca_bundle"]), trust_env=False,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(f"{self.base}/{path}", params=params)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(f"{self.base}/{path}", json=body)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(f"{self.base}/{path}")

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def ref(self, object_id: str) -> dict[str, str]:
        return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def tls(conn: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=conn["ca_bundle"]), trust_env=False, timeout=60)


def app_token(conn: dict[str, Any], client_id: str, secret: str, scope: str = GRAPH_SCOPE) -> str:
    """Client credentials, as azure-identity sends them."""
    with tls(conn) as h:
        r = h.post(f"{conn['authority_host']}/{conn['tenant_id']}/oauth2/v2.0/token",
                   data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                         "scope": scope})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def user_token(server: SandboxServer, upn: str, scope: str = GRAPH_SCOPE) -> str:
    """A person's token through the device-code flow, the code approved as `upn` by
    `acr-console sandbox approve --user` run as a process (what a person does at the verification page)."""
    conn = server.connection
    assert conn is not None
    endpoint = f"{conn['authority_host']}/{conn['tenant_id']}/oauth2/v2.0"
    with tls(conn) as h:
        started = h.post(f"{endpoint}/devicecode", data={"client_id": AZURE_CLI_CLIENT, "scope": scope}).json()
        done = subprocess.run([sys.executable, "-m", "acr_console", "sandbox", "approve", "--data",
                               str(server.data_dir), started["user_code"], "--user", upn],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        r = h.post(f"{endpoint}/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                              "client_id": AZURE_CLI_CLIENT, "device_code": started["device_code"]})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def admin(conn: dict[str, Any]) -> Graph:
    return Graph(conn, app_token(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"]))


def new_app(g: Graph, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    app = g.ok(g.post("applications", {"displayName": f"test-{label}-{uuid.uuid4().hex[:6]}"}), 201)
    sp = g.ok(g.post("servicePrincipals", {"appId": app["appId"]}), 201)
    return app, sp


def new_user(g: Graph, nick: str) -> dict[str, Any]:
    domain = g.conn.get("tenant_domain") or "contoso.onmicrosoft.com"
    nick = f"{nick}-{uuid.uuid4().hex[:6]}"
    return dict(g.ok(g.post("users", {"accountEnabled": True, "displayName": nick, "mailNickname": nick,
                                      "userPrincipalName": f"{nick}@{domain}",
                                      "passwordProfile": {"password": uuid.uuid4().hex + "Aa1!"}}), 201))


def graph_sp(g: Graph) -> dict[str, Any]:
    found = g.ok(g.get("servicePrincipals", **{"$filter": f"appId eq '{GRAPH_APP_ID}'"}))["value"]
    assert len(found) == 1
    return dict(found[0])


def grant(g: Graph, sp_id: str, permission: str, resource: str | None = None) -> dict[str, Any]:
    resource = resource or graph_sp(g)["id"]
    return dict(g.ok(g.post(f"servicePrincipals/{sp_id}/appRoleAssignments",
                            {"principalId": sp_id, "resourceId": resource,
                             "appRoleId": GRAPH_ROLE_IDS[permission]}), 201))


@pytest.fixture
def conn(takeover_sandbox: SandboxServer) -> dict[str, Any]:
    assert takeover_sandbox.connection is not None
    return takeover_sandbox.connection


@pytest.fixture
def g(conn: dict[str, Any]) -> Iterator[Graph]:
    graph = admin(conn)
    yield graph
    graph.http.close()


# -- owners -----------------------------------------------------------------------------------------


def test_owners_of_an_application_and_a_service_principal_are_users_or_service_principals(g: Graph) -> None:
    """learn.microsoft.com/graph/api/application-post-owners: "Application owners can be individual users,
    the associated service principal, or another service principal"; body `{"@odata.id":
    "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`, 204 No Content. application-list-owners:
    a directoryObject collection, each item with its `@odata.type` ("#microsoft.graph.user").
    application-delete-owners: `DELETE /applications/{id}/owners/{id}/$ref`, 204. The same three on
    servicePrincipals (serviceprincipal-post-owners, -list-owners, -delete-owners)."""
    app, sp = new_app(g, "owned")
    user = new_user(g, "owner")
    _, other = new_app(g, "owner-sp")
    for collection, target in (("applications", app), ("servicePrincipals", sp)):
        assert g.ok(g.get(f"{collection}/{target['id']}/owners"))["value"] == []
        for owner in (user, other):
            assert g.post(f"{collection}/{target['id']}/owners/$ref", g.ref(owner["id"])).status_code == 204
        listed = g.ok(g.get(f"{collection}/{target['id']}/owners"))
        assert listed["@odata.context"].endswith("/v1.0/$metadata#directoryObjects")
        assert [(o["@odata.type"], o["id"]) for o in listed["value"]] == [
            ("#microsoft.graph.user", user["id"]), ("#microsoft.graph.servicePrincipal", other["id"])]
        assert listed["value"][0]["userPrincipalName"] == user["userPrincipalName"]
        # Adding twice is Graph's reference error; a group is no owner; an unknown id is 404.
        again = g.post(f"{collection}/{target['id']}/owners/$ref", g.ref(user["id"]))
        assert again.status_code == 400 and "already exist" in again.json()["error"]["message"]
        assert g.post(f"{collection}/{target['id']}/owners/$ref", g.ref(str(uuid.uuid4()))).status_code == 404
        assert g.delete(f"{collection}/{target['id']}/owners/{user['id']}/$ref").status_code == 204
        gone = g.delete(f"{collection}/{target['id']}/owners/{user['id']}/$ref")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"
        assert [o["id"] for o in g.ok(g.get(f"{collection}/{target['id']}/owners"))["value"]] == [other["id"]]


async def test_msgraph_sdk_reads_owners_as_typed_objects(conn: dict[str, Any]) -> None:
    """The unmodified msgraph-sdk maps each owner to its model by `@odata.type` (a directoryObject
    collection, application-list-owners): the demo's developer owns github-actions-payments' app."""
    from msgraph.generated.models.service_principal import ServicePrincipal
    from msgraph.generated.models.user import User

    async with graph_client(conn) as client:
        owners = await client.applications.by_application_id(
            stable_id("contoso", "app", "github-actions-payments")).owners.get()
        web = await client.applications.by_application_id(
            stable_id("contoso", "app", "github-actions-web")).owners.get()
    assert owners is not None and web is not None
    assert [(type(o), o.display_name) for o in owners.value or []] == [(User, "Dana Whitfield")]
    assert [(type(o), o.display_name) for o in web.value or []] == [(ServicePrincipal, "terraform-platform-prod")]


# -- Entra roles ----------------------------------------------------------------------------------


def test_role_definitions_are_the_built_ins_with_their_template_ids(g: Graph) -> None:
    """learn.microsoft.com/graph/api/rbacapplication-list-roledefinitions and unifiedRoleDefinition: for a
    built-in role `id` = `templateId`, `isBuiltIn` true; ids from the Entra permissions reference."""
    listed = g.ok(g.get("roleManagement/directory/roleDefinitions"))
    by_name = {d["displayName"]: d for d in listed["value"]}
    for name, rid in ENTRA_ROLE_IDS.items():
        assert by_name[name]["id"] == by_name[name]["templateId"] == rid and by_name[name]["isBuiltIn"] is True
    one = g.ok(g.get(f"roleManagement/directory/roleDefinitions/{ENTRA_ROLE_IDS['Application Administrator']}"))
    assert "microsoft.directory/applications/credentials/update" in one["rolePermissions"][0]["allowedResourceActions"]
    only = g.ok(g.get("roleManagement/directory/roleDefinitions",
                      **{"$filter": "displayName eq 'Global Administrator'"}))["value"]
    assert [d["id"] for d in only] == [ENTRA_ROLE_IDS["Global Administrator"]]


def test_role_assignments_with_scopes_filters_and_expand(g: Graph) -> None:
    """learn.microsoft.com/graph/api/rbacapplication-post-roleassignments: body `roleDefinitionId`,
    `principalId`, `directoryScopeId` ("/" the tenant, "/{application object id}" one app registration),
    201 with the unifiedRoleAssignment. rbacapplication-list-roleassignments: `$filter` on principalId or
    roleDefinitionId, `$expand=principal` (the principal with its `@odata.type`), ids shaped like
    "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1"."""
    app, _ = new_app(g, "scoped")
    user = new_user(g, "appadmin")
    body = {"@odata.type": "#microsoft.graph.unifiedRoleAssignment",
            "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"], "principalId": user["id"],
            "directoryScopeId": f"/{app['id']}"}
    made = g.ok(g.post("roleManagement/directory/roleAssignments", body), 201)
    assert made["@odata.context"].endswith("$metadata#roleManagement/directory/roleAssignments/$entity")
    assert {k: made[k] for k in ("principalId", "roleDefinitionId", "directoryScopeId")} == {
        "principalId": user["id"], "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"],
        "directoryScopeId": f"/{app['id']}"}
    assert made["id"].endswith("-1")
    # The same assignment again conflicts.
    assert g.post("roleManagement/directory/roleAssignments", body).status_code == 409
    mine = g.ok(g.get("roleManagement/directory/roleAssignments",
                      **{"$filter": f"principalId eq '{user['id']}'", "$expand": "principal"}))
    assert mine["@odata.context"].endswith("roleManagement/directory/roleAssignments(principal())")
    assert [(a["id"], a["principal"]["@odata.type"], a["principal"]["id"]) for a in mine["value"]] == [
        (made["id"], "#microsoft.graph.user", user["id"])]
    admins = g.ok(g.get("roleManagement/directory/roleAssignments", **{
        "$filter": f"roleDefinitionId eq '{ENTRA_ROLE_IDS['Application Administrator']}'"}))["value"]
    demo_admin = stable_id("contoso", "user", "erin.oduya")
    assert {(a["principalId"], a["directoryScopeId"]) for a in admins} >= {(demo_admin, "/"),
                                                                            (user["id"], f"/{app['id']}")}
    assert g.ok(g.get(f"roleManagement/directory/roleAssignments/{made['id']}"))["id"] == made["id"]
    assert g.delete(f"roleManagement/directory/roleAssignments/{made['id']}").status_code == 204
    assert g.get(f"roleManagement/directory/roleAssignments/{made['id']}").status_code == 404


def test_role_assignment_refusals(g: Graph) -> None:
    """Only role-assignable groups take Entra roles (learn.microsoft.com/entra/identity/role-based-access-control/
    groups-concept: "Only groups that have the isAssignableToRole property set to true at creation time
    can be assigned a role"; "A group can't be added as a member of a role-assignable group"); an
    unknown role or principal is 404; a scope that is no app or service
    principal is 400; a missing administrative unit is 404."""
    plain = g.ok(g.post("groups", {"displayName": "plain", "mailEnabled": False, "mailNickname": "plain",
                                   "securityEnabled": True}), 201)
    assignable = g.ok(g.post("groups", {"displayName": "assignable", "mailEnabled": False,
                                        "mailNickname": "assignable", "securityEnabled": True,
                                        "isAssignableToRole": True}), 201)
    role = ENTRA_ROLE_IDS["Cloud Application Administrator"]

    def assign(principal: str, scope: str = "/", role_id: str = role) -> httpx.Response:
        return g.post("roleManagement/directory/roleAssignments",
                      {"roleDefinitionId": role_id, "principalId": principal, "directoryScopeId": scope})

    nested = g.post(f"groups/{assignable['id']}/members/$ref", g.ref(plain["id"]))
    assert nested.status_code == 400 and "role-assignable" in nested.json()["error"]["message"]
    refused = assign(plain["id"])
    assert refused.status_code == 400 and "role-assignable" in refused.json()["error"]["message"]
    assert assign(assignable["id"]).status_code == 201
    assert assign(str(uuid.uuid4())).status_code == 404
    assert assign(assignable["id"], role_id=str(uuid.uuid4())).status_code == 404
    assert assign(assignable["id"], scope=f"/{plain['id']}").status_code == 400
    assert assign(assignable["id"], scope=f"/administrativeUnits/{uuid.uuid4()}").status_code == 404


def test_role_management_needs_its_permission(conn: dict[str, Any], g: Graph) -> None:
    """rbacapplication-post-roleassignments: application permission RoleManagement.ReadWrite.Directory;
    a principal without it gets 403 Authorization_RequestDenied."""
    app, sp = new_app(g, "no-rights")
    secret = g.ok(g.post(f"applications/{app['id']}/addPassword", {"passwordCredential": {}}))["secretText"]
    weak = Graph(conn, app_token(conn, app["appId"], secret))
    r = weak.post("roleManagement/directory/roleAssignments",
                  {"roleDefinitionId": ENTRA_ROLE_IDS["Global Administrator"], "principalId": sp["id"],
                   "directoryScopeId": "/"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert weak.get("roleManagement/directory/roleAssignments").status_code == 403


# -- Graph's service principal and app role assignments ----------------------------------------------


def test_graph_service_principal_has_its_app_roles_with_their_real_ids(g: Graph) -> None:
    """Microsoft Graph's service principal (appId 00000003-0000-0000-c000-000000000000) lists its
    application permissions in `appRoles` (servicePrincipal resource; ids from graph/permissions-reference)."""
    sp = graph_sp(g)
    assert sp["displayName"] == "Microsoft Graph"
    roles = {r["value"]: r for r in sp["appRoles"]}
    for value, rid in GRAPH_ROLE_IDS.items():
        assert roles[value]["id"] == rid and roles[value]["allowedMemberTypes"] == ["Application"]


def test_app_role_assignments_grant_the_roles_claim(conn: dict[str, Any], g: Graph) -> None:
    """serviceprincipal-post-approleassignments: body principalId, resourceId, appRoleId; 201 with the
    appRoleAssignment (id, appRoleId, createdDateTime, principalDisplayName, principalId, principalType,
    resourceDisplayName, resourceId). serviceprincipal-list-approleassignedto lists them on the resource.
    A client-credentials token then carries the permission in `roles` (learn.microsoft.com/entra/
    identity-platform/access-token-claims-reference: "roles … the permissions … granted to the application").
    An app role the resource lacks is 400 "Permission being assigned was not found on application";
    a second identical assignment is 400."""
    app, sp = new_app(g, "granted")
    made = grant(g, sp["id"], "Application.ReadWrite.All")
    graph = graph_sp(g)
    assert {k: made[k] for k in ("principalId", "resourceId", "appRoleId", "principalType",
                                 "resourceDisplayName")} == {
        "principalId": sp["id"], "resourceId": graph["id"], "appRoleId": GRAPH_ROLE_IDS["Application.ReadWrite.All"],
        "principalType": "ServicePrincipal", "resourceDisplayName": "Microsoft Graph"}
    assert len(made["id"]) == 43  # base64url, as the appRoleAssignment resource's example id
    again = g.post(f"servicePrincipals/{sp['id']}/appRoleAssignments",
                   {"principalId": sp["id"], "resourceId": graph["id"],
                    "appRoleId": GRAPH_ROLE_IDS["Application.ReadWrite.All"]})
    assert again.status_code == 400
    unknown = g.post(f"servicePrincipals/{sp['id']}/appRoleAssignments",
                     {"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": str(uuid.uuid4())})
    assert unknown.status_code == 400
    assert "Permission being assigned was not found on application" in unknown.json()["error"]["message"]
    # Through appRoleAssignedTo on Graph's service principal, the other side of the same assignment.
    second = g.ok(g.post(f"servicePrincipals/{graph['id']}/appRoleAssignedTo",
                         {"principalId": sp["id"], "resourceId": graph["id"],
                          "appRoleId": GRAPH_ROLE_IDS["RoleManagement.ReadWrite.Directory"]}), 201)
    mine = g.ok(g.get(f"servicePrincipals/{sp['id']}/appRoleAssignments"))["value"]
    assert {a["id"] for a in mine} == {made["id"], second["id"]}
    to_graph = g.ok(g.get(f"servicePrincipals/{graph['id']}/appRoleAssignedTo"))["value"]
    assert {made["id"], second["id"]} <= {a["id"] for a in to_graph}
    # The demo's and the admin's grants are there too, as assignments of Graph's app roles.
    monitor = stable_id("contoso", "sp", "app-inventory-monitor")
    assert (monitor, GRAPH_ROLE_IDS["Application.ReadWrite.All"]) in {(a["principalId"], a["appRoleId"])
                                                                       for a in to_graph}
    secret = g.ok(g.post(f"applications/{app['id']}/addPassword", {"passwordCredential": {}}))["secretText"]
    roles = jwt.decode(app_token(conn, app["appId"], secret), options={"verify_signature": False})["roles"]
    assert sorted(roles) == ["Application.ReadWrite.All", "RoleManagement.ReadWrite.Directory"]
    assert g.delete(f"servicePrincipals/{sp['id']}/appRoleAssignments/{second['id']}").status_code == 204
    roles = jwt.decode(app_token(conn, app["appId"], secret), options={"verify_signature": False})["roles"]
    assert roles == ["Application.ReadWrite.All"]


def test_granting_app_roles_needs_app_role_assignment_rights(conn: dict[str, Any], g: Graph) -> None:
    """serviceprincipal-post-approleassignments: application permission AppRoleAssignment.ReadWrite.All;
    without it 403 Authorization_RequestDenied. With it a principal can grant itself anything (the
    "two steps" of issue 17)."""
    app, sp = new_app(g, "granter")
    secret = g.ok(g.post(f"applications/{app['id']}/addPassword", {"passwordCredential": {}}))["secretText"]
    body = {"principalId": sp["id"], "resourceId": graph_sp(g)["id"],
            "appRoleId": GRAPH_ROLE_IDS["Application.ReadWrite.All"]}
    r = Graph(conn, app_token(conn, app["appId"], secret)).post(f"servicePrincipals/{sp['id']}/appRoleAssignments",
                                                                body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    grant(g, sp["id"], "AppRoleAssignment.ReadWrite.All")
    itself = Graph(conn, app_token(conn, app["appId"], secret))
    itself.ok(itself.post(f"servicePrincipals/{sp['id']}/appRoleAssignments", body), 201)
    roles = jwt.decode(app_token(conn, app["appId"], secret), options={"verify_signature": False})["roles"]
    assert sorted(roles) == ["AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All"]


# -- federated identity credentials --------------------------------------------------------------------


def test_federated_identity_credentials_create_list_delete(g: Graph) -> None:
    """learn.microsoft.com/graph/api/application-post-federatedidentitycredentials: 201 with the object
    (name, issuer, subject, audiences, description); application-list-federatedidentitycredentials;
    federatedidentitycredential-delete 204. The resource: audiences takes a single value; issuer and
    subject at most 600 characters, their pair unique in the app; name at most 120 and unique."""
    app, _ = new_app(g, "federated")
    path = f"applications/{app['id']}/federatedIdentityCredentials"
    body = {"name": "payments-main", "issuer": GITHUB, "subject": "repo:contoso/payments:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"], "description": "main branch deploys"}
    made = g.ok(g.post(path, body), 201)
    assert made["@odata.context"].endswith(f"applications('{app['id']}')/federatedIdentityCredentials/$entity")
    assert {k: made[k] for k in body} == body and uuid.UUID(made["id"])
    listed = g.ok(g.get(path))["value"]
    assert [c["id"] for c in listed] == [made["id"]]
    assert g.ok(g.get(path, **{"$filter": "subject eq 'repo:contoso/payments:ref:refs/heads/main'"}))["value"]
    assert g.ok(g.get(f"{path}/{made['id']}"))["name"] == "payments-main"
    for wrong, status in (
        ({**body, "subject": "repo:contoso/other:ref:refs/heads/main"}, 409),  # the same name
        ({**body, "name": "other"}, 409),  # the same issuer and subject
        ({**body, "name": "two", "subject": "x", "audiences": ["a", "b"]}, 400),  # audiences: one value
        ({**body, "name": "three", "subject": "y", "audiences": []}, 400),
        ({**body, "name": "n" * 121, "subject": "z"}, 400),
        ({**body, "name": "has space", "subject": "w"}, 400),
        ({**body, "name": "long-subject", "subject": "s" * 601}, 400),
        ({k: v for k, v in body.items() if k != "issuer"} | {"name": "no-issuer"}, 400),
    ):
        r = g.post(path, wrong)
        assert r.status_code == status, (wrong, r.text)
    assert g.delete(f"{path}/{made['id']}").status_code == 204
    assert g.ok(g.get(path))["value"] == []
    assert g.delete(f"{path}/{made['id']}").status_code == 404


def test_an_application_holds_at_most_twenty_federated_credentials(g: Graph) -> None:
    """application-post-federatedidentitycredentials: "Maximum of 20 objects can be added to an
    application" (also workload-identity-federation-considerations)."""
    app, _ = new_app(g, "twenty")
    path = f"applications/{app['id']}/federatedIdentityCredentials"
    for n in range(20):
        g.ok(g.post(path, {"name": f"env-{n}", "issuer": GITHUB, "subject": f"repo:contoso/app:environment:e{n}",
                           "audiences": ["api://AzureADTokenExchange"]}), 201)
    r = g.post(path, {"name": "env-20", "issuer": GITHUB, "subject": "repo:contoso/app:environment:e20",
                      "audiences": ["api://AzureADTokenExchange"]})
    assert r.status_code == 400 and "20" in r.json()["error"]["message"]


def test_the_demo_seeds_the_takeover_stories(g: Graph) -> None:
    """The demo's issue-17 stories, readable through Graph: owners, Entra roles (tenant-wide and scoped
    to one application), Graph permissions, federated credentials of github-actions-* and of a
    Kubernetes workload."""
    payments = stable_id("contoso", "app", "github-actions-payments")
    feds = g.ok(g.get(f"applications/{payments}/federatedIdentityCredentials"))["value"]
    assert {f["subject"] for f in feds} == {"repo:contoso/payments:ref:refs/heads/main",
                                            "repo:contoso/payments:environment:production"}
    assert all(f["issuer"] == GITHUB and f["audiences"] == ["api://AzureADTokenExchange"] for f in feds)
    argo = g.ok(g.get(f"applications/{stable_id('contoso', 'app', 'argo-cd-image-updater')}/"
                      "federatedIdentityCredentials"))["value"]
    assert [f["subject"] for f in argo] == ["system:serviceaccount:argocd:argocd-image-updater"]
    scoped = g.ok(g.get("roleManagement/directory/roleAssignments", **{
        "$filter": f"principalId eq '{stable_id('contoso', 'user', 'marco.bianchi')}'"}))["value"]
    assert [(a["roleDefinitionId"], a["directoryScopeId"]) for a in scoped] == [
        (ENTRA_ROLE_IDS["Cloud Application Administrator"], f"/{stable_id('contoso', 'app', 'github-actions-search')}")]
    sync = stable_id("contoso", "sp", "entitlement-sync")
    assert [a["appRoleId"] for a in g.ok(g.get(f"servicePrincipals/{sync}/appRoleAssignments"))["value"]] == [
        GRAPH_ROLE_IDS["AppRoleAssignment.ReadWrite.All"]]
    sp_owners = g.ok(g.get(f"servicePrincipals/{stable_id('contoso', 'sp', 'github-actions-web')}/owners"))["value"]
    assert [o["displayName"] for o in sp_owners] == ["Dana Whitfield"]


def test_owners_expand_inline_at_most_twenty(g: Graph) -> None:
    """`$expand=owners` on one application or service principal: the owners inline with their
    `@odata.type`, at most 20 and no nextLink (learn.microsoft.com/graph/known-issues: `$expand` on
    directory objects "returns a maximum of 20 objects. No support for @odata.nextLink");
    `federatedIdentityCredentials` expands on an application too (a navigation of the application
    resource, learn.microsoft.com/graph/api/resources/application "Relationships"); an unknown one is 400."""
    app, sp = new_app(g, "expand")
    users = [new_user(g, f"o{n}") for n in range(21)]
    for u in users:
        assert g.post(f"applications/{app['id']}/owners/$ref", g.ref(u["id"])).status_code == 204
    expanded = g.ok(g.get(f"applications/{app['id']}", **{"$expand": "owners"}))
    assert len(expanded["owners"]) == 20 and "owners@odata.nextLink" not in expanded
    assert {o["@odata.type"] for o in expanded["owners"]} == {"#microsoft.graph.user"}
    assert len(g.ok(g.get(f"applications/{app['id']}/owners", **{"$top": "50"}))["value"]) == 21
    assert g.ok(g.get(f"servicePrincipals/{sp['id']}", **{"$expand": "owners"}))["owners"] == []
    g.ok(g.post(f"applications/{app['id']}/federatedIdentityCredentials",
                {"name": "main", "issuer": GITHUB, "subject": "repo:contoso/expand:ref:refs/heads/main",
                 "audiences": ["api://AzureADTokenExchange"]}), 201)
    both = g.ok(g.get(f"applications/{app['id']}", **{"$expand": "owners,federatedIdentityCredentials"}))
    assert len(both["owners"]) == 20
    assert [f["subject"] for f in both["federatedIdentityCredentials"]] == ["repo:contoso/expand:ref:refs/heads/main"]
    assert g.get(f"applications/{app['id']}", **{"$expand": "nonsense"}).status_code == 400


def test_assignment_lists_page_with_next_links(g: Graph) -> None:
    """Graph pages every collection (learn.microsoft.com/graph/paging: follow `@odata.nextLink` until
    it is absent; `$top` sets the page size): role assignments and app role assignments included."""
    def walk(path: str, **params: str) -> tuple[int, list[dict[str, Any]]]:
        pages, items = 0, []
        page = g.ok(g.get(path, **params))
        while True:
            pages += 1
            items += page["value"]
            if "@odata.nextLink" not in page:
                return pages, items
            page = g.ok(g.http.get(page["@odata.nextLink"]))

    everything = g.ok(g.get("roleManagement/directory/roleAssignments"))["value"]
    pages, items = walk("roleManagement/directory/roleAssignments", **{"$top": "2"})
    assert items == everything and pages == (len(everything) + 1) // 2 and len(everything) >= 3
    to_graph = g.ok(g.get(f"servicePrincipals/{graph_sp(g)['id']}/appRoleAssignedTo", **{"$top": "999"}))["value"]
    pages, items = walk(f"servicePrincipals/{graph_sp(g)['id']}/appRoleAssignedTo", **{"$top": "3"})
    assert items == to_graph and pages == (len(to_graph) + 2) // 3 and len(to_graph) >= 7
