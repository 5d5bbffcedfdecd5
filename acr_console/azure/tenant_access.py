"""Every visible registry's access, read for the whole tenant at once (issue 18): what
`read_registry_access` gives for each registry, for a fraction of the requests and time of one call
per registry.

The reads, and why they are enough:
- **Role assignments once per subscription**, unfiltered at the subscription's scope. Without a
  `$filter`, Role Assignments - List For Scope returns the assignments at, above and below the scope
  ("List Azure role assignments using the REST API", learn.microsoft.com/azure/role-based-access-control/
  role-assignments-list-rest; azure-rest-api-specs `specification/authorization/resource-manager/
  Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json`,
  `RoleAssignments_ListForScope`, whose `$filter` text says `atScope()` narrows it to "at or above").
  So one list holds, for every registry of the subscription, what `atScope()` at that registry returns:
  the management-group and root assignments above the subscription (what sits above it, hence above
  its registries), the subscription's own, and those on resource groups and registries below it. Only
  those at or above some registry of the subscription are kept; the rest (assignments on virtual
  machines, storage accounts…) are dropped as each page arrives.
- **One directory pass**: the principals those assignments name are read with `getByIds` (1,000 a
  request) as they accumulate over every subscription's pages, each id once for the tenant; the
  assigned groups are expanded (`group_tree`) once each, whichever registries they are assigned on.
  Role definitions go through the session's `RoleDefinitions`, once per role.
- **Tokens per registry** (and its scope maps after them where it has tokens), side by side (at most
  `MAX_CONCURRENT_TOKEN_READS` registries at once), started as soon as a subscription's registry list
  arrives, beside the assignment pages.

Then, per registry, the same pure analysis as one `access` (`analyse`, `with_tokens`), on the same
inputs: the assignments at or above it in the list's order, the principals they name, and the group
trees below its own assigned groups (`registry_access.groups_below`). A registry is yielded as soon as its
subscription's reads and its own tokens are complete: the first can be written out while other
subscriptions' assignments are still being read. Order: as the registries complete (within one
subscription, the subscription's registry order).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..access import analyse, with_tokens
from ..access.resource_ids import MANAGEMENT_GROUPS_PREFIX
from ..access.scopes import normalise_scope
from ..models import Group, Principal, PrincipalType, Registry, RegistryAccess, RoleAssignment, RoleDefinition
from .authorization import RBAC_API, RoleDefinitions, assignment_from_json
from .clients import AzureClients
from .directory import GET_BY_IDS_LIMIT, Tree, get_by_ids, group_tree, merge_trees, principal_from_json
from .errors import AzureCallError
from .registries import MAX_CONCURRENT_SUBSCRIPTIONS, list_subscriptions, registries_in
from .registry_access import groups_below, read_registry_tokens

# Tokens: one request a registry (two with tokens), TOKEN_READS_BESIDE_LISTS registries at once while
# any subscription's assignment list is still being read (beside MAX_CONCURRENT_SUBSCRIPTIONS' 48
# lists, within clients.MAX_CONNECTIONS), MAX_CONCURRENT_TOKEN_READS once they are all in.
# Measured on large:20000 (58 subscriptions) at 50 ms, two runs each, when every registry cost two
# requests over the former httpx transport: 4 then 16 at once 8.8–9.5 s; 8 then 24 7.8–7.9 s; 12 then
# 24 8.0 s; 24 then 32 7.8–7.9 s. Beyond 8 then 24 the report is bound by this process's CPU, not by
# round trips (benchmarks/tenant_report.py: wall at 50 ms against wall at 0 ms), and still is.
MAX_CONCURRENT_TOKEN_READS = 24
TOKEN_READS_BESIDE_LISTS = 8

# What principal_from_json reads (and group_tree's names).
_PRINCIPAL_FIELDS = ("id", "@odata.type", "displayName", "userPrincipalName", "appId", "servicePrincipalType",
                     "accountEnabled")

Progress = Callable[[int, int], None]  # (registries done, registries known so far)


async def subscription_assignment_pages(az: AzureClients, subscription_id: str,
                                        ) -> AsyncGenerator[list[RoleAssignment], None]:
    """Every assignment at, above and below a subscription (no `$filter`: module docstring), a page
    at a time as ARM answers."""
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments"
    async with contextlib.aclosing(az.arm_page_stream(
            path, {"api-version": RBAC_API},
            operation=f"list role assignments in subscription {subscription_id}")) as pages:
        async for items in pages:
            yield [assignment_from_json(doc) for doc in items]


def _prefixes(resource_id: str) -> list[str]:
    """The normalised scope of `resource_id` and of every id above it inside its subscription."""
    parts = normalise_scope(resource_id).strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(2, len(parts) + 1, 2)]


def _above_subscriptions(scope: str) -> bool:
    """The root and management groups: listed at a subscription only when they sit above it."""
    return scope == "/" or scope.startswith(MANAGEMENT_GROUPS_PREFIX)


class _Directory:
    """The tenant's one directory pass: each principal id read once (getByIds, batched up to the
    request's limit), each assigned group's tree expanded once, shared by every subscription."""

    def __init__(self, az: AzureClients) -> None:
        self._az = az
        # By id: the getByIds request that reads it; None while it waits for a full request.
        self._objects: dict[str, asyncio.Future[dict[str, dict[str, Any]]] | None] = {}
        self._waiting: list[str] = []
        self._trees: dict[str, asyncio.Future[Tree]] = {}
        self._parsed: dict[str, Principal] = {}
        self.tasks: list[asyncio.Future[Any]] = []

    def want(self, ids: Iterable[str]) -> None:
        for oid in ids:
            if oid not in self._objects:
                self._objects[oid] = None
                self._waiting.append(oid)
        while len(self._waiting) >= GET_BY_IDS_LIMIT:
            self._send(self._waiting[:GET_BY_IDS_LIMIT])
            self._waiting = self._waiting[GET_BY_IDS_LIMIT:]

    def flush(self) -> None:
        """Send what is waiting: a subscription's list ended, and its registries need the answer."""
        if self._waiting:
            self._send(self._waiting)
            self._waiting = []

    def _send(self, chunk: list[str]) -> None:
        future = asyncio.ensure_future(self._slim_by_ids(chunk))
        self.tasks.append(future)
        for oid in chunk:
            self._objects[oid] = future

    async def _slim_by_ids(self, chunk: list[str]) -> dict[str, dict[str, Any]]:
        """getByIds' documents cut to what a Principal is made of: the whole tenant's are kept until
        the last subscription is done, and their credentials and names lists would double the memory."""
        docs = await get_by_ids(self._az, chunk)
        return {oid: {k: doc[k] for k in _PRINCIPAL_FIELDS if k in doc} for oid, doc in docs.items()}

    def want_groups(self, group_ids: Iterable[str], known: dict[str, dict[str, Any]] | None = None) -> None:
        fresh = [g for g in dict.fromkeys(group_ids) if g not in self._trees]
        if fresh:
            future = asyncio.ensure_future(group_tree(self._az, fresh, known))
            self.tasks.append(future)
            for gid in fresh:
                self._trees[gid] = future

    async def objects(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The directory's documents for `ids` (absent: unknown to the directory)."""
        self.flush()
        wanted = list(ids)
        futures = {id(f): f for f in (self._objects[i] for i in wanted) if f is not None}
        found: dict[str, dict[str, Any]] = {}
        for docs in await asyncio.gather(*futures.values()):
            found.update(docs)
        return {i: found[i] for i in wanted if i in found}

    async def trees(self, group_ids: Iterable[str]) -> Tree:
        futures = {id(f): f for f in (self._trees[g] for g in group_ids)}
        return merge_trees(await asyncio.gather(*futures.values()))

    def principal(self, oid: str, doc: dict[str, Any]) -> Principal:
        parsed = self._parsed.get(oid)
        if parsed is None:
            parsed = self._parsed[oid] = principal_from_json(doc)
        return parsed


@dataclass
class _SubscriptionRead:
    """One subscription's assignments that bear on its registries, and what they need."""

    registries: list[Registry]
    by_scope: dict[str, list[tuple[int, RoleAssignment]]] = field(default_factory=dict)
    definitions: dict[str, RoleDefinition] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    members: dict[str, Principal] = field(default_factory=dict)

    def assignments_for(self, registry: Registry) -> list[RoleAssignment]:
        """The subscription list's assignments at or above `registry`, in the list's order (what
        `atScope()` at the registry returns)."""
        found: list[tuple[int, RoleAssignment]] = []
        for scope in ("/", MANAGEMENT_GROUPS_PREFIX, *_prefixes(registry.id)):
            found += self.by_scope.get(scope, ())
        found.sort(key=lambda pair: pair[0])
        return [a for _, a in found]


async def _read_subscription(registries: list[Registry], pages: AsyncGenerator[list[RoleAssignment], None],
                             first: asyncio.Future[list[RoleAssignment]], definitions: RoleDefinitions,
                             directory: _Directory) -> _SubscriptionRead:
    """The subscription's assignment list (its first page asked for beside the registry list) and
    everything its pages name, looked up as the pages arrive."""
    read = _SubscriptionRead(registries)
    relevant = {p for reg in registries for p in _prefixes(reg.id)}
    seen_roles: set[str] = set()
    said_groups: set[str] = set()
    ids: list[str] = []
    def_tasks: list[asyncio.Future[dict[str, RoleDefinition]]] = []
    index = 0

    async def every_page() -> AsyncGenerator[list[RoleAssignment], None]:
        try:
            yield await first
        except StopAsyncIteration:
            return
        async for page in pages:
            yield page

    try:
        async with contextlib.aclosing(every_page()) as stream:
            async for page in stream:
                kept: list[RoleAssignment] = []
                for a in page:
                    scope = normalise_scope(a.scope)
                    if _above_subscriptions(scope):
                        key = "/" if scope == "/" else MANAGEMENT_GROUPS_PREFIX
                    elif scope in relevant:
                        key = scope
                    else:
                        continue  # on something that is no registry and holds none
                    read.by_scope.setdefault(key, []).append((index, a))
                    index += 1
                    kept.append(a)
                carrying: dict[str, RoleAssignment] = {}
                for a in kept:
                    carrying.setdefault(a.role_definition_id, a)
                roles = [carrying[rid] for rid in carrying if rid not in seen_roles]
                seen_roles.update(carrying)
                if roles:
                    def_tasks.append(asyncio.ensure_future(definitions.resolve(roles)))
                page_ids = [a.principal_id.lower() for a in kept]
                ids += page_ids
                directory.want(page_ids)
                groups = [a.principal_id.lower() for a in kept if a.principal_type.lower() == "group"]
                said_groups.update(groups)
                directory.want_groups(groups)
        directory.flush()
        for found in await asyncio.gather(*def_tasks):
            read.definitions.update(found)
        objects = await directory.objects(dict.fromkeys(ids))
        read.principals = {oid: directory.principal(oid, doc) for oid, doc in objects.items()}
        assigned_groups = [oid for oid, p in read.principals.items() if p.type is PrincipalType.GROUP]
        unsaid = [g for g in assigned_groups if g not in said_groups]
        if unsaid:  # an assignment without principalType: expand its group now
            directory.want_groups(unsaid, objects)
        read.groups, read.members = await directory.trees(assigned_groups)
    finally:
        for task in def_tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*def_tasks, return_exceptions=True)
    return read


def _analyse(registry: Registry, read: _SubscriptionRead,
             tokens: tuple[Any, Any, str | None]) -> RegistryAccess:
    """What `read_registry_access` computes, from the subscription's shared reads."""
    assignments = read.assignments_for(registry)
    principals = {oid: read.principals[oid] for oid in dict.fromkeys(a.principal_id.lower() for a in assignments)
                  if oid in read.principals}
    assigned_groups = [oid for oid, p in principals.items() if p.type is PrincipalType.GROUP]
    groups, members = groups_below(assigned_groups, read.groups, read.members, principals)
    for oid, member in members.items():
        principals.setdefault(oid, member)
    access = analyse(registry, assignments, read.definitions, principals, groups)
    return with_tokens(access, *tokens)


async def iter_tenant_access(az: AzureClients, definitions: RoleDefinitions, *,
                             registries: list[Registry] | None = None,
                             progress: Progress | None = None,
                             errors: dict[str, AzureCallError] | None = None,
                             ) -> AsyncGenerator[RegistryAccess, None]:
    """Each visible registry's access (or each of `registries`), as soon as it is complete.

    `progress(done, known)` is called as registries are found and finished. A subscription whose
    registries cannot be listed is left out and its error put in `errors` (as the registry list
    does); any other failure ends the iteration with its AzureCallError."""
    az.prefetch_graph()  # Graph's imports and token load while ARM is read
    directory = _Directory(az)
    # One registry at a time: the reader writes each out before the next is analysed, and a tenant's
    # worth of analyses never waits in memory.
    out: asyncio.Queue[RegistryAccess | BaseException | None] = asyncio.Queue(maxsize=1)
    gate = asyncio.Semaphore(MAX_CONCURRENT_SUBSCRIPTIONS)
    token_gate = asyncio.Semaphore(TOKEN_READS_BESIDE_LISTS)
    counts = {"known": 0, "done": 0, "lists": 0}

    def list_done() -> None:
        """A subscription's assignment list is read (or will not be): the last one widens the token reads."""
        counts["lists"] -= 1
        if counts["lists"] == 0:
            for _ in range(MAX_CONCURRENT_TOKEN_READS - TOKEN_READS_BESIDE_LISTS):
                token_gate.release()

    def tell() -> None:
        if progress is not None:
            progress(counts["done"], counts["known"])

    async def tokens_of(reg: Registry) -> tuple[Any, Any, str | None]:
        async with token_gate:
            return await read_registry_tokens(az, reg)

    async def one_subscription(subscription_id: str, given: list[Registry] | None) -> None:
        listed = False
        async with gate:
            listing = asyncio.ensure_future(registries_in(az, subscription_id)) if given is None else None
            pages = subscription_assignment_pages(az, subscription_id)
            # The assignment list does not wait for the registry list: both first pages go out at once.
            first: asyncio.Future[list[RoleAssignment]] = asyncio.ensure_future(anext(pages))
            token_tasks: list[asyncio.Future[tuple[Any, Any, str | None]]] = []
            try:
                try:
                    regs = given if listing is None else await listing
                except AzureCallError as err:
                    if errors is not None:
                        errors[subscription_id] = err
                    return
                if not regs:
                    return
                counts["known"] += len(regs)
                tell()
                token_tasks = [asyncio.ensure_future(tokens_of(reg)) for reg in regs]
                read = await _read_subscription(regs, pages, first, definitions, directory)
                listed = True
                list_done()
                by_task = dict(zip(token_tasks, regs, strict=True))
                pending = set(token_tasks)
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in sorted(done, key=lambda t: regs.index(by_task[t])):
                        # One at a time (the queue holds one): each is written before the next is analysed.
                        await out.put(_analyse(by_task[task], read, task.result()))
            finally:
                own: list[asyncio.Future[Any]] = [t for t in (listing, first, *token_tasks) if t is not None]
                for future in own:
                    if not future.done():
                        future.cancel()
                await asyncio.gather(*own, return_exceptions=True)
                await pages.aclose()
                if not listed:  # no list (no registries, an error, cancelled): it waits on nothing more
                    list_done()

    async def run() -> None:
        work: list[asyncio.Future[None]] = []
        try:
            if registries is not None:
                by_sub: dict[str, list[Registry]] = {}
                for reg in registries:
                    by_sub.setdefault(reg.subscription_id, []).append(reg)
                work = [asyncio.ensure_future(one_subscription(sub, regs)) for sub, regs in by_sub.items()]
            else:
                work = [asyncio.ensure_future(one_subscription(s.id, None)) for s in await list_subscriptions(az)]
            counts["lists"] = len(work)
            await asyncio.gather(*work)
            await out.put(None)
        except BaseException as exc:  # handed to the reader, who raises it
            for task in work:  # the other subscriptions' reads are not wanted any more
                task.cancel()
            await asyncio.gather(*work, return_exceptions=True)
            if not isinstance(exc, Exception):  # a cancellation (the reader left) ends this task too
                raise
            await out.put(exc)

    runner = asyncio.ensure_future(run())
    try:
        while True:
            item = await out.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            counts["done"] += 1
            tell()
            yield item
        await runner
    finally:
        started: list[asyncio.Future[Any]] = [runner, *directory.tasks]
        for task in started:
            if not task.done():
                task.cancel()
        await asyncio.gather(*started, return_exceptions=True)  # and collects errors no one awaited


async def read_tenant_access(az: AzureClients, definitions: RoleDefinitions, *,
                             registries: list[Registry] | None = None,
                             progress: Progress | None = None) -> list[RegistryAccess]:
    """`iter_tenant_access` gathered into a list."""
    return [access async for access in iter_tenant_access(az, definitions, registries=registries,
                                                          progress=progress)]
