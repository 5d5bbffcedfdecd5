"""The sandbox enforces who may add a credential, as Microsoft Graph does, and a credential so added
pushes as the principal: issue 17's acceptance, built through the sandbox's APIs (not the seed).

Rules (sources in acr_console/sandbox/graph_roles.py): `addPassword` on an application succeeds for
its owners; for holders of Application Administrator, Cloud Application Administrator or Global
Administrator at tenant scope or scoped to that application (`directoryScopeId` "/{application
object id}", learn.microsoft.com/graph/api/rbacapplication-post-roleassignments), directly or through a
role-assignable group; for an application with Application.ReadWrite.All, or with
Application.ReadWrite.OwnedBy on one it owns (learn.microsoft.com/graph/api/application-addpassword,
"Permissions"; graph/permissions-reference). Everyone else gets 403 `Authorization_RequestDenied`,
"Insufficient privileges to complete the operation." (learn.microsoft.com/graph/errors,
graph/resolve-auth-errors). A service principal's own passwords follow its own owners.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from acr_console.roles import builtin_by_name
from acr_console.sandbox.server import SandboxServer
from tests.sandbox.test_takeover_graph import (
    ENTRA_ROLE_IDS,
    Graph,
    admin,
    app_token,
    grant,
    graph_sp,
    new_app,
    new_user,
    tls,
    user_token,
)
from tests.support.sandbox import sandbox_fixture

from .graph_support import ssl_context

ARM_SCOPE = "https://management.azure.com/.default"
REGISTRY = "contosoprod"

enforcement_sandbox = sandbox_fixture("takeover-enforcement")


@pytest.fixture
def server(enforcement_sandbox: SandboxServer) -> SandboxServer:
    return enforcement_sandbox


@pytest.fixture
def conn(server: SandboxServer) -> dict[str, Any]:
    assert server.connection is not None
    return server.connection


@pytest.fixture
def g(conn: dict[str, Any]) -> Iterator[Graph]:
    graph = admin(conn)
    yield graph
    graph.http.close()


def registry(conn: dict[str, Any]) -> dict[str, Any]:
    token = app_token(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"], ARM_SCOPE)
    arm = conn["resource_manager"].rstrip("/")
    with tls(conn) as h:
        for sub in conn["subscriptions"]:
            r = h.get(f"{arm}/subscriptions/{sub}/providers/Microsoft.ContainerRegistry/registries",
                      params={"api-version": "2023-07-01"}, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            found = [x for x in r.json()["value"] if x["name"] == REGISTRY]
            if found:
                return dict(found[0])
    raise AssertionError(f"no registry {REGISTRY}")


def give_push(conn: dict[str, Any], registry_id: str, principal_id: str) -> None:
    """AcrPush on the registry through ARM's role assignments API (2022-04-01)."""
    token = app_token(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"], ARM_SCOPE)
    push = builtin_by_name("AcrPush")
    assert push is not None
    arm = conn["resource_manager"].rstrip("/")
    with tls(conn) as h:
        r = h.put(f"{arm}{registry_id}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                  params={"api-version": "2022-04-01"},
                  headers={"Authorization": f"Bearer {token}"},
                  json={"properties": {"roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/"
                                                           f"{push.guid}", "principalId": principal_id,
                                       "principalType": "ServicePrincipal"}})
    assert r.status_code == 201, r.text


def push_granted(conn: dict[str, Any], login: str, app_id: str, secret: str) -> list[str]:
    """The actions the registry's token service grants on one repository to appId:secret, as docker
    asks (GET /oauth2/token with Basic, Azure/acr docs/Token-BasicAuth.md)."""
    auth = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as h:
        r = h.get(f"{conn['registry_endpoint']}/oauth2/token",
                  params=[("service", login), ("scope", "repository:payments/api:pull,push")],
                  headers={"Authorization": f"Basic {auth}"})
    assert r.status_code == 200, r.text
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"]
    return sorted(a for entry in access for a in entry["actions"])


def add_password(graph: Graph, collection: str, object_id: str) -> httpx.Response:
    return graph.post(f"{collection}/{object_id}/addPassword", {"passwordCredential": {"displayName": "takeover"}})


def refused(r: httpx.Response) -> bool:
    return (r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
            and r.json()["error"]["message"] == "Insufficient privileges to complete the operation.")


def test_owner_scoped_app_admin_via_group_and_graph_permission_take_over_a_pusher(
        server: SandboxServer, conn: dict[str, Any], g: Graph) -> None:
    """Issue 17's acceptance: P pushes to R. U owns P's application; V is a member of the
    role-assignable group G holding Application Administrator scoped to P's application; S holds
    Application.ReadWrite.All; T holds AppRoleAssignment.ReadWrite.All and grants itself
    Application.ReadWrite.All first (two steps). Each adds a password to P's application and pushes
    as P; W, with none of these, is refused, and so is T before its second step."""
    reg = registry(conn)
    login = reg["properties"]["loginServer"]
    p_app, p_sp = new_app(g, "pusher")
    give_push(conn, reg["id"], p_sp["id"])
    u, v, w = new_user(g, "owner-u"), new_user(g, "member-v"), new_user(g, "nobody-w")
    assert g.post(f"applications/{p_app['id']}/owners/$ref", g.ref(u["id"])).status_code == 204
    group = g.ok(g.post("groups", {"displayName": "p-app-admins", "mailEnabled": False, "mailNickname": "p-app-admins",
                                   "securityEnabled": True, "isAssignableToRole": True}), 201)
    assert g.post(f"groups/{group['id']}/members/$ref", g.ref(v["id"])).status_code == 204
    g.ok(g.post("roleManagement/directory/roleAssignments", {
        "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"], "principalId": group["id"],
        "directoryScopeId": f"/{p_app['id']}"}), 201)
    s_app, s_sp = new_app(g, "graph-writer-s")
    grant(g, s_sp["id"], "Application.ReadWrite.All")
    t_app, t_sp = new_app(g, "granter-t")
    grant(g, t_sp["id"], "AppRoleAssignment.ReadWrite.All")

    def own_secret(app: dict[str, Any]) -> str:
        return str(g.ok(add_password(g, "applications", app["id"]))["secretText"])

    callers = {
        "U": Graph(conn, user_token(server, u["userPrincipalName"])),
        "V": Graph(conn, user_token(server, v["userPrincipalName"])),
        "S": Graph(conn, app_token(conn, s_app["appId"], own_secret(s_app))),
    }
    for who, graph in callers.items():
        made = add_password(graph, "applications", p_app["id"])
        assert made.status_code == 200, (who, made.text)
        assert push_granted(conn, login, p_app["appId"], made.json()["secretText"]) == ["pull", "push"], who
    w_graph = Graph(conn, user_token(server, w["userPrincipalName"]))
    assert refused(add_password(w_graph, "applications", p_app["id"]))
    # T: one step (its permission alone) is not enough; granting itself Application.ReadWrite.All is.
    t_secret = own_secret(t_app)
    t_graph = Graph(conn, app_token(conn, t_app["appId"], t_secret))
    assert refused(add_password(t_graph, "applications", p_app["id"]))
    # Graph's service principal id is the same lookup for anyone who may read applications; T only
    # needs it, not the right to list (its POST needs AppRoleAssignment.ReadWrite.All alone).
    grant(t_graph, t_sp["id"], "Application.ReadWrite.All", resource=graph_sp(g)["id"])
    t_graph = Graph(conn, app_token(conn, t_app["appId"], t_secret))
    made = add_password(t_graph, "applications", p_app["id"])
    assert made.status_code == 200, made.text
    assert push_granted(conn, login, p_app["appId"], made.json()["secretText"]) == ["pull", "push"]


def test_scopes_owned_by_and_service_principal_owners(server: SandboxServer, conn: dict[str, Any],
                                                      g: Graph) -> None:
    """A role scoped to another application grants nothing here; Application.ReadWrite.OwnedBy works
    only on applications the caller owns; the owner of an application is not an owner of its service
    principal (the SP's passwords follow the SP's owners, serviceprincipal-addpassword); a non
    role-assignable route (a plain group) never carries a role; tenant-wide Cloud Application
    Administrator reaches every application."""
    target, target_sp = new_app(g, "target")
    other, _ = new_app(g, "elsewhere")
    scoped_elsewhere = new_user(g, "scoped-elsewhere")
    g.ok(g.post("roleManagement/directory/roleAssignments", {
        "roleDefinitionId": ENTRA_ROLE_IDS["Cloud Application Administrator"], "principalId": scoped_elsewhere["id"],
        "directoryScopeId": f"/{other['id']}"}), 201)
    tenant_wide = new_user(g, "cloud-app-admin")
    g.ok(g.post("roleManagement/directory/roleAssignments", {
        "roleDefinitionId": ENTRA_ROLE_IDS["Cloud Application Administrator"], "principalId": tenant_wide["id"],
        "directoryScopeId": "/"}), 201)
    assert refused(add_password(Graph(conn, user_token(server, scoped_elsewhere["userPrincipalName"])),
                                "applications", target["id"]))
    assert add_password(Graph(conn, user_token(server, tenant_wide["userPrincipalName"])), "applications",
                        target["id"]).status_code == 200

    owned_by_app, owned_by_sp = new_app(g, "owned-by")
    grant(g, owned_by_sp["id"], "Application.ReadWrite.OwnedBy")
    secret = g.ok(add_password(g, "applications", owned_by_app["id"]))["secretText"]
    owned_by = Graph(conn, app_token(conn, owned_by_app["appId"], secret))
    assert refused(add_password(owned_by, "applications", target["id"]))
    assert g.post(f"applications/{target['id']}/owners/$ref", g.ref(owned_by_sp["id"])).status_code == 204
    assert add_password(owned_by, "applications", target["id"]).status_code == 200

    app_owner = new_user(g, "app-owner")
    assert g.post(f"applications/{target['id']}/owners/$ref", g.ref(app_owner["id"])).status_code == 204
    person = Graph(conn, user_token(server, app_owner["userPrincipalName"]))
    assert add_password(person, "applications", target["id"]).status_code == 200
    assert refused(add_password(person, "servicePrincipals", target_sp["id"]))
    assert g.post(f"servicePrincipals/{target_sp['id']}/owners/$ref", g.ref(app_owner["id"])).status_code == 204
    assert add_password(person, "servicePrincipals", target_sp["id"]).status_code == 200

    member = new_user(g, "plain-member")
    plain = g.ok(g.post("groups", {"displayName": "plain", "mailEnabled": False, "mailNickname": "plain",
                                   "securityEnabled": True}), 201)
    assert g.post(f"groups/{plain['id']}/members/$ref", g.ref(member["id"])).status_code == 204
    assert refused(add_password(Graph(conn, user_token(server, member["userPrincipalName"])), "applications",
                                target["id"]))


def test_the_sandbox_admins_keep_their_rights(server: SandboxServer, conn: dict[str, Any], g: Graph) -> None:
    """The admin principal holds Application.ReadWrite.All (and the directory rights to set the rest up:
    AppRoleAssignment.ReadWrite.All, RoleManagement.ReadWrite.Directory, User.ReadWrite.All); the
    device-code user admin@ is the tenant's Global Administrator. Both add passwords anywhere."""
    app, _ = new_app(g, "admin-target")
    roles = jwt.decode(app_token(conn, conn["admin"]["client_id"], conn["admin"]["client_secret"]),
                       options={"verify_signature": False})["roles"]
    assert {"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory",
            "User.ReadWrite.All"} <= set(roles)
    assert add_password(g, "applications", app["id"]).status_code == 200
    person = Graph(conn, user_token(server, "admin@contoso.onmicrosoft.com"))
    assert add_password(person, "applications", app["id"]).status_code == 200
    assert g.ok(g.get("roleManagement/directory/roleAssignments", **{
        "$filter": f"roleDefinitionId eq '{ENTRA_ROLE_IDS['Global Administrator']}'"}))["value"]


def test_a_certificate_is_no_way_around_it(server: SandboxServer, conn: dict[str, Any], g: Graph) -> None:
    """keyCredentials are set by `PATCH /applications/{id}` (application-update; concepts/
    applications-how-to-add-certificate) and by `addKey`: the same people may do it as may add a
    password, so a user with no rights on the application is refused both ways, and its owner is not."""
    app, _ = new_app(g, "cert-target")
    nobody, owner = new_user(g, "cert-nobody"), new_user(g, "cert-owner")
    assert g.post(f"applications/{app['id']}/owners/$ref", g.ref(owner["id"])).status_code == 204
    for who, allowed in ((nobody, False), (owner, True)):
        person = Graph(conn, user_token(server, who["userPrincipalName"]))
        r = person.http.patch(f"{person.base}/applications/{app['id']}", json={"keyCredentials": []})
        assert (r.status_code == 204) if allowed else refused(r), r.text
        r = person.post(f"applications/{app['id']}/addKey", {"keyCredential": {}, "passwordCredential": None,
                                                               "proof": "x"})
        assert (r.status_code == 400) if allowed else refused(r), r.text
