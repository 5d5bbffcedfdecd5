"""Azure Resource Manager: subscriptions, resource groups, container registries."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import rbac
from .context import Caller, Sandbox
from .errors import ApiError
from .paging import arm_page

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
REGISTRY_READ = "Microsoft.ContainerRegistry/registries/read"


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
    if sb.store.subscription(sub_id) is None:
        raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found.")
    if not rbac.has_any_role_under(sb.store, caller.object_id, f"/subscriptions/{sub_id}"):
        raise authorization_failed(caller, "Microsoft.Resources/subscriptions/read", f"/subscriptions/{sub_id}")


def authorization_failed(caller: Caller, action: str, scope: str) -> ApiError:
    return ApiError(
        403,
        "AuthorizationFailed",
        f"The client '{caller.app_id}' with object id '{caller.object_id}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials.",
    )


def routes(sb: Sandbox) -> list[Route]:
    async def list_subscriptions(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        visible = [
            _subscription_doc(row, sb.store.tenant_id)
            for row in sb.store.subscriptions()
            if rbac.has_any_role_under(sb.store, caller.object_id, f"/subscriptions/{row['id']}")
        ]
        return JSONResponse(arm_page(request, sb.base_url, visible, sb.settings.page_size))

    async def get_subscription(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        row = sb.store.subscription(sub_id)
        return JSONResponse(_subscription_doc(row, sb.store.tenant_id))

    def readable_registries(caller: Caller, sub_id: str, rg: str | None) -> list[dict[str, Any]]:
        return [
            doc
            for doc in sb.store.resources(REGISTRY_TYPE, sub_id, rg)
            if rbac.permitted(sb.store, caller.object_id, doc["id"], REGISTRY_READ)
        ]

    async def list_registries(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        require_subscription(sb, caller, sub_id)
        items = readable_registries(caller, sub_id, None)
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def list_registries_in_group(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        sub_id = request.path_params["sub"].lower()
        rg = request.path_params["rg"]
        require_subscription(sb, caller, sub_id)
        if sb.store.resource_group(sub_id, rg) is None:
            raise ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        items = readable_registries(caller, sub_id, rg)
        return JSONResponse(arm_page(request, sb.base_url, items, sb.settings.page_size))

    async def get_registry(request: Request) -> Response:
        caller = sb.authenticate(request, "arm")
        p = request.path_params
        sub_id, rg, name = p["sub"].lower(), p["rg"], p["name"]
        require_subscription(sb, caller, sub_id)
        if sb.store.resource_group(sub_id, rg) is None:
            raise ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        rid = f"/subscriptions/{sub_id}/resourceGroups/{rg}/providers/{REGISTRY_TYPE}/{name}"
        doc = sb.store.resource(rid)
        if doc is None:
            raise ApiError(
                404, "ResourceNotFound",
                f"The Resource '{REGISTRY_TYPE}/{name}' under resource group '{rg}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        if not rbac.permitted(sb.store, caller.object_id, doc["id"], REGISTRY_READ):
            raise authorization_failed(caller, REGISTRY_READ, doc["id"])
        return JSONResponse(doc)

    reg = "/providers/Microsoft.ContainerRegistry/registries"
    return [
        Route("/subscriptions", list_subscriptions, methods=["GET"]),
        Route("/subscriptions/{sub}", get_subscription, methods=["GET"]),
        Route("/subscriptions/{sub}" + reg, list_registries, methods=["GET"]),
        Route("/subscriptions/{sub}/resourceGroups/{rg}" + reg, list_registries_in_group, methods=["GET"]),
        Route("/subscriptions/{sub}/resourceGroups/{rg}" + reg + "/{name}", get_registry, methods=["GET"]),
    ]
