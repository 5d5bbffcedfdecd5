"""The takeover reads of issue 17 with their tenant-wide half kept for a session.

:func:`~acr_console.azure.takeover_reads.read_takeover_facts` reads two kinds of facts: those of the
registry's own principals (owners, applications, federated credentials) and those that are the same
whatever the registry: the tenant's directory role definitions, the assignments of the roles that can
lead to a credential (with their holders and the members of holder groups) and the application
permissions granted on Microsoft Graph. A session that opens a second registry needs only the first
kind again; this keeps the second from its first read until something may have changed it: a write
run through the console calls :meth:`TakeoverCache.invalidate` (so does "read again", bypassing caches).

A change made elsewhere (the portal, another console) is not seen until then: the same trade the
console's role-definition cache makes (:class:`~acr_console.azure.authorization.RoleDefinitions`).
"""

from __future__ import annotations

import asyncio

from ..models import DirectoryFacts, RegistryAccess
from .clients import AzureClients
from .takeover_reads import (
    OwnerFacts,
    ReadCount,
    join_facts,
    read_owner_facts,
    read_tenant_facts,
    takeable_principals,
)


class TakeoverCache:
    """The tenant-wide directory facts, read once and shared until :meth:`invalidate`.

    Concurrent readers wait for the same read; a read that failed is not kept (the next one tries
    again). ``tenant_reads`` counts the tenant-wide reads started, for tests and benchmarks."""

    def __init__(self, *, keep_owners: bool = False) -> None:
        self._tenant: asyncio.Future[DirectoryFacts] | None = None
        self.tenant_reads = 0
        # keep_owners: the principals' own facts are kept too, so a principal holding rights on many
        # registries is read once (the whole-tenant report); the console reads them per view.
        self._keep_owners = keep_owners
        self._owners = OwnerFacts({}, {}, {}, {})
        self._owners_read: set[str] = set()

    def invalidate(self) -> None:
        """Forget the tenant-wide facts (a read under way too: it may have read what a write changed):
        the next read fetches them again."""
        self._tenant = None
        self._owners = OwnerFacts({}, {}, {}, {})
        self._owners_read = set()

    def refresh(self, since: int) -> None:
        """A "read again" that began when ``tenant_reads`` was ``since``: forget the tenant-wide facts
        unless a read has started since (several views read again after a write then share one)."""
        if self.tenant_reads == since:
            self.invalidate()

    @property
    def holds(self) -> bool:
        """Whether a tenant-wide read is kept (or under way)."""
        future = self._tenant
        return future is not None and not (future.done() and (future.cancelled() or future.exception() is not None))

    async def tenant_facts(self, az: AzureClients, count: ReadCount) -> DirectoryFacts:
        if not self.holds:
            self.tenant_reads += 1
            self._tenant = asyncio.ensure_future(read_tenant_facts(az, count))
        assert self._tenant is not None
        # Shielded: a reader that is cancelled (its screen closed) does not cancel the read others await.
        return await asyncio.shield(self._tenant)

    async def read(self, az: AzureClients, access: RegistryAccess,
                   count: ReadCount | None = None) -> tuple[RegistryAccess, DirectoryFacts]:
        """What :func:`~acr_console.azure.takeover_reads.read_takeover_facts` returns for ``access``, the
        tenant-wide half from the cache. On a miss both halves are read side by side, in the same wave
        (no round trip is added)."""
        count = count if count is not None else ReadCount()
        tenant_count, own_count = ReadCount(), ReadCount()
        cached = self.holds
        principals = takeable_principals(access)
        wanted = principals
        if self._keep_owners:
            wanted = [p for p in principals if (p.object_id or "").lower() not in self._owners_read]
        tenant, own = await asyncio.gather(self.tenant_facts(az, tenant_count),
                                           read_owner_facts(az, wanted, own_count))
        count.add(own_count, *(() if cached else (tenant_count,)))
        if self._keep_owners:
            self._owners_read.update((p.object_id or "").lower() for p in wanted)
            self._owners = self._owners.merged(own)
            # This registry's principals only: the facts (and the index built on them) stay the size
            # of one registry, not of every registry read so far.
            own = self._owners.of(principals)
        return join_facts(access, tenant, own)
