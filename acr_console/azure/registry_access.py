"""Everything the access analysis needs about one registry, read with as few round trips as the
dependencies allow: assignments (one atScope() call) → role definitions, principals (1000 per
request) and the assigned groups' members (two batched rounds whatever the nesting depth), all
three at once: an assignment names its principal's type, so the group tree need not wait for
getByIds."""

from __future__ import annotations

import asyncio
import dataclasses

from ..access import analyse
from ..models import Group, Principal, PrincipalType, Registry, RegistryAccess
from .authorization import RoleDefinitions, assignments_at
from .clients import AzureClients
from .directory import get_by_ids, group_tree, is_guid, principal_from_json
from .errors import AzureError
from .registries import list_registries


async def read_registry_access(az: AzureClients, registry: Registry, definitions: RoleDefinitions) -> RegistryAccess:
    az.prefetch_graph()  # Graph's imports and token load while the assignments are read
    assignments = await assignments_at(az, registry.id)
    role_ids = list(dict.fromkeys(a.role_definition_id for a in assignments))
    principal_ids = list(dict.fromkeys(a.principal_id.lower() for a in assignments))
    said_groups = list(dict.fromkeys(a.principal_id.lower() for a in assignments
                                     if a.principal_type.lower() == "group"))
    tree = asyncio.ensure_future(group_tree(az, said_groups)) if said_groups else None
    try:
        defs, objects = await asyncio.gather(definitions.resolve(role_ids), get_by_ids(az, principal_ids))
        groups, members = await tree if tree is not None else ({}, {})
    finally:
        if tree is not None and not tree.done():
            tree.cancel()
            await asyncio.gather(tree, return_exceptions=True)
    principals = {oid: principal_from_json(doc) for oid, doc in objects.items()}
    assigned_groups = [oid for oid, p in principals.items() if p.type is PrincipalType.GROUP]
    unsaid = [g for g in assigned_groups if g not in groups]
    if unsaid:  # an assignment without principalType: expand its group now
        more_groups, more_members = await group_tree(az, unsaid, objects)
        groups.update(more_groups)
        members.update(more_members)
    groups, members = _below(assigned_groups, groups, members, principals)
    for oid, member in members.items():
        principals.setdefault(oid, member)
    return analyse(registry, assignments, defs, principals, groups)


def _below(roots: list[str], groups: dict[str, Group], members: dict[str, Principal],
           principals: dict[str, Principal]) -> tuple[dict[str, Group], dict[str, Principal]]:
    """What hangs below the groups the directory confirms were assigned: a principalType that is
    wrong must not bring in a tree, and the assigned groups get the directory's names."""
    kept: dict[str, Group] = {}
    frontier = [g for g in roots if g in groups]
    while frontier:
        nxt: list[str] = []
        for gid in frontier:
            if gid in kept:
                continue
            group = groups[gid]
            if gid in principals:
                group = dataclasses.replace(group, display_name=principals[gid].display_name)
            kept[gid] = group
            nxt += [m for m in group.member_ids if m in groups and m not in kept]
        frontier = nxt
    reachable = {m for g in kept.values() for m in g.member_ids}
    return kept, {oid: p for oid, p in members.items() if oid in reachable}


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
    # Resource Manager lists only what the caller may read: absent and unreadable look the same.
    hint += ("; if it exists, the signed-in identity cannot read it (Microsoft.ContainerRegistry/registries/read, "
             "e.g. Reader on the registry)")
    raise AzureError("ResourceNotFound", f"no registry '{ref}' in the selected subscriptions{hint}", 404)
