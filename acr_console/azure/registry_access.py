"""Everything the access analysis needs about one registry, read with as few round trips as the
dependencies allow: assignments (one atScope() call) → role definitions and principals (in
parallel, principals 1000 per request) → assigned groups, one batched round per nesting level."""

from __future__ import annotations

import asyncio

from ..access import analyse
from ..models import PrincipalType, Registry, RegistryAccess
from .authorization import RoleDefinitions, assignments_at
from .clients import AzureClients
from .directory import get_by_ids, group_tree, is_guid, principal_from_json
from .errors import AzureError
from .registries import list_registries


async def read_registry_access(az: AzureClients, registry: Registry, definitions: RoleDefinitions) -> RegistryAccess:
    assignments = await assignments_at(az, registry.id)
    role_ids = list(dict.fromkeys(a.role_definition_id for a in assignments))
    principal_ids = list(dict.fromkeys(a.principal_id.lower() for a in assignments))
    defs, objects = await asyncio.gather(definitions.resolve(role_ids), get_by_ids(az, principal_ids))
    principals = {oid: principal_from_json(doc) for oid, doc in objects.items()}
    assigned_groups = [oid for oid, p in principals.items() if p.type is PrincipalType.GROUP]
    groups, members = await group_tree(az, assigned_groups, objects) if assigned_groups else ({}, {})
    for oid, member in members.items():
        principals.setdefault(oid, member)
    return analyse(registry, assignments, defs, principals, groups)


async def find_registry(az: AzureClients, ref: str) -> Registry:
    """A registry by name, login server or resource id, among the selected subscriptions."""
    wanted = ref.strip().rstrip("/").lower()
    if not wanted:
        raise AzureError("InvalidRegistry", "no registry given: name one by name, login server or resource id", 400)
    listing = await list_registries(az)
    for reg in listing.registries:
        if wanted in (reg.name.lower(), reg.login_server.lower(), reg.id.lower()):
            return reg
    hint = ""
    if listing.errors:
        hint = f" ({len(listing.errors)} subscription(s) could not be read)"
    if is_guid(wanted):
        hint += "; a GUID is not a registry name"
    raise AzureError("ResourceNotFound", f"no registry '{ref}' in the selected subscriptions{hint}", 404)
