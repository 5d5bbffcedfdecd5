"""Writes to Azure RBAC: create and delete role assignments (API 2022-04-01, through the SDK).

Creating an assignment for a principal made seconds ago fails with PrincipalNotFound until the
directory replicates it (acr-access §7.1: minutes, sometimes longer); creation retries with a
bounded backoff. An assignment that already exists is the wanted state, not an error.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..models import RoleAssignment
from .authorization import assignment_from_sdk, subscription_of
from .clients import AzureClients
from .errors import AzureCallError, from_exception
from .writes import Receipt, ensure_writable

PRINCIPAL_REPLICATION_TIMEOUT_S = 180.0
MAX_BACKOFF_S = 10.0


def role_definition_id(subscription_id: str, role_guid: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def _capture(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[Any, str | None]:
    h = pipeline_response.http_response.headers
    return deserialized, h.get("x-ms-correlation-request-id") or h.get("x-ms-request-id")


async def find_assignment(az: AzureClients, scope: str, role_definition_id: str,
                          principal_id: str) -> RoleAssignment | None:
    """The assignment of exactly this role to this principal at exactly this scope, if any."""
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(scope))
    wanted_role = role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
    wanted_scope = scope.rstrip("/").lower()
    try:
        async for a in client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal_id}'"):
            ra = assignment_from_sdk(a)
            if (ra.scope.rstrip("/").lower() == wanted_scope and ra.role_guid == wanted_role
                    and ra.principal_id == principal_id.lower()):
                return ra
    except Exception as exc:
        raise from_exception(exc, f"list role assignments at {scope}") from None
    return None


async def create_role_assignment(
    az: AzureClients, scope: str, role_definition_id: str, principal_id: str, *,
    name: str | None = None, principal_type: str = "ServicePrincipal",
    replication_timeout_s: float = PRINCIPAL_REPLICATION_TIMEOUT_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[RoleAssignment, Receipt]:
    """Assign a role; `Receipt.already` when the assignment existed. The assignment's name is fixed
    once, so a retry after a lost response re-sends the same PUT instead of creating a twin."""
    ensure_writable(az.connection, f"assign a role at {scope}")
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(scope))
    name = name or str(uuid.uuid4())
    # principalType lets ARM skip its directory lookup, which is what fails during replication.
    params = {"properties": {"roleDefinitionId": role_definition_id, "principalId": principal_id,
                             "principalType": principal_type}}
    deadline = time.monotonic() + replication_timeout_s
    delay = 1.0
    while True:
        try:
            created, correlation = await client.role_assignments.create(scope, name, params, cls=_capture)
            return assignment_from_sdk(created), Receipt(correlation)
        except Exception as exc:
            err = from_exception(exc, f"assign role at {scope}")
        if err.code == "RoleAssignmentExists":
            existing = await find_assignment(az, scope, role_definition_id, principal_id)
            if existing is not None:
                return existing, Receipt(err.correlation_id, already=True)
            raise err
        if err.code != "PrincipalNotFound" or time.monotonic() + delay > deadline:
            if err.code == "PrincipalNotFound":
                err.message += (f" (still not replicated after {replication_timeout_s:.0f} s; "
                                "run the same command again later: it finishes what is missing)")
            raise err
        await sleep(delay)
        delay = min(delay * 2, MAX_BACKOFF_S)


async def delete_role_assignment(az: AzureClients, assignment_id: str) -> Receipt:
    """Delete by id; an assignment that is already gone counts as done."""
    ensure_writable(az.connection, f"delete role assignment {assignment_id}")
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(assignment_id)) if assignment_id.lower().startswith(
        "/subscriptions/") else az.authorization_client(_any_subscription(az))
    try:
        deleted, correlation = await client.role_assignments.delete_by_id(assignment_id, cls=_capture)
    except Exception as exc:
        err = from_exception(exc, f"delete role assignment {assignment_id}")
        if _gone(err):
            return Receipt(err.correlation_id, already=True)
        raise err from None
    # ARM answers 204 with no body when there was nothing to delete.
    return Receipt(correlation, already=deleted is None)


def _gone(err: AzureCallError) -> bool:
    # Only an assignment that is not there; a 404 for a wrong path (InvalidResourceType) is a real error.
    return err.code in ("RoleAssignmentNotFound", "ResourceNotFound", "NotFound")


def _any_subscription(az: AzureClients) -> str:
    # Management-group and root assignments are deleted by id; the client only needs some subscription.
    if az.connection.subscriptions:
        return az.connection.subscriptions[0]
    raise AzureCallError("InvalidScope", "deleting an assignment above subscriptions needs --subscription", 400)


async def assignment_exists(az: AzureClients, assignment_id: str) -> bool:
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(assignment_id)) if assignment_id.lower().startswith(
        "/subscriptions/") else az.authorization_client(_any_subscription(az))
    try:
        await client.role_assignments.get_by_id(assignment_id)
        return True
    except Exception as exc:
        err = from_exception(exc, f"read role assignment {assignment_id}")
        if _gone(err):
            return False
        raise err from None
