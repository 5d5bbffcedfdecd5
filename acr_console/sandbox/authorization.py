"""Microsoft.Authorization (api-version 2022-04-01 shapes): role definitions and role assignments.

Every scope form ARM accepts is served by one set of routes: `{scope}/providers/Microsoft.Authorization/…`
where the scope is the tenant root `/`, the tenant root management group, a subscription, a resource
group or a resource. `GET {id}` of a definition or an assignment is the same request, so the "by id"
operations need no routes of their own.

Error codes and messages are ARM's where they are known (learn.microsoft.com/azure/role-based-access-control/
troubleshooting); where ARM's exact code is not documented the code is a close, descriptive one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import rbac, rbac_limits
from .arm import authorization_failed, json_body, require_permission
from .context import Caller, Sandbox
from .errors import ApiError
from .paging import arm_page, arm_page_keyset, spliced_json

AUTHZ = "/providers/Microsoft.Authorization"
RA_READ = "Microsoft.Authorization/roleAssignments/read"
RA_WRITE = "Microsoft.Authorization/roleAssignments/write"
RA_DELETE = "Microsoft.Authorization/roleAssignments/delete"
RD_WRITE = "Microsoft.Authorization/roleDefinitions/write"
RD_DELETE = "Microsoft.Authorization/roleDefinitions/delete"
RA_TYPE = "Microsoft.Authorization/roleAssignments"
RD_TYPE = "Microsoft.Authorization/roleDefinitions"

# Directory object type → ARM principalType.
PRINCIPAL_TYPES = {"servicePrincipal": "ServicePrincipal", "group": "Group", "user": "User"}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MG_PREFIX = "/providers/microsoft.management/managementgroups/"


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


# -- scopes ------------------------------------------------------------------------------------


def resolve_scope(sb: Sandbox, raw: str) -> str:
    """The canonical spelling of an existing scope (names as they were created), or ARM's 404.

    Child resources of a registry (scope maps, tokens…) are not modelled; a scope below an existing
    registry is accepted as it is sent.
    """
    parts = [p for p in raw.split("/") if p]
    if not parts:
        return "/"
    low = [p.lower() for p in parts]
    store = sb.store
    if low[0] == "subscriptions" and len(parts) >= 2:
        sub = low[1]
        if store.subscription(sub) is None:
            raise ApiError(404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found.")
        if len(parts) == 2:
            return f"/subscriptions/{sub}"
        if low[2] == "resourcegroups" and len(parts) >= 4:
            group = store.resource_group(sub, parts[3])
            if group is None:
                raise ApiError(404, "ResourceGroupNotFound",
                               f"Resource group '{parts[3]}' could not be found.")
            if len(parts) == 4:
                return str(group["id"])
            if low[4] == "providers" and len(parts) >= 8 and len(parts) % 2 == 0:
                rid = "/" + "/".join(parts[:8])
                doc = store.resource(rid)
                if doc is None:
                    raise ApiError(
                        404, "ResourceNotFound",
                        f"The Resource '{parts[5]}/{parts[6]}/{parts[7]}' under resource group '{parts[3]}' "
                        "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    )
                return "/".join([doc["id"], *parts[8:]])
    if low[:3] == ["providers", "microsoft.management", "managementgroups"] and len(parts) == 4:
        # Only the tenant root group exists: its name is the tenant id.
        if low[3] != store.tenant_id.lower():
            raise ApiError(404, "ManagementGroupNotFound",
                           f"The management group '{parts[3]}' was not found.")
        return f"/providers/Microsoft.Management/managementGroups/{low[3]}"
    raise ApiError(400, "InvalidRequest", f"The scope '/{'/'.join(parts)}' is not a valid Azure scope.")


def subscription_of(scope: str) -> str | None:
    parts = [p for p in scope.split("/") if p]
    return parts[1].lower() if len(parts) >= 2 and parts[0].lower() == "subscriptions" else None


def definition_id(guid: str, scope: str) -> str:
    """ARM's form of a role definition id for a request at `scope`."""
    sub = subscription_of(scope)
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}{AUTHZ}/roleDefinitions/{guid}"


def definition_doc(doc: dict[str, Any], scope: str) -> dict[str, Any]:
    out = dict(doc)
    out["id"] = definition_id(doc["name"], scope)
    return out


# -- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentFilter:
    at_scope: bool = False
    assigned_to: str | None = None
    principal_id: str | None = None


_FILTER_TERM = re.compile(
    r"^\s*(?:(?P<atscope>atScope\(\s*\))|assignedTo\(\s*'(?P<assigned>[^']*)'\s*\)"
    r"|principalId\s+eq\s+'(?P<principal>[^']*)')\s*$",
    re.IGNORECASE,
)


def _unsupported_filter(raw: str) -> ApiError:
    # ARM's own message for a filter it does not take.
    return ApiError(
        400, "BadRequest",
        f"The filter '{raw}' is not supported. Supported filters are either 'atScope()' or "
        "'principalId eq '{value}'' or assignedTo('{value}')'.",
    )


def parse_assignment_filter(raw: str | None) -> AssignmentFilter:
    """`atScope()`, `assignedTo('id')`, `principalId eq 'id'`, and `atScope() and assignedTo('id')`.

    ARM refuses `atScope() and principalId eq`, and so does this.
    """
    if raw is None or not raw.strip():
        return AssignmentFilter()
    at_scope = False
    assigned: str | None = None
    principal: str | None = None
    for term in re.split(r"\s+and\s+", raw.strip(), flags=re.IGNORECASE):
        m = _FILTER_TERM.match(term)
        if m is None:
            raise _unsupported_filter(raw)
        if m.group("atscope"):
            if at_scope:
                raise _unsupported_filter(raw)
            at_scope = True
        elif m.group("assigned") is not None:
            if assigned is not None:
                raise _unsupported_filter(raw)
            assigned = m.group("assigned").strip().lower()
        else:
            if principal is not None:
                raise _unsupported_filter(raw)
            principal = m.group("principal").strip().lower()
    if principal is not None and (at_scope or assigned is not None):
        raise _unsupported_filter(raw)
    return AssignmentFilter(at_scope, assigned, principal)


_DEF_FILTER = re.compile(r"^\s*(?P<key>roleName|type)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$", re.IGNORECASE)


def definition_filter(raw: str | None) -> Callable[[dict[str, Any]], bool]:
    if raw is None or not raw.strip():
        return lambda doc: True
    m = _DEF_FILTER.match(raw)
    if m is None:
        raise ApiError(400, "BadRequest",
                       f"The filter '{raw}' is not supported. Supported filters are roleName eq '{{value}}' "
                       "and type eq 'BuiltInRole' or 'CustomRole'.")
    value = m.group("value").replace("''", "'").lower()
    # ARM matches both case-insensitively (the portal and CLI rely on it for role names).
    field = "roleName" if m.group("key").lower() == "rolename" else "type"
    return lambda doc: str(doc["properties"].get(field, "")).lower() == value


# -- routes --------------------------------------------------------------------------------------


def routes(sb: Sandbox) -> list[Route]:
    store = sb.store

    def scope_of(request: Request) -> str:
        return resolve_scope(sb, request.path_params.get("scope", ""))

    # role definitions ---------------------------------------------------------------------------

    def visible_definition(doc: dict[str, Any], custom: bool, scope: str) -> bool:
        """Built-ins are visible everywhere; a custom role where one of its assignable scopes is at or
        above the request scope (ARM lists definitions 'at scope and above' by default)."""
        if not custom:
            return True
        scopes = doc["properties"].get("assignableScopes")
        return isinstance(scopes, list) and any(
            rbac.scope_covers(s, scope) for s in scopes if isinstance(s, str))

    async def list_definitions(request: Request) -> Response:
        sb.authenticate(request, "arm")
        scope = scope_of(request)
        keep = definition_filter(request.query_params.get("$filter"))
        items = [
            definition_doc(doc, scope)
            for doc, custom in store.role_definitions()
            if visible_definition(doc, custom, scope) and keep(doc)
        ]
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    def definition_not_found(guid: str) -> ApiError:
        return ApiError(404, "RoleDefinitionDoesNotExist",
                        f"The specified role definition with ID '{guid}' does not exist.")

    async def get_definition(request: Request) -> Response:
        # Role definitions are readable by every principal of the tenant: they describe permissions,
        # not who holds them, and clients read them before they know what they may do.
        # A custom role is read at a scope where it is visible, as the list shows it: at or below one
        # of its assignable scopes ("List a custom role definition by ID": GET {scope}/providers/
        # Microsoft.Authorization/roleDefinitions/{id}, {scope} a subscription, resource group,
        # resource or management group; MicrosoftDocs/azure-docs articles/role-based-access-control/
        # custom-roles-rest.md). The tenant form `/providers/Microsoft.Authorization/roleDefinitions/
        # {id}` reads "tenant level role definitions" (Role Definitions - Get By Id), the built-in ones:
        # a custom role of a subscription or a management group is not found there.
        sb.authenticate(request, "arm")
        scope = scope_of(request)
        guid = request.path_params["name"].lower()
        doc = store.role_definition(guid)
        if doc is None or not visible_definition(doc, store.role_definition_is_custom(guid), scope):
            raise definition_not_found(guid)
        return JSONResponse(definition_doc(doc, scope))

    async def put_definition(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        scope = scope_of(request)
        guid = request.path_params["name"]
        if not is_guid(guid):
            raise ApiError(400, "InvalidRoleDefinitionId",
                           f"The role definition ID '{guid}' is not valid. "
                           "The role definition ID must be a GUID.")
        guid = guid.lower()
        body = await json_body(request)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The request body must have a properties object.")
        role_name = props.get("roleName")
        if not isinstance(role_name, str) or not role_name.strip():
            raise ApiError(400, "RoleDefinitionNameNullOrEmpty",
                           "The role definition name cannot be null or empty.")
        existing = store.role_definition(guid)
        if existing is not None and not store.role_definition_is_custom(guid):
            raise ApiError(400, "InvalidRequest",
                           f"The built-in role definition '{guid}' cannot be modified.")
        scopes = rbac_limits.check_definition(props)
        canonical_scopes = [resolve_scope(sb, s) for s in scopes]
        # Who may write a custom role: "Users that are granted this action on all the
        # AssignableScopes of the custom role can update custom roles in those scopes" (custom-roles.md,
        # "Who can create, delete, update, or view a custom role"). An update is checked against the
        # scopes the role has now as well as those it asks for: otherwise the Owner of one resource
        # group could rewrite a role assigned in another subscription by naming only their own group.
        targets = [scope, *(existing["properties"].get("assignableScopes", []) if existing else []),
                   *canonical_scopes]
        for s in dict.fromkeys(t.lower() for t in targets):
            original = next(t for t in targets if t.lower() == s)
            require_permission(sb, caller, original, RD_WRITE)
        same_name = store.role_definition_named(role_name)
        if same_name is not None and same_name["name"].lower() != guid:
            raise ApiError(409, "RoleDefinitionWithSameNameExists",
                           f"A custom role with the same name '{role_name}' already exists in this "
                           "directory. Use a different name.")
        if existing is None and store.count_custom_role_definitions() >= rbac_limits.MAX_CUSTOM_ROLES:
            raise ApiError(400, "RoleDefinitionLimitExceeded",
                           "Role definition limit exceeded. No more role definitions can be created.")
        permissions = rbac_limits.permissions_of(props)
        now = _now_iso()
        doc = {
            "id": f"{AUTHZ}/roleDefinitions/{guid}",
            "name": guid,
            "type": RD_TYPE,
            "properties": {
                "roleName": role_name,
                "type": "CustomRole",
                "description": props.get("description") or "",
                "assignableScopes": canonical_scopes,
                "permissions": permissions,
                "createdOn": existing["properties"].get("createdOn", now) if existing else now,
                "updatedOn": now,
                "createdBy": existing["properties"].get("createdBy") if existing else caller.object_id,
                "updatedBy": caller.object_id,
            },
        }
        store.put_role_definition(guid, doc, custom=True)
        # 201 for an update too: Role Definitions - Create Or Update documents only "201 Created"
        # (learn.microsoft.com/rest/api/authorization/role-definitions/create-or-update), and the
        # SDK raises on anything else.
        return JSONResponse(definition_doc(doc, scope), status_code=201)

    async def delete_definition(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        scope = scope_of(request)
        guid = request.path_params["name"].lower()
        require_permission(sb, caller, scope, RD_DELETE)
        doc = store.role_definition(guid)
        if doc is None:
            return Response(status_code=204)
        if not store.role_definition_is_custom(guid):
            raise ApiError(400, "InvalidRequest", f"The built-in role definition '{guid}' cannot be deleted.")
        # Deleting needs the right on every assignable scope too (custom-roles.md, "Who can create,
        # delete, update, or view a custom role").
        for assignable in doc["properties"].get("assignableScopes", []):
            require_permission(sb, caller, assignable, RD_DELETE)
        if store.count_role_assignments_for_role(guid):
            raise ApiError(409, "RoleDefinitionHasAssignments",
                           "There are existing role assignments referencing role. Delete them before "
                           "deleting the role definition.")
        store.delete_role_definition(guid)
        return JSONResponse(definition_doc(doc, scope))

    # role assignments ---------------------------------------------------------------------------

    def require_read(caller: Caller, scope: str) -> None:
        require_permission(sb, caller, scope, RA_READ)

    async def list_assignments(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        scope = scope_of(request)
        flt = parse_assignment_filter(request.query_params.get("$filter"))
        require_read(caller, scope)
        lowered = scope.lower().rstrip("/") or "/"
        # Below the tenant root or a management group lies every subscription (see rbac.scope_covers).
        everything_below = lowered == "/" or lowered.startswith(_MG_PREFIX)
        principals: set[str] | None = None
        if flt.assigned_to is not None:
            principals = {flt.assigned_to, *store.group_ids_of(flt.assigned_to)}
        elif flt.principal_id is not None:
            principals = {flt.principal_id}

        def fetch(after_seq: int, limit: int) -> list[tuple[int, str]]:
            below = None if flt.at_scope else ("" if everything_below else lowered)
            return store.query_role_assignments(
                exact_scopes=rbac.ancestors(lowered), management_groups=True, below=below,
                principal_ids=principals, after_seq=after_seq, limit=limit,
            )

        page = arm_page_keyset(request, sb.base_url, fetch, sb.settings.page_size, token_param="$skipToken")
        return spliced_json(page)

    def assignment_not_found(name: str) -> ApiError:
        return ApiError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")

    def stored_assignment_at(scope: str, name: str) -> dict[str, Any] | None:
        doc = store.role_assignment(name)
        if doc is None:
            return None
        if (doc["properties"]["scope"].lower().rstrip("/") or "/") != (scope.lower().rstrip("/") or "/"):
            return None  # the same name at another scope is another resource to ARM
        return doc

    async def get_assignment(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        scope = scope_of(request)
        name = request.path_params["name"]
        require_read(caller, scope)
        doc = stored_assignment_at(scope, name)
        if doc is None:
            raise assignment_not_found(name)
        return JSONResponse(doc)

    async def delete_assignment(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        scope = scope_of(request)
        name = request.path_params["name"]
        require_permission(sb, caller, scope, RA_DELETE)
        doc = stored_assignment_at(scope, name)
        if doc is None:
            return Response(status_code=204)  # ARM: deleting what is not there is not an error
        store.delete_role_assignment(doc["name"])
        return JSONResponse(doc)

    def principal_type_of(principal_id: str) -> str:
        """The principal's ARM type, or PrincipalNotFound: unknown, not a principal (an application's
        object id is the classic mistake), or too new to have replicated."""
        otype = store.object_type(principal_id)
        created = store.object_created(principal_id)
        delay = sb.settings.replication_delay_s
        young = created is not None and delay > 0 and time.time() - created < delay
        if otype not in PRINCIPAL_TYPES or young:
            raise ApiError(
                400, "PrincipalNotFound",
                f"Principal {principal_id.replace('-', '')} does not exist in the directory "
                f"{store.tenant_id}. Check that you have the correct principal ID. If you are creating this "
                "principal and then immediately assigning a role, this error might be related to a "
                "replication delay. In this case, set the role assignment principalType property to a value, "
                "such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype",
            )
        return PRINCIPAL_TYPES[otype]

    async def put_assignment(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        name = request.path_params["name"]
        if not is_guid(name):
            raise ApiError(400, "InvalidRoleAssignmentId",
                           f"The role assignment ID '{name}' is not valid. "
                           "The role assignment ID must be a GUID.")
        name = name.lower()
        scope = scope_of(request)
        if not rbac.permitted(store, caller.object_id, scope, RA_WRITE):
            raise authorization_failed(caller, RA_WRITE, scope)
        body = await json_body(request)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The request body must have a properties object.")
        role_ref = props.get("roleDefinitionId")
        principal_id = props.get("principalId")
        if not isinstance(role_ref, str) or not role_ref:
            raise ApiError(400, "InvalidRoleDefinitionId", "The role definition ID is required.")
        if not isinstance(principal_id, str) or not is_guid(principal_id):
            raise ApiError(400, "InvalidPrincipalId",
                           "A valid principal ID must be provided for role assignment.")
        principal_id = principal_id.lower()
        role_guid = role_ref.rstrip("/").rsplit("/", 1)[-1].lower()
        role = store.role_definition(role_guid) if is_guid(role_guid) else None
        if role is None:
            raise ApiError(400, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{role_guid}' does not exist.")
        if store.role_definition_is_custom(role_guid) and not visible_definition(role, True, scope):
            # A custom role is "available for assignment" only at or below its AssignableScopes
            # (role-definitions.md, "AssignableScopes"). The message is ARM's as users quote it
            # (trendmicro cloudone-community, Azure custom-role script README, "Troubleshooting"); the
            # code is not documented anywhere we found, so it is a descriptive one.
            raise ApiError(400, "InvalidRoleAssignmentScope",
                           f"The role {role['properties'].get('roleName', role_guid)} is not available for "
                           "assignment at the requested scope.")
        actual_type = principal_type_of(principal_id)
        given_type = props.get("principalType")
        if given_type is not None and str(given_type).lower() != actual_type.lower():
            raise ApiError(400, "UnmatchedPrincipalType",
                           f"The PrincipalId '{principal_id.replace('-', '')}' has type '{actual_type}' , "
                           f"which is different from specified PrincipalType '{given_type}'.")
        condition = props.get("condition")
        version = props.get("conditionVersion")
        if condition:
            version = version or "2.0"  # the only version there is; clients may omit it
            if str(version) != "2.0":
                raise ApiError(400, "InvalidConditionVersion",
                               f"The given role assignment condition version '{version}' is invalid. The "
                               "only supported condition version is '2.0'.")
            if not rbac.takes_condition(store, role_guid):
                role_name = store.role_definition(role_guid)["properties"]["roleName"]  # type: ignore[index]
                raise ApiError(400, "InvalidCondition",
                               f"The given role assignment condition is invalid. The role '{role_name}' has "
                               "no permissions a condition can apply to.")
        elif version:
            raise ApiError(400, "InvalidCondition",
                           "The given role assignment condition is invalid: "
                           "conditionVersion without a condition.")
        existing = store.role_assignment(name)
        if existing is not None:
            e = existing["properties"]
            same = (
                (e["scope"].lower().rstrip("/") or "/") == (scope.lower().rstrip("/") or "/")
                and e["principalId"].lower() == principal_id
                and e["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role_guid
            )
            if not same:
                raise ApiError(409, "RoleAssignmentUpdateNotPermitted",
                               "Tenant ID, application ID, principal ID, and scope are not allowed "
                               "to be updated.")
        else:
            duplicate = store.find_role_assignment(scope, role_guid, principal_id)
            if duplicate is not None:
                # ARM names the existing assignment without dashes; clients parse it from here.
                raise ApiError(409, "RoleAssignmentExists",
                               "The role assignment already exists. The ID of the existing role assignment "
                               f"is {duplicate['name'].replace('-', '')}.")
            sub = subscription_of(scope)
            if sub is not None:
                rbac_limits.check_assignment_room(store.count_role_assignments_under(f"/subscriptions/{sub}"))
        now = _now_iso()
        doc: dict[str, Any] = {
            "id": f"{scope.rstrip('/')}{AUTHZ}/roleAssignments/{name}",
            "name": name,
            "type": RA_TYPE,
            "properties": {
                "roleDefinitionId": definition_id(role_guid, scope),
                "principalId": principal_id,
                "principalType": actual_type,
                "scope": scope,
                "condition": condition or None,
                "conditionVersion": str(version) if condition else None,
                "createdOn": existing["properties"].get("createdOn", now) if existing else now,
                "updatedOn": now,
                "createdBy": existing["properties"].get("createdBy") if existing else caller.object_id,
                "updatedBy": caller.object_id,
                "delegatedManagedIdentityResourceId": None,
                "description": props.get("description"),
            },
        }
        store.put_role_assignment(doc)
        return JSONResponse(doc, status_code=200 if existing else 201)

    ra, rd = AUTHZ + "/roleAssignments", AUTHZ + "/roleDefinitions"
    routes_: list[Route] = []
    # The tenant root ("/") has no scope segment, so it needs its own copies of the routes.
    for prefix in ("", "/{scope:path}"):
        routes_ += [
            Route(prefix + ra, list_assignments, methods=["GET"]),
            Route(prefix + ra + "/{name}", get_assignment, methods=["GET"]),
            Route(prefix + ra + "/{name}", put_assignment, methods=["PUT"]),
            Route(prefix + ra + "/{name}", delete_assignment, methods=["DELETE"]),
            Route(prefix + rd, list_definitions, methods=["GET"]),
            Route(prefix + rd + "/{name}", get_definition, methods=["GET"]),
            Route(prefix + rd + "/{name}", put_definition, methods=["PUT"]),
            Route(prefix + rd + "/{name}", delete_definition, methods=["DELETE"]),
        ]
    return routes_
