"""Azure Resource Manager: subscriptions, resource groups, container registries, and ARM's front door.

The front door (`ArmFrontDoor`) does what ARM does before a resource provider sees a request: it
refuses `//` and a missing api-version, and it makes the path's fixed words case-insensitive
(`resourcegroups` and `resourceGroups` are the same thing to Azure, and the SDKs send both).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import api_versions, limits, rbac
from .api_versions import RegistryApiVersion
from .context import Caller, Sandbox
from .errors import ApiError, arm_error
from .paging import arm_page
from .seed import registry_doc, resource_group_doc

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
REGISTRY_READ = "Microsoft.ContainerRegistry/registries/read"
REGISTRY_WRITE = "Microsoft.ContainerRegistry/registries/write"
REGISTRY_DELETE = "Microsoft.ContainerRegistry/registries/delete"
LIST_CREDENTIALS = "Microsoft.ContainerRegistry/registries/listCredentials/action"
REGENERATE_CREDENTIAL = "Microsoft.ContainerRegistry/registries/regenerateCredential/action"
RG_READ = "Microsoft.Resources/subscriptions/resourceGroups/read"
RG_WRITE = "Microsoft.Resources/subscriptions/resourceGroups/write"
RG_DELETE = "Microsoft.Resources/subscriptions/resourceGroups/delete"

ADMIN_PASSWORD_NAMES = ("password", "password2")
# The location named in ARM's refusal of an api-version for a request that has no registry of its own
# (a list). Which location ARM names there is not documented (inference: the seed's region).
HOME_LOCATION = "westeurope"
ROLE_ASSIGNMENT_MODES = ("LegacyRegistryPermissions", "AbacRepositoryPermissions")
SKUS = ("Basic", "Standard", "Premium")
_REGISTRY_NAME = re.compile(r"^[A-Za-z0-9]{5,50}$")
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")


# -- the front door ----------------------------------------------------------------------------

# The fixed words of ARM paths in their canonical spelling; anything in a "value" position (names,
# ids) is left exactly as sent.
_KEYWORDS = {
    w.lower(): w
    for w in (
        "subscriptions", "resourceGroups", "providers", "registries", "roleAssignments", "roleDefinitions",
        "listCredentials", "regenerateCredential", "generateCredentials", "managementGroups", "locations",
        "operations", "tenants", "resources", "scopeMaps", "tokens",
    )
}
_NAMESPACES = {
    n.lower(): n
    for n in (
        "Microsoft.ContainerRegistry", "Microsoft.Authorization", "Microsoft.Management",
        "Microsoft.Resources",
    )
}


def is_arm_path(path: str) -> bool:
    first = path.lstrip("/").split("/", 1)[0].lower()
    return first in ("subscriptions", "providers")


def canonical_path(path: str) -> str:
    """ARM path keywords in canonical case: `/subscriptions/S/resourcegroups/rg` → `.../resourceGroups/rg`.

    ARM ids alternate keyword and value, except that `providers` is followed by a namespace and then
    a type keyword; values (names) keep the caller's spelling.
    """
    segments = path.split("/")
    expect_keyword = True
    i = 1  # segments[0] is the empty string before the leading slash
    while i < len(segments):
        seg = segments[i]
        if not expect_keyword:
            expect_keyword = True
        elif seg.lower() == "providers":
            segments[i] = "providers"
            if i + 1 < len(segments):
                segments[i + 1] = _NAMESPACES.get(segments[i + 1].lower(), segments[i + 1])
            i += 1  # the next segment (a type) is a keyword again
        else:
            segments[i] = _KEYWORDS.get(seg.lower(), seg)
            expect_keyword = False
        i += 1
    return "/".join(segments)


class ArmFrontDoor:
    """Pure ASGI: ARM's request checks and case-insensitive routing, for ARM paths only.

    Graph, Entra and the registry data plane pass through untouched: they are case-sensitive in Azure.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_arm_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "//" in path:
            response = arm_error(400, "InvalidRequest",
                                 f"The request path '{path}' is not valid: it contains '//'.")
            await response(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if not any(part.split("=", 1)[0].lower() == "api-version" for part in query.split("&") if part):
            response = arm_error(400, "MissingApiVersionParameter",
                                 "The api-version query parameter (?api-version=) is required for "
                                 "all requests.")
            await response(scope, receive, send)
            return
        canonical = canonical_path(path)
        if canonical != path:
            # A copy, so the request log keeps the path the client sent.
            scope = dict(scope, path=canonical, raw_path=canonical.encode())
        await self.app(scope, receive, send)


# -- shared helpers ------------------------------------------------------------------------------


def _subscription_doc(row: Any, tenant_id: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{row['id']}",
        "authorizationSource": "RoleBased",
        "subscriptionId": row["id"],
        "tenantId": tenant_id,
        "displayName": row["display_name"],
        "state": row["state"],
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def require_subscription(sb: Sandbox, caller: Caller, sub_id: str) -> None:
    require_subscription_exists(sb, sub_id)
    if not rbac.has_any_role_under(sb.store, caller.object_id, f"/subscriptions/{sub_id}"):
        raise authorization_failed(caller, "Microsoft.Resources/subscriptions/read",
                                   f"/subscriptions/{sub_id}")


def require_subscription_exists(sb: Sandbox, sub_id: str) -> None:
    if sb.store.subscription(sub_id) is None:
        raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found.")


def require_permission(sb: Sandbox, caller: Caller, scope: str, action: str) -> None:
    if not rbac.permitted(sb.store, caller.object_id, scope, action):
        raise authorization_failed(caller, action, scope)


def authorization_failed(caller: Caller, action: str, scope: str) -> ApiError:
    return ApiError(
        403,
        "AuthorizationFailed",
        f"The client '{caller.app_id}' with object id '{caller.object_id}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials.",
    )


def resource_group_not_found(rg: str) -> ApiError:
    return ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def registry_not_found(rg: str, name: str) -> ApiError:
    return ApiError(
        404, "ResourceNotFound",
        f"The Resource '{REGISTRY_TYPE}/{name}' under resource group '{rg}' was not found. For more details "
        "please go to https://aka.ms/ARMResourceNotFoundFix",
    )


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = limits.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "InvalidRequestContent",
                       f"The request content was invalid and could not be deserialized: {exc}.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return body


def _new_admin_password() -> str:
    # ACR's admin passwords are 52 characters; these have the same length and alphabet.
    return secrets.token_urlsafe(39)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge (RFC 7386 without deletes): what ARM's PATCH does to nested property bags."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif value is not None:
            out[key] = value
    return out


def _validate_registry_properties(props: dict[str, Any]) -> None:
    mode = props.get("roleAssignmentMode")
    if mode is not None and mode not in ROLE_ASSIGNMENT_MODES:
        raise ApiError(400, "InvalidRequestContent",
                       f"The value '{mode}' of roleAssignmentMode is not valid; expected one of "
                       f"{', '.join(ROLE_ASSIGNMENT_MODES)}.")
    for flag in ("adminUserEnabled", "anonymousPullEnabled"):
        if flag in props and not isinstance(props[flag], bool):
            raise ApiError(400, "InvalidRequestContent", f"The value of {flag} must be true or false.")


def _validate_sku(sku: Any) -> str:
    name = sku.get("name") if isinstance(sku, dict) else None
    canonical = next((s for s in SKUS if isinstance(name, str) and s.lower() == name.lower()), None)
    if canonical is None:
        raise ApiError(400, "InvalidRequestContent",
                       f"The sku '{name}' is not valid; expected one of {', '.join(SKUS)}.")
    return canonical


# -- routes --------------------------------------------------------------------------------------


def registry_target(sb: Sandbox, request: Request) -> tuple[str, dict[str, Any], str, str]:
    """(subscription, resource group doc, registry name, registry id) of a request under a
    registry's path; 404 for a missing subscription or group."""
    p = request.path_params
    sub_id, rg, name = p["sub"].lower(), p["rg"], p["name"]
    require_subscription_exists(sb, sub_id)
    group = sb.store.resource_group(sub_id, rg)
    if group is None:
        raise resource_group_not_found(rg)
    rid = f"/subscriptions/{sub_id}/resourceGroups/{group['name']}/providers/{REGISTRY_TYPE}/{name}"
    return sub_id, group, name, rid


def existing_registry(sb: Sandbox, request: Request, caller: Caller, action: str,
                      child: str | None = None) -> dict[str, Any]:
    """The registry document of a request under a registry's path, once the caller may do `action`
    on it (or on its `child`, e.g. "tokens/T"); 403 before 404, as ARM answers."""
    _, group, name, rid = registry_target(sb, request)
    require_permission(sb, caller, f"{rid}/{child}" if child else rid, action)
    doc = sb.store.resource(rid)
    if doc is None:
        raise registry_not_found(group["name"], name)
    return doc


def routes(sb: Sandbox) -> list[Route]:
    store = sb.store

    def ensure_admin_passwords(registry_id: str) -> dict[str, str]:
        current = store.registry_passwords(registry_id)
        for name in ADMIN_PASSWORD_NAMES:
            if name not in current:
                current[name] = _new_admin_password()
                store.set_registry_password(registry_id, name, current[name], time.time())
        return current

    def credentials_doc(doc: dict[str, Any], passwords: dict[str, str]) -> dict[str, Any]:
        return {
            "username": doc["name"],
            "passwords": [{"name": n, "value": passwords[n]} for n in ADMIN_PASSWORD_NAMES],
        }

    # subscriptions ------------------------------------------------------------------------------

    async def list_subscriptions(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        rights = rbac.CallerRights(store, caller.object_id)
        visible = [
            _subscription_doc(row, store.tenant_id)
            for row in store.subscriptions()
            if rights.any_role_under(f"/subscriptions/{row['id']}")
        ]
        return JSONResponse(arm_page(request, sb.base_url, visible, sb.settings.page_size))

    async def get_subscription(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        row = store.subscription(sub_id)
        return JSONResponse(_subscription_doc(row, store.tenant_id))

    # resource groups ----------------------------------------------------------------------------

    async def list_resource_groups(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        rights = rbac.CallerRights(store, caller.object_id)
        items = [g for g in store.resource_groups(sub_id) if rights.permitted(g["id"], RG_READ)]
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def get_resource_group(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id, rg = request.path_params["sub"].lower(), request.path_params["rg"]
        require_subscription_exists(sb, sub_id)
        require_permission(sb, caller, f"/subscriptions/{sub_id}/resourceGroups/{rg}", RG_READ)
        doc = store.resource_group(sub_id, rg)
        if doc is None:
            raise resource_group_not_found(rg)
        return JSONResponse(doc)

    async def put_resource_group(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id, rg = request.path_params["sub"].lower(), request.path_params["rg"]
        require_subscription_exists(sb, sub_id)
        if not _RG_NAME.match(rg) or rg.endswith("."):
            raise ApiError(400, "InvalidResourceGroupName",
                           f"The resource group name '{rg}' is invalid: use up to 90 letters, digits, '-', "
                           "'_', '.', '(' and ')', not ending in a period.")
        require_permission(sb, caller, f"/subscriptions/{sub_id}/resourceGroups/{rg}", RG_WRITE)
        body = await json_body(request)
        existing = store.resource_group(sub_id, rg)
        location = body.get("location")
        if not isinstance(location, str) or not location:
            raise ApiError(400, "LocationRequired", "The location property is required for this definition.")
        if existing is not None and existing["location"].lower() != location.lower():
            raise ApiError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{location}'. The Resource group already exists "
                           f"in location '{existing['location']}' in resource group '{existing['name']}'. A "
                           "resource group's location cannot be changed.")
        # A resource group keeps the spelling it was created with, whatever case later PUTs use.
        name = existing["name"] if existing else rg
        doc = resource_group_doc(sub_id, name, location)
        if isinstance(body.get("tags"), dict):
            doc["tags"] = body["tags"]
        elif existing is not None and "tags" in existing:
            doc["tags"] = existing["tags"]
        store.put_resource_group(sub_id, name, doc)
        return JSONResponse(doc, status_code=200 if existing else 201)

    async def delete_resource_group(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id, rg = request.path_params["sub"].lower(), request.path_params["rg"]
        require_subscription_exists(sb, sub_id)
        require_permission(sb, caller, f"/subscriptions/{sub_id}/resourceGroups/{rg}", RG_DELETE)
        doc = store.resource_group(sub_id, rg)
        if doc is None:
            raise resource_group_not_found(rg)
        # Azure answers 202 and deletes in the background; doing it at once and answering 200 is a
        # valid ARM long-running-operation outcome that every client accepts.
        store.delete_resource_group(sub_id, doc["name"])
        return Response(status_code=200)

    # registries ---------------------------------------------------------------------------------
    # Every registry route answers at the request's api-version (api_versions.py): one the provider
    # does not serve here is refused with ARM's NoRegisteredProviderFound, and the registry is shown
    # as that version shows it.

    def api_version(request: Request, location: str | None = None) -> RegistryApiVersion:
        requested = next((v for k, v in request.query_params.multi_items() if k.lower() == "api-version"), None)
        return api_versions.resolve(requested, sb.settings.registry_api_versions, location or HOME_LOCATION)

    def located(request: Request) -> str | None:
        """The location of the registry a request names, if it exists (for ARM's refusal message)."""
        p = request.path_params
        group = store.resource_group(p["sub"].lower(), p["rg"]) if "rg" in p else None
        if group is None or "name" not in p:
            return None
        doc = store.resource(f"/subscriptions/{p['sub'].lower()}/resourceGroups/{group['name']}/providers/"
                             f"{REGISTRY_TYPE}/{p['name']}")
        return str(doc["location"]) if doc is not None else None

    def readable_registries(caller: Caller, sub_id: str, rg: str | None) -> list[dict[str, Any]]:
        rights = rbac.CallerRights(store, caller.object_id)
        return [doc for doc in store.resources(REGISTRY_TYPE, sub_id, rg) if rights.permitted(doc["id"], REGISTRY_READ)]

    async def list_registries(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        version = api_version(request)
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        items = [api_versions.render(d, version) for d in readable_registries(caller, sub_id, None)]
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def list_registries_in_group(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        version = api_version(request)
        sub_id = request.path_params["sub"].lower()
        rg = request.path_params["rg"]
        require_subscription(sb, caller, sub_id)
        if store.resource_group(sub_id, rg) is None:
            raise resource_group_not_found(rg)
        items = [api_versions.render(d, version) for d in readable_registries(caller, sub_id, rg)]
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def get_registry(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        version = api_version(request, located(request))
        require_subscription(sb, caller, request.path_params["sub"].lower())
        return JSONResponse(api_versions.render(existing_registry(sb, request, caller, REGISTRY_READ), version))

    async def put_registry(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id, group, name, rid = registry_target(sb, request)
        if not _REGISTRY_NAME.match(name):
            raise ApiError(400, "InvalidResourceName",
                           f"The registry name '{name}' is invalid: use 5 to 50 letters and digits only.")
        require_permission(sb, caller, rid, REGISTRY_WRITE)
        body = await json_body(request)
        body_location = body.get("location") if isinstance(body.get("location"), str) else None
        version = api_version(request, located(request) or body_location)
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the registry must be an object.")
        props = api_versions.unknown_property(props, version, sb.settings.registry_unknown_properties, update=False)
        _validate_registry_properties(props)
        existing = store.resource(rid)
        taken = store.resource_named(REGISTRY_TYPE, name)
        if taken is not None and taken["id"].lower() != rid.lower():
            raise ApiError(409, "AlreadyInUse",
                           f"The registry DNS name {name.lower()}.azurecr.io is already in use. You can "
                           "check if the name is already claimed using following API: https://docs.microsoft"
                           ".com/en-us/rest/api/containerregistry/registries/checknameavailability")
        location = body.get("location")
        if not isinstance(location, str) or not location:
            raise ApiError(400, "LocationRequired", "The location property is required for this definition.")
        sku = _validate_sku(body.get("sku"))
        if existing is not None:
            if existing["location"].lower() != location.lower():
                raise ApiError(400, "InvalidResourceLocation",
                               f"The resource '{name}' already exists in location "
                               f"'{existing['location']}'; a registry cannot move.")
            doc = _merge(existing, {"sku": {"name": sku, "tier": sku}, "properties": props})
            if isinstance(body.get("tags"), dict):
                doc["tags"] = body["tags"]
        else:
            doc = registry_doc(sub_id, group["name"], name, location=location, sku=sku, created=_now_iso())
            doc["properties"] = _merge(doc["properties"], props)
            doc["tags"] = body.get("tags") if isinstance(body.get("tags"), dict) else {}
        doc["properties"]["loginServer"] = f"{doc['name'].lower()}.azurecr.io"
        doc["properties"]["provisioningState"] = "Succeeded"
        store.put_resource(doc)
        if doc["properties"].get("adminUserEnabled"):
            ensure_admin_passwords(doc["id"])
        return JSONResponse(api_versions.render(doc, version), status_code=200 if existing else 201)

    async def patch_registry(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        version = api_version(request, located(request))
        doc = existing_registry(sb, request, caller, REGISTRY_WRITE)
        body = await json_body(request)
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "InvalidRequestContent", "The properties of the registry must be an object.")
        props = api_versions.unknown_property(props, version, sb.settings.registry_unknown_properties, update=True)
        _validate_registry_properties(props)
        if "sku" in body and body["sku"] is not None:
            sku = _validate_sku(body["sku"])
            doc["sku"] = {"name": sku, "tier": sku}
        if isinstance(body.get("tags"), dict):
            doc["tags"] = body["tags"]  # ARM's PATCH replaces tags as a whole
        # Only the settings Azure lets PATCH change; read-only properties in the body are ignored.
        mutable = ("adminUserEnabled", "anonymousPullEnabled", "roleAssignmentMode", "policies",
                   "publicNetworkAccess", "networkRuleBypassOptions", "dataEndpointEnabled", "encryption")
        doc["properties"] = _merge(doc["properties"], {k: v for k, v in props.items() if k in mutable})
        store.put_resource(doc)
        if doc["properties"].get("adminUserEnabled"):
            ensure_admin_passwords(doc["id"])
        return JSONResponse(api_versions.render(doc, version))

    async def delete_registry(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        api_version(request, located(request))
        _, _, _, rid = registry_target(sb, request)
        require_permission(sb, caller, rid, REGISTRY_DELETE)
        if not store.delete_resource(rid):
            return Response(status_code=204)
        return Response(status_code=200)

    def require_admin_user(doc: dict[str, Any]) -> None:
        if not doc["properties"].get("adminUserEnabled"):
            raise ApiError(400, "AdminUserDisabled",
                           f"The admin user is disabled on registry '{doc['name']}'. Enable it "
                           "(properties.adminUserEnabled) before listing or regenerating its credentials.")

    async def list_credentials(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        api_version(request, located(request))
        doc = existing_registry(sb, request, caller, LIST_CREDENTIALS)
        require_admin_user(doc)
        return JSONResponse(credentials_doc(doc, ensure_admin_passwords(doc["id"])))

    async def regenerate_credential(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        api_version(request, located(request))
        doc = existing_registry(sb, request, caller, REGENERATE_CREDENTIAL)
        body = await json_body(request)
        which = body.get("name")
        if which not in ADMIN_PASSWORD_NAMES:
            raise ApiError(400, "InvalidRequestContent",
                           f"The password name '{which}' is not valid; expected 'password' or 'password2'.")
        require_admin_user(doc)
        ensure_admin_passwords(doc["id"])
        store.set_registry_password(doc["id"], which, _new_admin_password(), time.time())
        return JSONResponse(credentials_doc(doc, store.registry_passwords(doc["id"])))

    reg = "/providers/Microsoft.ContainerRegistry/registries"
    rg_path = "/subscriptions/{sub}/resourceGroups/{rg}"
    one = rg_path + reg + "/{name}"
    return [
        Route("/subscriptions", list_subscriptions, methods=["GET"]),
        Route("/subscriptions/{sub}", get_subscription, methods=["GET"]),
        Route("/subscriptions/{sub}/resourceGroups", list_resource_groups, methods=["GET"]),
        Route(rg_path, get_resource_group, methods=["GET"]),
        Route(rg_path, put_resource_group, methods=["PUT"]),
        Route(rg_path, delete_resource_group, methods=["DELETE"]),
        Route("/subscriptions/{sub}" + reg, list_registries, methods=["GET"]),
        Route(rg_path + reg, list_registries_in_group, methods=["GET"]),
        Route(one, get_registry, methods=["GET"]),
        Route(one, put_registry, methods=["PUT"]),
        Route(one, patch_registry, methods=["PATCH"]),
        Route(one, delete_registry, methods=["DELETE"]),
        Route(one + "/listCredentials", list_credentials, methods=["POST"]),
        Route(one + "/regenerateCredential", regenerate_credential, methods=["POST"]),
    ]
