"""Microsoft Graph's own service principal and the app role assignments made to it: the Graph
application permissions a service principal holds, which its client-credentials token carries in
its `roles` claim.

Sources: servicePrincipal `appRoleAssignments` and `appRoleAssignedTo`
(learn.microsoft.com/graph/api/serviceprincipal-post-approleassignments,
learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto, and the list pages), the
appRoleAssignment resource (learn.microsoft.com/graph/api/resources/approleassignment) and the
permission ids of learn.microsoft.com/graph/permissions-reference ("All permissions and IDs"). The
ids are the same in every tenant; Microsoft Graph's appId is 00000003-0000-0000-c000-000000000000.

The permissions themselves stay in `directory_grants` (what the token endpoint reads); an assignment
to Graph's service principal adds a row there and its id and time to `app_role_assignments`.
Assignments to any other resource live in `app_role_assignments` only.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError
from .graph_core import (
    GUID,
    READ_APPS,
    GraphRequest,
    GraphResponse,
    body_object,
    load,
    no_content,
    ok,
    paged,
    require,
)
from .graph_odata import bad_request, context_url
from .store import Store

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft's own tenant, where Graph's application lives (its servicePrincipal's appOwnerOrganizationId).
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
# (id, value, displayName) of Graph's application permissions the sandbox checks or the takeover
# analysis names; ids from learn.microsoft.com/graph/permissions-reference.
GRAPH_APP_ROLES: tuple[tuple[str, str, str], ...] = (
    ("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
    ("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"),
    ("18a4783c-866b-4cc7-a460-3d5e5662c884", "Application.ReadWrite.OwnedBy",
     "Manage apps that this app creates or owns"),
    ("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All",
     "Manage app permission grants and app role assignments"),
    ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
    ("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
    ("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
    ("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
    ("bf7b1a76-6e77-406b-b258-bf5c7720e98f", "Group.Create", "Create groups"),
    ("98830695-27a2-44f7-8c18-0c3ebc9698f6", "GroupMember.Read.All", "Read all group memberships"),
    ("dbaae8cf-10b5-4b86-a4a1-f871c94c6695", "GroupMember.ReadWrite.All", "Read and write all group memberships"),
    ("483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "RoleManagement.Read.Directory",
     "Read all directory RBAC settings"),
    ("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory",
     "Read and write all directory RBAC settings"),
    ("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
    ("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"),
)
ROLE_ID_OF = {value: rid for rid, value, _ in GRAPH_APP_ROLES}
VALUE_OF = {rid: value for rid, value, _ in GRAPH_APP_ROLES}
# Who may grant app role assignments (the pages above: AppRoleAssignment.ReadWrite.All, or the broader
# Directory.ReadWrite.All).
WRITE_ASSIGNMENTS = frozenset({"AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All"})


def graph_sp_id(store: Store) -> str:
    """The object id of Graph's service principal in this tenant (per tenant, so derived from it)."""
    return str(uuid.uuid5(uuid.UUID(store.tenant_id), "microsoft-graph-service-principal"))


def graph_service_principal_doc(store: Store) -> dict[str, Any]:
    return {
        "id": graph_sp_id(store), "appId": GRAPH_APP_ID, "displayName": "Microsoft Graph",
        "appDisplayName": "Microsoft Graph", "appOwnerOrganizationId": MICROSOFT_TENANT,
        "accountEnabled": True, "servicePrincipalType": "Application",
        "servicePrincipalNames": ["https://graph.microsoft.com", GRAPH_APP_ID, "https://graph.microsoft.com/",
                                  "https://canary.graph.microsoft.com"],
        "appRoles": [{"allowedMemberTypes": ["Application"], "description": f"Allows the app to {text.lower()}.",
                      "displayName": text, "id": rid, "isEnabled": True, "origin": "Application", "value": value}
                     for rid, value, text in GRAPH_APP_ROLES],
        "passwordCredentials": [], "keyCredentials": [], "tags": [],
    }


def ensure_graph_service_principal(store: Store) -> dict[str, Any]:
    """Graph's service principal, made on first use so `large:N` seeds keep their exact counts."""
    doc = store.object(graph_sp_id(store), "servicePrincipal")
    if doc is None:
        doc = graph_service_principal_doc(store)
        store.put_object(doc, "servicePrincipal", time.time())
    return doc


def assignment_id(principal_id: str, resource_id: str, app_role_id: str) -> str:
    """An appRoleAssignment id in Graph's shape: 43 base64url characters, the first 22 of which encode
    the principal's object id (the resource's example id "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE")."""
    rest = str(uuid.uuid5(uuid.UUID(resource_id), app_role_id.lower()))
    raw = uuid.UUID(principal_id).bytes_le + uuid.UUID(rest).bytes_le
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _doc(store: Store, principal_id: str, resource_id: str, app_role_id: str, created: str) -> dict[str, Any]:
    principal = store.object(principal_id) or {}
    ptype = store.object_type(principal_id) or "servicePrincipal"
    resource = store.object(resource_id) or {}
    return {
        "id": assignment_id(principal_id, resource_id, app_role_id), "deletedDateTime": None,
        "appRoleId": app_role_id, "createdDateTime": created,
        "principalDisplayName": principal.get("displayName"), "principalId": principal_id,
        "principalType": {"servicePrincipal": "ServicePrincipal", "user": "User", "group": "Group"}.get(ptype, ptype),
        "resourceDisplayName": resource.get("displayName"), "resourceId": resource_id,
    }


def assignments(store: Store, *, principal_id: str | None = None, resource_id: str | None = None
                ) -> list[dict[str, Any]]:
    """appRoleAssignment documents by principal or by resource, oldest first."""
    graph = graph_sp_id(store)
    out: list[dict[str, Any]] = []
    if resource_id in (None, graph):
        sql = "SELECT principal_id, permission FROM directory_grants"
        params: list[str] = []
        if principal_id is not None:
            sql += " WHERE principal_id = ?"
            params.append(principal_id)
        for row in store.rows(sql, params):
            rid = ROLE_ID_OF.get(row["permission"])
            if rid is None:
                continue
            pid = row["principal_id"]
            kept = store.row("SELECT created FROM app_role_assignments WHERE id = ?", (assignment_id(pid, graph, rid),))
            created = kept["created"] if kept else _iso(store.object_created(pid) or 0.0)
            out.append(_doc(store, pid, graph, rid, created))
    sql = "SELECT principal_id, resource_id, app_role_id, created FROM app_role_assignments WHERE resource_id != ?"
    params = [graph]
    if principal_id is not None:
        sql += " AND principal_id = ?"
        params.append(principal_id)
    if resource_id is not None:
        sql += " AND resource_id = ?"
        params.append(resource_id)
    out += [_doc(store, r["principal_id"], r["resource_id"], r["app_role_id"], r["created"])
            for r in store.rows(sql, params)]
    return sorted(out, key=lambda d: d["createdDateTime"])


def _can_assign(req: GraphRequest) -> None:
    """Application: AppRoleAssignment.ReadWrite.All (or Directory.ReadWrite.All). A person: a Global
    Administrator or Privileged Role Administrator at tenant scope (Graph's consent rules: granting
    application permissions for Microsoft Graph needs one of these roles)."""
    from . import graph_roles

    if req.caller.kind == "app":
        require(req, WRITE_ASSIGNMENTS)
        return
    if not graph_roles.holds_tenant_role(req.sb.store, req.caller.object_id,
                                         {graph_roles.GLOBAL_ADMINISTRATOR, graph_roles.PRIVILEGED_ROLE_ADMINISTRATOR}):
        raise graph_roles.denied()


def _list(req: GraphRequest, docs: list[dict[str, Any]], fragment: str) -> GraphResponse:
    return paged(req, docs, fragment)


async def list_app_role_assignments(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    ensure_graph_service_principal(req.sb.store)
    sp = load(req, req.params["id"], "servicePrincipal")
    return _list(req, assignments(req.sb.store, principal_id=sp["id"]),
                 f"servicePrincipals('{sp['id']}')/appRoleAssignments")


async def list_app_role_assigned_to(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    ensure_graph_service_principal(req.sb.store)
    sp = load(req, req.params["id"], "servicePrincipal")
    return _list(req, assignments(req.sb.store, resource_id=sp["id"]),
                 f"servicePrincipals('{sp['id']}')/appRoleAssignedTo")


def _create(req: GraphRequest, *, path_is: str) -> GraphResponse:
    store = req.sb.store
    _can_assign(req)
    ensure_graph_service_principal(store)
    body = body_object(req)
    ids: dict[str, str] = {}
    for name in ("principalId", "resourceId", "appRoleId"):
        value = body.get(name)
        if not isinstance(value, str) or not GUID.match(value):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'AppRoleAssignment'.")
        ids[name] = value.lower()
    owner = load(req, req.params["id"], "servicePrincipal")
    if ids[path_is] != owner["id"]:
        # The service principal in the URL must be the assignment's principal (appRoleAssignments) or
        # its resource (appRoleAssignedTo).
        raise bad_request(f"The {path_is} in the request body must be the service principal in the URL.")
    ptype = store.object_type(ids["principalId"])
    if ptype not in ("servicePrincipal", "user", "group"):
        raise ApiError(404, "Request_ResourceNotFound",
                       f"Resource '{ids['principalId']}' does not exist or one of its queried reference-property "
                       "objects are not present.")
    resource = store.object(ids["resourceId"], "servicePrincipal")
    if resource is None:
        raise ApiError(404, "Request_ResourceNotFound",
                       f"Resource '{ids['resourceId']}' does not exist or one of its queried reference-property "
                       "objects are not present.")
    role = next((r for r in resource.get("appRoles") or [] if str(r.get("id", "")).lower() == ids["appRoleId"]), None)
    if role is None:
        raise bad_request(f"Permission being assigned was not found on application '{resource.get('appId')}'.")
    wanted = {"servicePrincipal": "Application", "user": "User", "group": "User"}[ptype]
    if wanted not in (role.get("allowedMemberTypes") or []):
        raise bad_request("Permission being assigned is not allowed for the principal's type.")
    aid = assignment_id(ids["principalId"], ids["resourceId"], ids["appRoleId"])
    graph = resource["id"] == graph_sp_id(store)
    with store.transaction():
        exists = (store.row("SELECT 1 FROM directory_grants WHERE principal_id = ? AND permission = ?",
                            (ids["principalId"], role["value"])) if graph
                  else store.row("SELECT 1 FROM app_role_assignments WHERE id = ?", (aid,)))
        if exists is not None:
            raise bad_request("Permission being assigned already exists on the object")
        created = _iso(time.time())
        store.execute("INSERT OR REPLACE INTO app_role_assignments(id, principal_id, resource_id, app_role_id, created)"
                      " VALUES (?,?,?,?,?)", (aid, ids["principalId"], ids["resourceId"], ids["appRoleId"], created))
        if graph:
            store.execute("INSERT OR REPLACE INTO directory_grants(principal_id, permission) VALUES (?,?)",
                          (ids["principalId"], role["value"]))
    doc = _doc(store, ids["principalId"], ids["resourceId"], ids["appRoleId"], created)
    which = "appRoleAssignments" if path_is == "principalId" else "appRoleAssignedTo"
    body_out = {"@odata.context": context_url(req.sb.graph_base,
                                              f"servicePrincipals('{owner['id']}')/{which}/$entity", req.version),
                **doc}
    return ok(body_out, status=201)


async def post_app_role_assignment(req: GraphRequest) -> GraphResponse:
    return _create(req, path_is="principalId")


async def post_app_role_assigned_to(req: GraphRequest) -> GraphResponse:
    return _create(req, path_is="resourceId")


def _delete(req: GraphRequest, *, by: str) -> GraphResponse:
    store = req.sb.store
    _can_assign(req)
    sp = load(req, req.params["id"], "servicePrincipal")
    wanted = req.params["assignment"]
    found = next((d for d in assignments(store, **{by: sp["id"]}) if d["id"] == wanted), None)
    if found is None:
        raise ApiError(404, "Request_ResourceNotFound",
                       f"Resource '{wanted}' does not exist or one of its queried reference-property objects are "
                       "not present.")
    with store.transaction():
        store.execute("DELETE FROM app_role_assignments WHERE id = ?", (wanted,))
        if found["resourceId"] == graph_sp_id(store):
            store.execute("DELETE FROM directory_grants WHERE principal_id = ? AND permission = ?",
                          (found["principalId"], VALUE_OF.get(found["appRoleId"], "")))
    return no_content()


async def delete_app_role_assignment(req: GraphRequest) -> GraphResponse:
    return _delete(req, by="principal_id")


async def delete_app_role_assigned_to(req: GraphRequest) -> GraphResponse:
    return _delete(req, by="resource_id")


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("GET", "servicePrincipals/{id}/appRoleAssignments", list_app_role_assignments),
        ("POST", "servicePrincipals/{id}/appRoleAssignments", post_app_role_assignment),
        ("DELETE", "servicePrincipals/{id}/appRoleAssignments/{assignment}", delete_app_role_assignment),
        ("GET", "servicePrincipals/{id}/appRoleAssignedTo", list_app_role_assigned_to),
        ("POST", "servicePrincipals/{id}/appRoleAssignedTo", post_app_role_assigned_to),
        ("DELETE", "servicePrincipals/{id}/appRoleAssignedTo/{assignment}", delete_app_role_assigned_to),
    ]

