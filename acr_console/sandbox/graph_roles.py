"""Microsoft Entra roles through Graph (`roleManagement/directory`), users, and who may add a
credential to an application or service principal.

Sources:
- Role definitions and their template ids:
  learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference (Application
  Administrator 9b895d92-…, Cloud Application Administrator 158c047a-…, Global Administrator
  62e90394-…, Privileged Role Administrator e8611ab8-…); for built-in roles `id` equals
  `templateId` (learn.microsoft.com/graph/api/resources/unifiedroledefinition).
- Role assignments: learn.microsoft.com/graph/api/rbacapplication-list-roleassignments (`$filter` on
  principalId, roleDefinitionId; `$expand=principal`; the example ids and `resourceScope`),
  learn.microsoft.com/graph/api/rbacapplication-post-roleassignments (`directoryScopeId` "/" for the
  tenant, "/{application object id}" for one app registration, "/administrativeUnits/{id}").
- Groups as principals: only groups created with `isAssignableToRole: true`
  (learn.microsoft.com/entra/identity/role-based-access-control/groups-concept: "Only groups that have the
  isAssignableToRole property set to true at creation time can be assigned a role").
- Who may add a credential: application-addpassword ("In delegated scenarios … the signed-in user must
  be assigned a supported Microsoft Entra role … Application Administrator, Cloud Application
  Administrator", and owners of the application: permissions-reference, "Application owners");
  Application.ReadWrite.OwnedBy "allows the calling app to … manage … apps that it owns"
  (graph/permissions-reference). Refusals are 403 `Authorization_RequestDenied`, "Insufficient
  privileges to complete the operation."
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

from . import graph_owners
from .device_flow import tenant_domain
from .errors import ApiError
from .graph_core import (
    GUID,
    GraphRequest,
    GraphResponse,
    body_object,
    list_objects,
    load,
    no_content,
    not_found,
    ok,
    paged,
    require,
    single,
)
from .graph_odata import bad_request, context_url, render
from .store import Store

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
# The roles that may add credentials to any application or service principal (at tenant scope) or to
# the one they are scoped to.
CREDENTIAL_ROLES = frozenset({GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR})
# (templateId, displayName, description, allowedResourceActions). The actions are the ones of the
# permissions reference that concern applications and role management, not each role's full list.
# Role assignments: both Global Administrator and Privileged Role Administrator hold
# `microsoft.directory/roleAssignments/allProperties/allTasks` ("Create and delete role assignments, and
# read and update all role assignment properties"): MicrosoftDocs/entra-docs,
# docs/identity/role-based-access-control/includes/privileged-role-administrator.md and
# includes/global-administrator.md (the permissions reference's per-role tables); the same action names
# the custom-role way to POST roleManagement/directory/roleAssignments
# (learn.microsoft.com/graph/api/rbacapplication-post-roleassignments).
ROLE_DEFINITIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (APPLICATION_ADMINISTRATOR, "Application Administrator",
     "Can create and manage all aspects of app registrations and enterprise apps.",
     ("microsoft.directory/applications/create", "microsoft.directory/applications/credentials/update",
      "microsoft.directory/applications/owners/update", "microsoft.directory/servicePrincipals/credentials/update",
      "microsoft.directory/servicePrincipals/owners/update",
      "microsoft.directory/applications/synchronization/standard/read")),
    (CLOUD_APPLICATION_ADMINISTRATOR, "Cloud Application Administrator",
     "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
     ("microsoft.directory/applications/create", "microsoft.directory/applications/credentials/update",
      "microsoft.directory/applications/owners/update", "microsoft.directory/servicePrincipals/credentials/update",
      "microsoft.directory/servicePrincipals/owners/update")),
    (GLOBAL_ADMINISTRATOR, "Global Administrator",
     "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
     ("microsoft.directory/applications/allProperties/allTasks",
      "microsoft.directory/roleAssignments/allProperties/allTasks",
      "microsoft.directory/servicePrincipals/allProperties/allTasks",
      "microsoft.directory/users/allProperties/allTasks")),
    (PRIVILEGED_ROLE_ADMINISTRATOR, "Privileged Role Administrator",
     "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
     ("microsoft.directory/roleAssignments/allProperties/allTasks",
      "microsoft.directory/roleDefinitions/allProperties/allTasks",
      "microsoft.directory/servicePrincipals/appRoleAssignedTo/update")),
)
_DEFINITIONS = {d[0]: d for d in ROLE_DEFINITIONS}
READ_ROLES = frozenset({"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All",
                        "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"})
WRITE_ROLES = frozenset({"RoleManagement.ReadWrite.Directory"})
READ_USERS = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
WRITE_USERS = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_AU_SCOPE = re.compile(r"^/administrativeUnits/([0-9a-fA-F-]{36})$")


def denied() -> ApiError:
    return ApiError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def definition_doc(template_id: str) -> dict[str, Any]:
    tid, name, description, actions = _DEFINITIONS[template_id]
    return {"id": tid, "description": description, "displayName": name, "isBuiltIn": True, "isEnabled": True,
            "resourceScopes": ["/"], "templateId": tid, "version": "1",
            "rolePermissions": [{"allowedResourceActions": list(actions), "condition": None}]}


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(value).bytes_le).decode().rstrip("=")


def assignment_id(role_id: str, principal_id: str, scope: str) -> str:
    """Graph's shape for a tenant-wide assignment: base64url of the role's and the principal's ids,
    then "-1" (the list page's "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1"); scoped ones differ by
    a suffix derived from the scope."""
    base = _b64(role_id) + _b64(principal_id)
    if scope == "/":
        return base + "-1"
    return base + "-" + _b64(str(uuid.uuid5(uuid.UUID(principal_id), scope.lower())))[:8] + "-1"


def assignment_doc(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "principalId": row["principal_id"], "directoryScopeId": row["directory_scope_id"],
            "resourceScope": row["directory_scope_id"], "roleDefinitionId": row["role_definition_id"],
            "appScopeId": None, "condition": None}


def assign_role(store: Store, role_id: str, principal_id: str, scope: str = "/") -> str:
    """Store an Entra role assignment (seeds and the POST handler); returns its id."""
    aid = assignment_id(role_id, principal_id, scope)
    store.execute("INSERT OR REPLACE INTO directory_role_assignments(id, principal_id, role_definition_id, "
                  "directory_scope_id) VALUES (?,?,?,?)", (aid, principal_id, role_id, scope))
    return aid


def _role_rows(store: Store, principal_ids: list[str]) -> list[Any]:
    if not principal_ids:
        return []
    marks = ",".join("?" * len(principal_ids))
    return store.rows(f"SELECT * FROM directory_role_assignments WHERE principal_id IN ({marks})", principal_ids)


def _principals_of(store: Store, object_id: str) -> list[str]:
    """The object itself and the role-assignable groups it belongs to (such groups cannot contain
    groups, so direct membership is the whole story; other groups never hold Entra roles)."""
    groups = [r["group_id"] for r in store.rows("SELECT group_id FROM group_members WHERE member_id = ?",
                                                (object_id,))]
    assignable = [g for g in groups if (store.object(g, "group") or {}).get("isAssignableToRole")]
    return [object_id, *assignable]


def holds_tenant_role(store: Store, object_id: str, roles: set[str]) -> bool:
    return any(r["role_definition_id"] in roles and r["directory_scope_id"] == "/"
               for r in _role_rows(store, _principals_of(store, object_id)))


def may_write_credentials(store: Store, caller: Any, target: dict[str, Any]) -> bool:
    """Whether the caller may add or remove a credential on `target` (an application or a service
    principal): its owner; a holder of Application Administrator, Cloud Application Administrator or
    Global Administrator at tenant scope or scoped to that object; an application with
    Application.ReadWrite.All (or Directory.ReadWrite.All), or Application.ReadWrite.OwnedBy on an
    object it owns. A person's token must carry a delegated permission that reaches applications."""
    roles = set(caller.roles)
    if caller.kind == "app" and roles & {"Application.ReadWrite.All", "Directory.ReadWrite.All"}:
        return True
    if caller.kind == "user" and not roles & {"Application.ReadWrite.All", "Directory.AccessAsUser.All",
                                             "Directory.ReadWrite.All"}:
        return False
    owner = caller.object_id in graph_owners.owner_ids(store, target["id"])
    if caller.kind == "app" and "Application.ReadWrite.OwnedBy" in roles and owner:
        return True
    if caller.kind == "user" and owner:
        return True
    scopes = {"/", f"/{target['id']}"}
    return any(r["role_definition_id"] in CREDENTIAL_ROLES and r["directory_scope_id"] in scopes
               for r in _role_rows(store, _principals_of(store, caller.object_id)))


def require_credential_writer(req: GraphRequest, target: dict[str, Any]) -> None:
    if not may_write_credentials(req.sb.store, req.caller, target):
        raise denied()


def _may_manage_roles(req: GraphRequest) -> None:
    if req.caller.kind == "app":
        require(req, WRITE_ROLES)
    elif not holds_tenant_role(req.sb.store, req.caller.object_id,
                               {GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR}):
        raise denied()


def _filters(req: GraphRequest, allowed: dict[str, str]) -> list[tuple[str, str]]:
    """`prop eq 'value'` joined by `and`, on the properties Graph documents as filterable here."""
    raw = req.query.get("$filter")
    if not raw:
        return []
    out: list[tuple[str, str]] = []
    for part in re.split(r"\s+and\s+", raw.strip(), flags=re.IGNORECASE):
        m = _EQ.match(part)
        if m is None or m.group(1) not in allowed:
            raise ApiError(400, "Request_UnsupportedQuery", f"Unsupported query: '{raw}'.")
        out.append((allowed[m.group(1)], m.group(2)))
    return out


# -- role definitions ------------------------------------------------------------------------------


async def list_role_definitions(req: GraphRequest) -> GraphResponse:
    require(req, READ_ROLES)
    docs = [definition_doc(t) for t in _DEFINITIONS]
    for prop, value in _filters(req, {"displayName": "displayName", "templateId": "templateId", "id": "id",
                                      "isBuiltIn": "isBuiltIn"}):
        docs = [d for d in docs if str(d[prop]).lower() == value.lower()]
    return ok({"@odata.context": context_url(req.sb.graph_base, "roleManagement/directory/roleDefinitions",
                                             req.version), "value": docs})


async def get_role_definition(req: GraphRequest) -> GraphResponse:
    require(req, READ_ROLES)
    rid = req.params["id"].lower()
    if rid not in _DEFINITIONS:
        raise not_found(req.params["id"])
    return ok({"@odata.context": context_url(req.sb.graph_base, "roleManagement/directory/roleDefinitions/$entity",
                                             req.version), **definition_doc(rid)})


# -- role assignments ------------------------------------------------------------------------------


def _expand(req: GraphRequest, doc: dict[str, Any]) -> dict[str, Any]:
    expand = req.query.get("$expand")
    if not expand:
        return doc
    store = req.sb.store
    out = dict(doc)
    for name in (e.strip() for e in expand.split(",")):
        if name == "principal":
            otype = store.object_type(doc["principalId"])
            obj = store.object(doc["principalId"])
            out["principal"] = render(obj, otype, with_type=True) if obj is not None and otype else None
        elif name == "roleDefinition":
            rid = doc["roleDefinitionId"]
            out["roleDefinition"] = definition_doc(rid) if rid in _DEFINITIONS else None
        else:
            raise bad_request(f"Could not find a property named '{name}' on type "
                              "'microsoft.graph.unifiedRoleAssignment'.")
    return out


async def list_role_assignments(req: GraphRequest) -> GraphResponse:
    require(req, READ_ROLES)
    columns = {"principalId": "principal_id", "roleDefinitionId": "role_definition_id",
               "directoryScopeId": "directory_scope_id", "id": "id"}
    where = _filters(req, columns)
    sql = "SELECT * FROM directory_role_assignments"
    params: list[str] = []
    if where:
        sql += " WHERE " + " AND ".join(f"{col} = ? COLLATE NOCASE" for col, _ in where)
        params = [v for _, v in where]
    docs = [_expand(req, assignment_doc(r)) for r in req.sb.store.rows(sql + " ORDER BY rowid", params)]
    fragment = "roleManagement/directory/roleAssignments"
    if req.query.get("$expand"):
        fragment += "(" + ",".join(f"{e.strip()}()" for e in req.query["$expand"].split(",")) + ")"
    return paged(req, docs, fragment)


def _assignment_row(req: GraphRequest) -> Any:
    row = req.sb.store.row("SELECT * FROM directory_role_assignments WHERE id = ?", (req.params["id"],))
    if row is None:
        raise not_found(req.params["id"])
    return row


async def get_role_assignment(req: GraphRequest) -> GraphResponse:
    require(req, READ_ROLES)
    doc = _expand(req, assignment_doc(_assignment_row(req)))
    return ok({"@odata.context": context_url(req.sb.graph_base, "roleManagement/directory/roleAssignments/$entity",
                                             req.version), **doc})


async def delete_role_assignment(req: GraphRequest) -> GraphResponse:
    _may_manage_roles(req)
    row = _assignment_row(req)
    req.sb.store.execute("DELETE FROM directory_role_assignments WHERE id = ?", (row["id"],))
    return no_content()


def _check_scope(store: Store, scope: str) -> str:
    if scope == "/":
        return scope
    if _AU_SCOPE.match(scope):
        # The sandbox holds no administrative units, so every such scope names a missing one. None
        # could hold an application anyway: an administrative unit's members are users, groups and
        # devices (MicrosoftDocs/entra-docs docs/identity/role-based-access-control/admin-units-members-add.md,
        # "Add users, groups, or devices to an administrative unit"), so a role scoped to one never
        # reaches an application's credentials.
        raise ApiError(404, "Request_ResourceNotFound", f"Resource '{scope.rsplit('/', 1)[-1]}' does not exist or "
                       "one of its queried reference-property objects are not present.")
    oid = scope[1:].lower()
    if not GUID.match(oid) or store.object_type(oid) not in ("application", "servicePrincipal"):
        raise bad_request(f"Invalid value specified for property 'directoryScopeId' of resource "
                          f"'UnifiedRoleAssignment': '{scope}'.")
    return "/" + oid


async def post_role_assignment(req: GraphRequest) -> GraphResponse:
    _may_manage_roles(req)
    store = req.sb.store
    body = body_object(req)
    role_id = body.get("roleDefinitionId")
    principal_id = body.get("principalId")
    scope = body.get("directoryScopeId", "/") if "appScopeId" not in body else body.get("directoryScopeId")
    for name, value in (("roleDefinitionId", role_id), ("principalId", principal_id)):
        if not isinstance(value, str) or not GUID.match(value):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'UnifiedRoleAssignment'.")
    if not isinstance(scope, str) or not scope.startswith("/"):
        raise bad_request("Invalid value specified for property 'directoryScopeId' of resource "
                          "'UnifiedRoleAssignment'.")
    assert isinstance(role_id, str) and isinstance(principal_id, str)
    role_id, principal_id = role_id.lower(), principal_id.lower()
    if role_id not in _DEFINITIONS:
        raise ApiError(404, "Request_ResourceNotFound", f"Resource '{role_id}' does not exist or one of its "
                       "queried reference-property objects are not present.")
    ptype = store.object_type(principal_id)
    if ptype not in ("user", "servicePrincipal", "group"):
        raise ApiError(404, "Request_ResourceNotFound", f"Resource '{principal_id}' does not exist or one of its "
                       "queried reference-property objects are not present.")
    if ptype == "group" and not (store.object(principal_id, "group") or {}).get("isAssignableToRole"):
        raise bad_request("The group is not role-assignable: only groups created with isAssignableToRole set to "
                          "true can be assigned Microsoft Entra roles.")
    scope = _check_scope(store, scope)
    with store.transaction():
        aid = assignment_id(role_id, principal_id, scope)
        if store.row("SELECT 1 FROM directory_role_assignments WHERE id = ?", (aid,)) is not None:
            raise ApiError(409, "Conflict", "A conflicting object with one or more of the specified property values "
                           "is present in the directory.")
        assign_role(store, role_id, principal_id, scope)
    row = store.row("SELECT * FROM directory_role_assignments WHERE id = ?", (aid,))
    return ok({"@odata.context": context_url(req.sb.graph_base, "roleManagement/directory/roleAssignments/$entity",
                                             req.version), **assignment_doc(row)}, status=201)


# -- users ---------------------------------------------------------------------------------------------


async def list_users(req: GraphRequest) -> GraphResponse:
    require(req, READ_USERS) if req.caller.kind == "app" else None
    return list_objects(req, ("user",), "users")


async def get_user(req: GraphRequest) -> GraphResponse:
    require(req, READ_USERS) if req.caller.kind == "app" else None
    key = req.params["id"]
    if "@" in key:
        from .device_flow import user_by_upn

        doc = user_by_upn(store=req.sb.store, upn=key)
        if doc is None:
            raise not_found(key)
    else:
        doc = load(req, key, "user")
    return single(req, doc, "user")


async def create_user(req: GraphRequest) -> GraphResponse:
    """POST /users (learn.microsoft.com/graph/api/user-post-users): accountEnabled, displayName,
    mailNickname, userPrincipalName and passwordProfile are required. The password is not kept: the
    sandbox's people sign in only through the device-code flow."""
    import time

    if req.caller.kind == "app":
        require(req, WRITE_USERS)
    elif not holds_tenant_role(req.sb.store, req.caller.object_id, {GLOBAL_ADMINISTRATOR}):
        raise denied()
    body = body_object(req)
    for name in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"):
        if body.get(name) is None:
            raise bad_request(f"Property '{name}' is required when creating the object.")
    upn = str(body["userPrincipalName"])
    domain = upn.rpartition("@")[2].lower()
    if domain != tenant_domain(req.sb.store).lower():
        raise bad_request("The domain portion of the userPrincipalName property is invalid. You must use one of the "
                          "verified domain names in your organization.")
    store = req.sb.store
    with store.transaction():
        from .device_flow import user_by_upn

        if user_by_upn(store, upn) is not None:
            raise bad_request("Another object with the same value for property userPrincipalName already exists.")
        doc = {"id": str(uuid.uuid4()), "displayName": str(body["displayName"]), "userPrincipalName": upn,
               "mail": body.get("mail"), "accountEnabled": bool(body["accountEnabled"]), "userType": "Member",
               "givenName": body.get("givenName"), "surname": body.get("surname")}
        store.put_object(doc, "user", time.time())
    resp = single(req, doc, "user")
    resp.status = 201
    return resp


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("GET", "roleManagement/directory/roleDefinitions", list_role_definitions),
        ("GET", "roleManagement/directory/roleDefinitions/{id}", get_role_definition),
        ("GET", "roleManagement/directory/roleAssignments", list_role_assignments),
        ("POST", "roleManagement/directory/roleAssignments", post_role_assignment),
        ("GET", "roleManagement/directory/roleAssignments/{id}", get_role_assignment),
        ("DELETE", "roleManagement/directory/roleAssignments/{id}", delete_role_assignment),
        ("GET", "users", list_users),
        ("POST", "users", create_user),
        ("GET", "users/{id}", get_user),
    ]
