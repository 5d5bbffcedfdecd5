"""Reads of Azure RBAC: role assignments at a scope and role definitions (cached per session).

Reads go through the ARM pipeline as JSON (`AzureClients.arm_json`: the same credential, retry and
error mapping as the SDK), not through azure-mgmt-authorization's models: those cost 0.2 s to
import and about 0.35 ms per assignment to deserialize, on the event loop. Writes keep the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from ..access import resource_ids
from ..access.resource_ids import ROLE_DEFINITION_TYPE, role_guid
from ..models import RoleAssignment, RoleDefinition
from ..roles import builtin_by_guid
from .clients import AzureClients
from .errors import AzureCallError

RBAC_API = "2022-04-01"  # what azure-mgmt-authorization 4.0 sends for RBAC


def subscription_of(scope: str) -> str:
    """The subscription a scope lies in; an AzureCallError for one above subscriptions (the RBAC
    client is per subscription)."""
    subscription = resource_ids.subscription_of(scope)
    if subscription is None:
        raise AzureCallError("InvalidScope", f"'{scope}' is not inside a subscription", 400)
    return subscription


def assignment_from_sdk(a: Any) -> RoleAssignment:
    return RoleAssignment(
        id=a.id,
        name=a.name,
        scope=a.scope,
        role_definition_id=a.role_definition_id,
        principal_id=(a.principal_id or "").lower(),
        principal_type=str(getattr(a.principal_type, "value", a.principal_type) or ""),
        condition=a.condition,
        condition_version=a.condition_version,
    )


def assignment_from_json(doc: dict[str, Any]) -> RoleAssignment:
    p = doc.get("properties") or {}
    return RoleAssignment(
        id=doc["id"],
        name=doc.get("name") or _name(doc["id"]),
        scope=p.get("scope") or "",
        role_definition_id=p.get("roleDefinitionId") or "",
        principal_id=(p.get("principalId") or "").lower(),
        principal_type=str(p.get("principalType") or ""),
        condition=p.get("condition"),
        condition_version=p.get("conditionVersion"),
    )


def _name(resource_id: str) -> str:
    parsed = resource_ids.try_parse_resource_id(resource_id)
    return (parsed.name if parsed is not None else None) or resource_id


def definition_from_json(doc: dict[str, Any]) -> RoleDefinition:
    p = doc.get("properties") or {}
    perms = p.get("permissions") or []
    perms = [perm for perm in perms if isinstance(perm, dict)] if isinstance(perms, list) else []

    def gather(key: str) -> tuple[str, ...]:
        # Only strings, from lists only: ARM's model is string[] (custom-roles.md), but a definition
        # served by another path may hold numbers or objects (unhashable further on) or one bare
        # string, whose characters (one may be `*`) must not become actions. Such entries grant nothing.
        return tuple(x for perm in perms if isinstance(perm.get(key), list) for x in perm[key]
                     if isinstance(x, str))

    return RoleDefinition(
        id=doc["id"],
        name=doc.get("name") or _name(doc["id"]),
        role_name=p.get("roleName") or doc.get("name") or "",
        description=p.get("description") or "",
        custom=(p.get("type") or "").lower() == "customrole",
        actions=gather("actions"),
        not_actions=gather("notActions"),
        data_actions=gather("dataActions"),
        not_data_actions=gather("notDataActions"),
        assignable_scopes=tuple(x for x in (p.get("assignableScopes") or ()) if isinstance(x, str)),
    )


async def assignments_at(az: AzureClients, scope: str) -> list[RoleAssignment]:
    """Assignments that apply at `scope`: on it and on every scope above it (one paged call)."""
    return [a async for page in assignment_pages_at(az, scope) for a in page]


async def assignment_pages_at(az: AzureClients, scope: str) -> AsyncGenerator[list[RoleAssignment], None]:
    """`assignments_at`, a page at a time as ARM answers."""
    subscription_of(scope)  # an assignment list needs a scope inside a subscription
    path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments"
    async with contextlib.aclosing(az.arm_page_stream(path, {"$filter": "atScope()", "api-version": RBAC_API},
                                                      operation=f"list role assignments at {scope}")) as pages:
        async for items in pages:
            yield [assignment_from_json(doc) for doc in items]


async def assignments_of(az: AzureClients, subscription_id: str, principal_id: str) -> list[RoleAssignment]:
    """A principal's assignments in a subscription, its groups' included (`assignedTo`)."""
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments"
    items = await az.arm_pages(path, {"$filter": f"assignedTo('{principal_id}')", "api-version": RBAC_API},
                               operation=f"list role assignments of {principal_id}")
    return [assignment_from_json(doc) for doc in items]


def definition_read_id(ref: str | RoleAssignment) -> str:
    """The id to read a role definition by: the assignment's own `roleDefinitionId`, except where that
    id is the tenant form (`/providers/Microsoft.Authorization/roleDefinitions/{guid}`, what an
    assignment at a management group carries) and the assignment sits at a management group: then
    the definition is read at that management group, where it is assignable and so readable.

    Why: the tenant form reads tenant-level (built-in) role definitions ("…/roleDefinitions/{id} for
    tenant level role definitions", Role Definitions - Get By Id, azure-mgmt-authorization 4.0
    `v2022_04_01` `RoleDefinitionsOperations.get_by_id`); a custom role is read at a scope among its
    assignable scopes or below them, a management group being one ("List a custom role definition by
    ID", MicrosoftDocs/azure-docs `articles/role-based-access-control/custom-roles-rest.md`). Guessing
    a subscription to read it through, as this once did, failed whenever the guess was not under the
    role's management group, and without `--subscription` there was no guess at all.
    """
    if isinstance(ref, str):
        return ref
    rid = ref.role_definition_id
    parsed = resource_ids.try_parse_resource_id(rid)
    scope = resource_ids.try_parse_resource_id(ref.scope)
    if (parsed is not None and parsed.subscription is None and parsed.management_group is None
            and scope is not None and scope.management_group is not None):
        return str(resource_ids.parse_resource_id(
            f"/providers/{resource_ids.MANAGEMENT_GROUP_TYPE}/{scope.management_group}"
        ).child(ROLE_DEFINITION_TYPE, role_guid(rid)))
    return rid


class RoleDefinitions:
    """Role definitions by id, fetched once per session; built-in data answers when ARM cannot."""

    def __init__(self, az: AzureClients) -> None:
        self._az = az
        self._cache: dict[str, RoleDefinition] = {}
        # By the id read (lower case): a role that failed to read one way can still be read another.
        self._inflight: dict[str, asyncio.Future[RoleDefinition | None]] = {}
        # The first read of each GUID: the same role asked for through many subscriptions at once (a
        # tenant's lists side by side) is read once, and by its other ids only if that read finds nothing.
        self._first: dict[str, asyncio.Future[RoleDefinition | None]] = {}

    def cached(self) -> dict[str, RoleDefinition]:
        """By lower-case role GUID, the key the analysis uses."""
        return {d.guid: d for d in self._cache.values()}

    async def resolve(self, refs: Iterable[str | RoleAssignment]) -> dict[str, RoleDefinition]:
        """Definitions by GUID, for role definition ids or, better, the assignments that carry them
        (an assignment says where its role can be read: `definition_read_id`)."""
        # By GUID: a role's id differs per subscription (…/subscriptions/{id}/…/roleDefinitions/{guid}),
        # the definition does not, so an assignment list over three subscriptions asks once.
        wanted: dict[str, str] = {}
        for ref in refs:
            rid = definition_read_id(ref)
            key = role_guid(rid)
            # A read at a management group beats the tenant form another assignment of the role carries.
            if key not in wanted or (not isinstance(ref, str) and rid != ref.role_definition_id):
                wanted[key] = rid
        missing = [(key, rid) for key, rid in wanted.items() if key not in self._cache]
        for key, rid in missing:
            if key not in self._first and rid.lower() not in self._inflight:
                self._inflight[rid.lower()] = self._first[key] = asyncio.ensure_future(self._fetch(rid))
        for key, rid in missing:
            definition = await self._inflight.get(rid.lower(), self._first[key])
            if definition is None and rid.lower() not in self._inflight:
                self._inflight[rid.lower()] = asyncio.ensure_future(self._fetch(rid))
                definition = await self._inflight[rid.lower()]
            if definition is not None:
                self._cache[key] = definition
        return {self._cache[k].guid: self._cache[k] for k in wanted if k in self._cache}

    async def _fetch(self, role_definition_id: str) -> RoleDefinition | None:
        # Read by its id wherever that is (a subscription, a management group, the tenant root), never
        # through a subscription guessed from --subscription: see definition_read_id.
        try:
            doc = await self._az.arm_json("GET", role_definition_id, {"api-version": RBAC_API},
                                          operation=f"read role definition {role_definition_id}")
            return definition_from_json(doc)
        except AzureCallError as err:
            if not err.not_found:  # a missing definition falls back below; anything else is real
                raise
        builtin = builtin_by_guid(role_guid(role_definition_id))
        if builtin is None:
            return None
        return RoleDefinition(
            id=role_definition_id, name=builtin.guid, role_name=builtin.name, description=builtin.description,
            actions=builtin.actions, not_actions=builtin.not_actions, data_actions=builtin.data_actions,
            not_data_actions=builtin.not_data_actions,
        )
