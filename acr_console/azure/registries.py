"""Reads of subscriptions and container registries.

Registries are listed as JSON through the ARM pipeline (`AzureClients.arm_pages`): the
containerregistry SDK's models cost about 1.3 ms per registry to deserialize (0.65 s of event-loop
time for 500 registries) and 0.1 s to import, for five fields.

The api-version. Registries are read at `REGISTRIES_API`, the first stable version whose answer
states both `roleAssignmentMode` and `anonymousPullEnabled` (azure-rest-api-specs, as generated in
Azure/bicep-types-az `containerregistry_0/microsoft.containerregistry/<version>/types.md`). A cloud or
region that does not serve it yet (China and US Government are not known to; uksouth served nothing
newer than 2023-11-01-preview in November 2024, AzGovViz#266) refuses it with 400
`NoRegisteredProviderFound` ("… The supported api-versions are 'v1, v2, …'", Azure/acr#70) or
`InvalidApiVersionParameter` ("The supported versions are 'v1,v2,…'", Azure/azure-cli#25572). The
read then falls back:
1. to the best version of the list in ARM's message, best meaning, in this order: states
   `roleAssignmentMode`, states `anonymousPullEnabled`, stable rather than preview, newest;
2. when the message lists none, to the next of `FALLBACK_ORDER` (stable versions only: previews are
   retired).
Which versions state which property follows from their dates (`states`). The version that worked is
kept for the session (`AzureClients.learnt`): a lagging cloud costs one extra round trip for the
first registry list, not one per list. While the first list of a session is finding its version, the
others wait for it, so they never spend a round trip on a version already refused.

A registry whose answer does not state `roleAssignmentMode` is "mode unknown"
(`RoleAssignmentMode.UNKNOWN`), never legacy: an absent property says nothing about the mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from ..access.resource_ids import try_parse_resource_id
from ..models import Registry, RoleAssignmentMode, Subscription
from .clients import AzureClients
from .errors import AzureCallError

SUBSCRIPTIONS_API = "2022-12-01"
REGISTRIES_API = "2025-11-01"  # what azure-mgmt-containerregistry 15.0 sends
# Tried in this order when a refusal lists no versions: newest stable first, each with less.
FALLBACK_ORDER = ("2025-11-01", "2025-04-01", "2023-07-01", "2022-12-01", "2021-09-01", "2019-05-01",
                  "2017-10-01")
# ARM's codes for an api-version it does not serve for the type.
VERSION_REFUSED = frozenset({"NoRegisteredProviderFound", "InvalidApiVersionParameter"})
_LISTED = re.compile(r"The supported (?:api-)?versions are '([^']*)'")
_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?$")
_LEARNT_KEY = "registries.api-version"
# Subscriptions read side by side (their registry lists, the tenant read's assignment lists, revoke's
# assignedTo() lists). ARM throttles reads per security principal and subscription ("Understand how
# Azure Resource Manager throttles requests", learn.microsoft.com/azure/azure-resource-manager/
# management/request-limits-and-throttling), so more subscriptions at once spend no shared budget;
# each subscription's list is a chain of pages, and in waves (16 at once) large:20000's 58
# subscriptions paid four chains instead of one (benchmarks/tenant_report.py, revoke.py). Bounded
# below the client's 64 connections (clients.MAX_CONNECTIONS) so that other reads still find some,
# and so that a tenant with hundreds of subscriptions does not open hundreds at once.
MAX_CONCURRENT_SUBSCRIPTIONS = 48


@dataclass
class RegistryListing:
    subscriptions: list[Subscription]
    registries: list[Registry]
    # A subscription that could not be read does not hide the others.
    errors: dict[str, AzureCallError] = field(default_factory=dict)


def states(version: str) -> tuple[bool, bool]:
    """(roleAssignmentMode, anonymousPullEnabled): whether a registry read at `version` states them.

    From the specs' tables (module docstring): roleAssignmentMode from 2025-03-01-preview and, among
    stable versions, 2025-11-01; anonymousPullEnabled from 2020-11-01-preview and, among stable
    versions, 2025-04-01 (2021-09-01, 2022-12-01 and 2023-07-01 lack it). A version not of the form
    YYYY-MM-DD[-preview] states neither."""
    m = _VERSION.match(version)
    if m is None:
        return (False, False)
    day, preview = m.group(1), bool(m.group(2))
    if preview:
        return (day >= "2025-03-01", day >= "2020-11-01")
    return (day >= "2025-11-01", day >= "2025-04-01")


def _rank(version: str) -> tuple[bool, bool, bool, str]:
    mode, anonymous = states(version)
    return (mode, anonymous, not version.endswith("-preview"), version)


def refused_version(err: AzureCallError) -> bool:
    """Whether ARM refused the request's api-version (rather than the request)."""
    return err.code in VERSION_REFUSED


def listed_versions(err: AzureCallError) -> list[str]:
    """The api-versions a refusal says are served, in ARM's order; [] when it names none."""
    m = _LISTED.search(err.message)
    if m is None:
        return []
    return [v for v in (part.strip() for part in m.group(1).split(",")) if _VERSION.match(v)]


def next_version(refused: set[str], err: AzureCallError) -> str | None:
    """The version to try after `refused` (every version refused so far), per the module docstring."""
    listed = [v for v in listed_versions(err) if v not in refused]
    if listed:
        return max(listed, key=_rank)
    if listed_versions(err):
        return None  # ARM named what it serves and every one was tried: nothing else will do
    return next((v for v in FALLBACK_ORDER if v not in refused), None)


class _VersionMemory:
    """The registry api-version of one session: a guess until an answer confirms it."""

    def __init__(self) -> None:
        self.version = REGISTRIES_API
        self.confirmed = False
        self.refused: set[str] = set()
        self._probe: asyncio.Future[None] | None = None

    async def acquire(self) -> tuple[str, bool]:
        """(version to try, whether this reader is the one finding it out). Until a version is
        confirmed, one reader at a time tries; the others wait for its answer."""
        while not self.confirmed:
            if self._probe is None or self._probe.done():
                self._probe = asyncio.get_running_loop().create_future()
                return self.version, True
            await asyncio.shield(self._probe)
        return self.version, False

    def refuse(self, version: str, err: AzureCallError) -> str | None:
        self.refused.add(version)
        following = next_version(self.refused, err)
        if following is not None and self.version == version:
            self.version = following
        return following

    def confirm(self, version: str) -> None:
        self.version, self.confirmed = version, True
        self.release()

    def release(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.set_result(None)


def registry_api_version(az: AzureClients) -> str:
    """The registry api-version this session reads at: the one a registry list confirmed, else the
    newest. For SDK clients of the same provider (their `api_version=`)."""
    memory = az.learnt.get(_LEARNT_KEY)
    return memory.version if isinstance(memory, _VersionMemory) else REGISTRIES_API


def _memory(az: AzureClients) -> _VersionMemory:
    memory = az.learnt.get(_LEARNT_KEY)
    if not isinstance(memory, _VersionMemory):
        memory = az.learnt[_LEARNT_KEY] = _VersionMemory()
    return memory


def registry_from_json(doc: dict[str, Any]) -> Registry:
    parsed = try_parse_resource_id(doc["id"])
    props = doc.get("properties") or {}
    return Registry(
        id=doc["id"],
        name=doc["name"],
        login_server=props.get("loginServer") or "",
        resource_group=(parsed.resource_group if parsed is not None else None) or "",
        subscription_id=(parsed.subscription if parsed is not None else None) or "",
        location=doc.get("location") or "",
        sku=str((doc.get("sku") or {}).get("name") or ""),
        admin_user_enabled=bool(props.get("adminUserEnabled")),
        role_assignment_mode=RoleAssignmentMode.parse(props.get("roleAssignmentMode")),
        anonymous_pull_enabled=bool(props.get("anonymousPullEnabled")),
    )


async def list_subscriptions(az: AzureClients) -> list[Subscription]:
    """Subscriptions the identity can see, narrowed to the connection's selection if it has one."""
    items = await az.arm_pages("/subscriptions", {"api-version": SUBSCRIPTIONS_API}, operation="list subscriptions")
    subs = [
        Subscription(id=i["subscriptionId"], display_name=i.get("displayName") or i["subscriptionId"],
                     tenant_id=i.get("tenantId"), state=i.get("state", "Enabled"))
        for i in items
    ]
    wanted = {s.lower() for s in az.connection.subscriptions}
    if wanted:
        subs = [s for s in subs if s.id.lower() in wanted]
        missing = wanted - {s.id.lower() for s in subs}
        if missing:
            raise AzureCallError("SubscriptionNotFound",
                             f"subscription {', '.join(sorted(missing))} is not visible to the signed-in identity; "
                             "check --subscription and the tenant", 404)
    return sorted(subs, key=lambda s: s.display_name.lower())


async def registries_in(az: AzureClients, subscription_id: str) -> list[Registry]:
    return [reg async for page in registry_pages(az, subscription_id) for reg in page]


async def registry_pages(az: AzureClients, subscription_id: str) -> AsyncGenerator[list[Registry], None]:
    """A subscription's registries a page at a time, for a search that can stop at its answer; at
    the api-version this cloud serves (module docstring)."""
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.ContainerRegistry/registries"
    operation = f"list registries in {subscription_id}"
    memory = _memory(az)
    version, finding = await memory.acquire()
    try:
        while True:
            async with contextlib.aclosing(az.arm_page_stream(path, {"api-version": version},
                                                              operation=operation)) as pages:
                try:
                    first = await anext(pages)
                except AzureCallError as err:
                    following = memory.refuse(version, err) if refused_version(err) else None
                    if following is None:
                        raise
                    version = following
                    continue
                if finding or version != memory.version:
                    memory.confirm(version)
                    finding = False
                yield [registry_from_json(doc) for doc in first]
                async for items in pages:
                    yield [registry_from_json(doc) for doc in items]
            return
    finally:
        if finding:  # failed or abandoned before an answer: let a waiting reader try
            memory.release()


async def list_registries(az: AzureClients, subscriptions: list[Subscription] | None = None) -> RegistryListing:
    subs = subscriptions if subscriptions is not None else await list_subscriptions(az)
    gate = asyncio.Semaphore(MAX_CONCURRENT_SUBSCRIPTIONS)

    async def one(sub: Subscription) -> list[Registry] | AzureCallError:
        async with gate:
            try:
                return await registries_in(az, sub.id)
            except AzureCallError as err:
                return err

    results = await asyncio.gather(*(one(s) for s in subs))
    listing = RegistryListing(subscriptions=subs, registries=[])
    for sub, result in zip(subs, results, strict=True):
        if isinstance(result, AzureCallError):
            listing.errors[sub.id] = result
        else:
            listing.registries.extend(result)
    order = {s.id: i for i, s in enumerate(subs)}
    listing.registries.sort(key=lambda r: (order.get(r.subscription_id, len(order)), r.name.lower()))
    return listing


async def get_registry(az: AzureClients, registry_id: str) -> Registry | None:
    """One registry as Azure answers now (`GET` of its id, at the api-version this session's registry
    list settled on), or None when it is gone."""
    try:
        doc = await az.arm_json("GET", registry_id, {"api-version": registry_api_version(az)},
                                operation=f"read registry {registry_id}")
    except AzureCallError as err:
        if err.not_found:
            return None
        raise
    return registry_from_json(doc)
