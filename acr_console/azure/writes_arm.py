"""Writes to Azure RBAC: create and delete role assignments (API 2022-04-01, through the SDK).

Creating an assignment for a principal made seconds ago fails with PrincipalNotFound until the
directory replicates it (minutes, sometimes longer: Azure/azure-cli#22208); creation retries with
the replication backoff of retry.py until a deadline. An assignment that already exists is the
wanted state, not an error.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..access import resource_ids
from ..access.conditions import CONDITION_VERSION
from ..access.resource_ids import role_definition_id, role_guid
from ..models import RoleAssignment
from .authorization import assignment_from_sdk, subscription_of
from .clients import AzureClients
from .errors import AzureCallError, translated
from .retry import REPLICATION, retrying
from .writes import Receipt, ensure_writable, with_correlation

PRINCIPAL_REPLICATION_TIMEOUT_S = 180.0

__all__ = ["PRINCIPAL_REPLICATION_TIMEOUT_S", "assignment_exists", "create_role_assignment", "delete_role_assignment",
           "find_assignment", "read_assignment",
           "role_definition_id"]


def _same_condition(one: str | None, other: str | None) -> bool:
    return "".join((one or "").split()).lower() == "".join((other or "").split()).lower()


async def find_assignment(az: AzureClients, scope: str, role_definition_id: str,
                          principal_id: str, condition: str | None = None) -> RoleAssignment | None:
    """The assignment of exactly this role to this principal at exactly this scope, if any; with a
    `condition` (issue 16), only one with that condition (whitespace and case aside): an assignment
    without it grants more, one with another grants something else."""
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(scope))
    wanted_role = role_guid(role_definition_id)
    wanted_scope = scope.rstrip("/").lower()
    with translated(f"list role assignments at {scope}"):
        async for a in client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal_id}'"):
            ra = assignment_from_sdk(a)
            if (ra.scope.rstrip("/").lower() == wanted_scope and ra.role_guid == wanted_role
                    and ra.principal_id == principal_id.lower()
                    and (condition is None or _same_condition(ra.condition, condition))):
                return ra
    return None


async def create_role_assignment(
    az: AzureClients, scope: str, role_definition_id: str, principal_id: str, *,
    name: str | None = None, principal_type: str = "ServicePrincipal",
    replication_timeout_s: float = PRINCIPAL_REPLICATION_TIMEOUT_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    condition: str | None = None,
) -> tuple[RoleAssignment, Receipt]:
    """Assign a role; `Receipt.already` when the assignment existed. The assignment's name is fixed
    once, so a retry after a lost response re-sends the same PUT instead of creating a twin.
    `condition` (issue 16: an ABAC repository condition) goes with `conditionVersion` 2.0, as `az role
    assignment create --condition` sends it by default (Role Assignments - Create, 2022-04-01)."""
    ensure_writable(az.connection, f"assign a role at {scope}")
    await az.load(authorization=True)
    client = az.authorization_client(subscription_of(scope))
    name = name or str(uuid.uuid4())
    # principalType lets ARM skip its directory lookup, which is what fails during replication.
    properties = {"roleDefinitionId": role_definition_id, "principalId": principal_id, "principalType": principal_type}
    if condition is not None:
        properties.update(condition=condition, conditionVersion=CONDITION_VERSION)
    params = {"properties": properties}

    async def create() -> tuple[RoleAssignment, Receipt]:
        with translated(f"assign role at {scope}"):
            created, correlation = await client.role_assignments.create(scope, name, params, cls=with_correlation)
        return assignment_from_sdk(created), Receipt(correlation)

    try:
        return await retrying(create, backoff=REPLICATION, deadline_s=replication_timeout_s, sleep=sleep,
                              retry_on=lambda exc: isinstance(exc, AzureCallError) and exc.code == "PrincipalNotFound")
    except AzureCallError as err:
        if err.code == "RoleAssignmentExists":
            existing = await find_assignment(az, scope, role_definition_id, principal_id, condition)
            if existing is not None:
                return existing, Receipt(err.correlation_id, already=True)
        elif err.code == "PrincipalNotFound":
            err.message += (f" (still not replicated after {replication_timeout_s:.0f} s; "
                            "run the same command again later: it finishes what is missing)")
        raise


async def delete_role_assignment(az: AzureClients, assignment_id: str) -> Receipt:
    """Delete by id; an assignment that is already gone counts as done."""
    ensure_writable(az.connection, f"delete role assignment {assignment_id}")
    await az.load(authorization=True)
    client = _client_for(az, assignment_id)
    try:
        with translated(f"delete role assignment {assignment_id}"):
            deleted, correlation = await client.role_assignments.delete_by_id(assignment_id, cls=with_correlation)
    except AzureCallError as err:
        if err.not_found:
            return Receipt(err.correlation_id, already=True)
        raise
    # ARM answers 204 with no body when there was nothing to delete.
    return Receipt(correlation, already=deleted is None)


def _client_for(az: AzureClients, assignment_id: str) -> Any:
    subscription = resource_ids.subscription_of(assignment_id)
    if subscription is not None:
        return az.authorization_client(subscription)
    # Management-group and root assignments are deleted by id; the client only needs some subscription.
    if az.connection.subscriptions:
        return az.authorization_client(az.connection.subscriptions[0])
    raise AzureCallError("InvalidScope", "deleting an assignment above subscriptions needs --subscription", 400)


async def assignment_exists(az: AzureClients, assignment_id: str) -> bool:
    await az.load(authorization=True)
    client = _client_for(az, assignment_id)
    try:
        with translated(f"read role assignment {assignment_id}"):
            await client.role_assignments.get_by_id(assignment_id)
        return True
    except AzureCallError as err:
        if err.not_found:
            return False
        raise


async def read_assignment(az: AzureClients, assignment_id: str) -> RoleAssignment | None:
    """One role assignment by its id (`GET {assignmentId}`, Role Assignments - Get By Id, 2022-04-01);
    None when it is gone. Issue 16: unassign by id reads only this, never the principal, so an
    assignment whose principal was deleted can still be removed."""
    await az.load(authorization=True)
    client = _client_for(az, assignment_id)
    try:
        with translated(f"read role assignment {assignment_id}"):
            return assignment_from_sdk(await client.role_assignments.get_by_id(assignment_id))
    except AzureCallError as err:
        if err.not_found:
            return None
        raise
