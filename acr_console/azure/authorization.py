"""Reads of Azure RBAC: role assignments at a scope and role definitions (cached per session)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..models import RoleAssignment, RoleDefinition
from ..roles import builtin_by_guid
from .clients import AzureClients
from .errors import AzureError, from_exception


def subscription_of(scope: str) -> str:
    parts = scope.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    raise AzureError("InvalidScope", f"'{scope}' is not inside a subscription", 400)


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


def definition_from_sdk(d: Any) -> RoleDefinition:
    perms = d.permissions or []
    def gather(attr: str) -> tuple[str, ...]:
        return tuple(x for p in perms for x in (getattr(p, attr, None) or []))

    return RoleDefinition(
        id=d.id,
        name=d.name,
        role_name=d.role_name or d.name,
        description=d.description or "",
        custom=(d.role_type or "").lower() == "customrole",
        actions=gather("actions"),
        not_actions=gather("not_actions"),
        data_actions=gather("data_actions"),
        not_data_actions=gather("not_data_actions"),
        assignable_scopes=tuple(d.assignable_scopes or ()),
    )


async def assignments_at(az: AzureClients, scope: str) -> list[RoleAssignment]:
    """Assignments that apply at `scope`: on it and on every scope above it (one paged call)."""
    client = az.authorization_client(subscription_of(scope))
    try:
        return [assignment_from_sdk(a) async for a in client.role_assignments.list_for_scope(scope, filter="atScope()")]
    except Exception as exc:
        raise from_exception(exc, f"list role assignments at {scope}") from None


async def assignments_of(az: AzureClients, subscription_id: str, principal_id: str) -> list[RoleAssignment]:
    """A principal's assignments in a subscription, its groups' included (`assignedTo`)."""
    client = az.authorization_client(subscription_id)
    try:
        return [
            assignment_from_sdk(a)
            async for a in client.role_assignments.list_for_subscription(filter=f"assignedTo('{principal_id}')")
        ]
    except Exception as exc:
        raise from_exception(exc, f"list role assignments of {principal_id}") from None


class RoleDefinitions:
    """Role definitions by id, fetched once per session; built-in data answers when ARM cannot."""

    def __init__(self, az: AzureClients) -> None:
        self._az = az
        self._cache: dict[str, RoleDefinition] = {}
        self._inflight: dict[str, asyncio.Task[RoleDefinition | None]] = {}

    def cached(self) -> dict[str, RoleDefinition]:
        """By lower-case role GUID, the key the analysis uses."""
        return {d.guid: d for d in self._cache.values()}

    async def resolve(self, role_definition_ids: list[str]) -> dict[str, RoleDefinition]:
        wanted = {rid.lower(): rid for rid in role_definition_ids}
        missing = [rid for key, rid in wanted.items() if key not in self._cache]
        for rid in missing:
            key = rid.lower()
            if key not in self._inflight:
                self._inflight[key] = asyncio.ensure_future(self._fetch(rid))
        for rid in missing:
            definition = await self._inflight[rid.lower()]
            if definition is not None:
                self._cache[rid.lower()] = definition
        return {self._cache[k].guid: self._cache[k] for k in wanted if k in self._cache}

    async def _fetch(self, role_definition_id: str) -> RoleDefinition | None:
        try:
            sub = subscription_of(role_definition_id)
        except AzureError:
            sub = self._az.connection.subscriptions[0] if self._az.connection.subscriptions else None
        guid = role_definition_id.rstrip("/").rsplit("/", 1)[-1]
        if sub is not None:
            try:
                d = await self._az.authorization_client(sub).role_definitions.get_by_id(role_definition_id)
                return definition_from_sdk(d)
            except Exception as exc:
                err = from_exception(exc)
                if err.exit_code != 3:  # a missing definition falls back below; anything else is real
                    raise err from None
        builtin = builtin_by_guid(guid)
        if builtin is None:
            return None
        return RoleDefinition(
            id=role_definition_id, name=builtin.guid, role_name=builtin.name, description=builtin.description,
            actions=builtin.actions, not_actions=builtin.not_actions, data_actions=builtin.data_actions,
            not_data_actions=builtin.not_data_actions,
        )
