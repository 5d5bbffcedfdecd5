"""Everything the access analysis needs about one registry, read with as few round trips as the
dependencies allow: assignments (one atScope() call) → role definitions, principals (1000 per
request) and the assigned groups' members (two batched rounds whatever the nesting depth), all
three at once: an assignment names its principal's type, so the group tree need not wait for
getByIds. A long assignment list is not waited for: each page's lookups start as it arrives, so
only the last page's are left when the list ends."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from ..access import analyse, with_tokens
from ..models import (
    Group,
    Principal,
    PrincipalType,
    Registry,
    RegistryAccess,
    RegistryToken,
    RoleAssignment,
    RoleDefinition,
    ScopeMap,
    TokenPassword,
)
from .authorization import RoleDefinitions, assignment_pages_at
from .clients import AzureClients
from .directory import Tree, get_by_ids, group_tree, is_guid, merge_trees, principal_from_json
from .errors import AzureCallError, translated
from .registries import MAX_CONCURRENT_SUBSCRIPTIONS, list_subscriptions, registry_pages


async def read_registry_access(az: AzureClients, registry: Registry, definitions: RoleDefinitions) -> RegistryAccess:
    """Role-assignment paths, and the registry's tokens read side by side with them (no round trip
    added to the longest chain: the two lists go out with the first page of assignments)."""
    tokens = asyncio.ensure_future(read_registry_tokens(az, registry))
    try:
        access = await _read_role_access(az, registry, definitions)
        return with_tokens(access, *(await tokens))
    finally:
        if not tokens.done():
            tokens.cancel()
        await asyncio.gather(tokens, return_exceptions=True)


async def _read_role_access(az: AzureClients, registry: Registry, definitions: RoleDefinitions) -> RegistryAccess:
    az.prefetch_graph()  # Graph's imports and token load while the assignments are read
    assignments: list[RoleAssignment] = []
    seen_roles: set[str] = set()
    seen_ids: set[str] = set()
    def_tasks: list[asyncio.Future[dict[str, RoleDefinition]]] = []
    id_tasks: list[asyncio.Future[dict[str, dict[str, Any]]]] = []
    tree_tasks: list[asyncio.Future[Tree]] = []
    pages = assignment_pages_at(az, registry.id)
    try:
        async for page in pages:
            assignments += page
            # The first assignment of each role: it says where the role can be read.
            carrying: dict[str, RoleAssignment] = {}
            for a in page:
                carrying.setdefault(a.role_definition_id, a)
            roles = [carrying[rid] for rid in _new(seen_roles, carrying)]
            ids = _new(seen_ids, (a.principal_id.lower() for a in page))
            said_groups = [a.principal_id.lower() for a in page
                           if a.principal_type.lower() == "group" and a.principal_id.lower() in ids]
            if roles:
                def_tasks.append(asyncio.ensure_future(definitions.resolve(roles)))
            if ids:
                id_tasks.append(asyncio.ensure_future(get_by_ids(az, ids)))
            if said_groups:
                tree_tasks.append(asyncio.ensure_future(group_tree(az, list(dict.fromkeys(said_groups)))))
        defs: dict[str, RoleDefinition] = {}
        for found in await asyncio.gather(*def_tasks):
            defs.update(found)
        objects: dict[str, dict[str, Any]] = {}
        for docs in await asyncio.gather(*id_tasks):
            objects.update(docs)
        groups, members = merge_trees(await asyncio.gather(*tree_tasks))
    finally:
        await pages.aclose()  # a failed lookup leaves the list unfinished: its next page is not wanted
        started: list[asyncio.Future[Any]] = [*def_tasks, *id_tasks, *tree_tasks]
        for task in started:
            if not task.done():
                task.cancel()
        await asyncio.gather(*started, return_exceptions=True)  # and collects errors no one awaited
    principals = {oid: principal_from_json(doc) for oid, doc in objects.items()}
    assigned_groups = [oid for oid, p in principals.items() if p.type is PrincipalType.GROUP]
    unsaid = [g for g in assigned_groups if g not in groups]
    if unsaid:  # an assignment without principalType: expand its group now
        groups, members = merge_trees([(groups, members), await group_tree(az, unsaid, objects)])
    groups, members = groups_below(assigned_groups, groups, members, principals)
    for oid, member in members.items():
        principals.setdefault(oid, member)
    return analyse(registry, assignments, defs, principals, groups)


# -- registry tokens and scope maps (issue 13 item 4) ---------------------------------------------

# Codes with which a caller may be unable to read tokens while the rest of the registry reads fine:
# no `tokens/read` or `scopeMaps/read` (a custom role), or a cloud whose API has no tokens. The
# entries are then given without tokens, and say so (RegistryAccess.token_read_error).
_TOKENS_UNREADABLE = {"AuthorizationFailed", "LinkedAuthorizationFailed", "InvalidResourceType",
                      "NoRegisteredProviderFound", "InvalidApiVersionParameter"}


# The api-version of the token and scope-map lists: what azure-mgmt-containerregistry 15.0 sends
# (its `tokens.list` and `scope_maps.list`, which this read used before it read JSON).
TOKENS_API = "2025-11-01"

Item = TypeVar("Item")


async def read_registry_tokens(az: AzureClients, registry: Registry,
                               ) -> tuple[list[RegistryToken], list[ScopeMap], str | None]:
    """The registry's tokens (Tokens - List) and, if any token names a scope map, the scope maps
    (Scope Maps - List), and why they could not be read if that is all that failed.

    Scope maps are read only for a registry with tokens: a scope map gives no right without a token
    (access/tokens.py), and most registries have none, so the tenant-wide report skips one request in
    two (500 of 1,000 on the benchmark tenant) for one round trip more where tokens exist, beside the
    assignment lists and so off the longest chain.

    Read as JSON through the ARM pipeline, as role assignments are: the SDK's models cost ~3 ms of
    CPU a request to build and read (1,000 registries: 2,000 requests, the report's largest share of
    CPU after the analysis), and the SDK 0.2 s to import, for five fields (token_from_json)."""
    base = registry_path(registry)
    name = registry.name

    async def listed(child: str, what: str, parse: Callable[[dict[str, Any]], Item]) -> list[Item]:
        operation = f"list {what} of registry {name}"
        docs = await az.arm_pages(f"{base}/{child}", {"api-version": TOKENS_API}, operation=operation)
        with translated(operation):  # a date that is no date: an error naming the list, as the SDK's was
            return [parse(doc) for doc in docs]

    try:
        found_tokens = await listed("tokens", "tokens", token_from_json)
        found_maps = (await listed("scopeMaps", "scope maps", scope_map_from_json)
                      if any(t.scope_map_id for t in found_tokens) else [])
    except AzureCallError as err:
        if err.code in _TOKENS_UNREADABLE or err.status == 403:
            return [], [], f"{err.code}: {err.message}"
        raise
    return found_tokens, found_maps, None


def registry_path(registry: Registry) -> str:
    """The registry's ARM path, each segment escaped as the SDK escapes it (`Serializer.url`:
    `quote(value, safe="")`): a resource group name may hold parentheses and dots."""
    return (f"/subscriptions/{quote(registry.subscription_id, safe='')}"
            f"/resourceGroups/{quote(registry.resource_group, safe='')}"
            f"/providers/Microsoft.ContainerRegistry/registries/{quote(registry.name, safe='')}")


async def read_token(az: AzureClients, registry: Registry, name: str) -> RegistryToken | None:
    """One token of a registry (Tokens - Get, read as JSON as the lists are), or None when the
    registry has no token of that name."""
    operation = f"read token {name} of registry {registry.name}"
    try:
        doc = await az.arm_json("GET", f"{registry_path(registry)}/tokens/{quote(name, safe='')}",
                                {"api-version": TOKENS_API}, operation=operation)
    except AzureCallError as err:
        if err.not_found:
            return None
        raise
    with translated(operation):
        return token_from_json(doc)


def token_from_json(doc: dict[str, Any]) -> RegistryToken:
    """A token as ARM lists it (azure-rest-api-specs `specification/containerregistry/resource-manager/
    Microsoft.ContainerRegistry/Registry/examples/2025-11-01/TokenList.json`: `properties.scopeMapId`,
    `status`, `credentials.passwords[]` with `name`, `creationTime`, `expiry`), with the dates as the
    SDK's model reads them (arm_time)."""
    props = doc.get("properties") or {}
    credentials = props.get("credentials") or {}
    passwords = tuple(
        TokenPassword(name=str(p["name"]), expiry=arm_time(p.get("expiry")), created=arm_time(p.get("creationTime")))
        for p in (credentials.get("passwords") or []) if p.get("name"))
    return RegistryToken(id=str(doc.get("id")), name=str(doc.get("name")),
                         status=str(props.get("status") or "enabled").lower(), scope_map_id=props.get("scopeMapId"),
                         passwords=tuple(sorted(passwords, key=lambda p: p.name)))


def scope_map_from_json(doc: dict[str, Any]) -> ScopeMap:
    """A scope map as ARM lists it (the same folder's `ScopeMapList.json`: `properties.actions`, `type`,
    `description`)."""
    props = doc.get("properties") or {}
    return ScopeMap(id=str(doc.get("id")), name=str(doc.get("name")), actions=tuple(props.get("actions") or ()),
                    type=str(props.get("type") or "UserDefined"), description=props.get("description"))


def arm_time(value: str | None) -> datetime | None:
    """An ARM date-time (RFC 3339, often with 7 fraction digits, `2017-03-01T23:14:37.0707808Z`) as the
    SDK reads it: digits past the microsecond dropped, `Z` as UTC, no offset left naive. Python 3.11's
    fromisoformat reads that whole form (docs.python.org/3/library/datetime.html#datetime.datetime.fromisoformat)."""
    if not value:
        return None
    return datetime.fromisoformat(value.upper())


def _new(seen: set[str], values: Any) -> list[str]:
    """The values not met before, in order; records them as met."""
    fresh = [v for v in dict.fromkeys(values) if v not in seen]
    seen.update(fresh)
    return fresh


def groups_below(roots: list[str], groups: dict[str, Group], members: dict[str, Principal],
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
    """A registry by name, login server or resource id, among the selected subscriptions.

    Subscriptions are searched side by side, page by page, and the search ends at the first match:
    registry names are unique across Azure (each is a DNS name under azurecr.io), so there is no
    second one to find, and the pages after it would only delay the answer."""
    wanted = ref.strip().rstrip("/").lower()
    if not wanted:
        raise AzureCallError("InvalidRegistry", "no registry given: name one by name, login server or resource id", 400)
    subscriptions = await list_subscriptions(az)
    gate = asyncio.Semaphore(MAX_CONCURRENT_SUBSCRIPTIONS)
    errors: dict[str, AzureCallError] = {}

    async def search(subscription_id: str) -> Registry | None:
        async with gate:
            try:
                async with contextlib.aclosing(registry_pages(az, subscription_id)) as pages:
                    async for page in pages:
                        for reg in page:
                            if wanted in (reg.name.lower(), reg.login_server.lower(), reg.id.lower()):
                                return reg
            except AzureCallError as err:
                errors[subscription_id] = err
        return None

    searches = [asyncio.ensure_future(search(s.id)) for s in subscriptions]
    try:
        for done in asyncio.as_completed(searches):
            found = await done
            if found is not None:
                return found
    finally:
        for task in searches:
            task.cancel()
        await asyncio.gather(*searches, return_exceptions=True)
    hint = ""
    if errors:
        hint = f" ({len(errors)} subscription(s) could not be read)"
    if is_guid(wanted):
        hint += "; a GUID is not a registry name"
    # Resource Manager lists only what the caller may read: absent and unreadable look the same.
    hint += ("; if it exists, the signed-in identity cannot read it (Microsoft.ContainerRegistry/registries/read, "
             "e.g. Reader on the registry)")
    raise AzureCallError("ResourceNotFound", f"no registry '{ref}' in the selected subscriptions{hint}", 404)
