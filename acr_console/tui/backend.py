"""The reads the screens need, over the azure layer, with the little session state they share.

Screens never hold SDK clients: they call these coroutines from async workers running on the app's
loop (the httpx clients inside AzureClients are bound to that loop). Holding the RoleDefinitions
cache and the last registry listing here means opening a second registry costs no role reads and the
`:`/palette lookups by name need no round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..models import (
    DirectoryFacts,
    Principal,
    PrincipalDetail,
    PrincipalType,
    Registry,
    RegistryAccess,
    SignedInIdentity,
)

if TYPE_CHECKING:
    from ..azure.authorization import RoleDefinitions
    from ..azure.clients import AzureClients
    from ..azure.connection import Connection
    from ..azure.findings_scan import FindingsScan
    from ..azure.principals import ExpiringCredential
    from ..azure.registries import RegistryListing
    from ..azure.takeover_cache import TakeoverCache
    from ..azure.takeover_reads import OwnerFacts, ReadCount
    from ..models import FindingSettings


@dataclass(frozen=True, slots=True)
class KnownPrincipal:
    """A principal met while reading access: enough to offer it in the palette."""

    object_id: str
    display_name: str
    app_id: str | None
    type: PrincipalType


@dataclass(frozen=True, slots=True)
class AuditRecords:
    """The audit file and its records, newest first."""

    path: str
    records: list[dict[str, Any]]


class Backend:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._az: AzureClients | None = None
        self._definitions: RoleDefinitions | None = None
        self.listing: RegistryListing | None = None
        self._listing_task: asyncio.Future[RegistryListing] | None = None
        self.principals: dict[str, KnownPrincipal] = {}
        self._takeover: TakeoverCache | None = None

    @property
    def az(self) -> AzureClients:
        if self._az is None:
            from ..azure.clients import AzureClients

            self._az = AzureClients(self.connection)
        return self._az

    @property
    def definitions(self) -> RoleDefinitions:
        if self._definitions is None:
            from ..azure.authorization import RoleDefinitions

            self._definitions = RoleDefinitions(self.az)
        return self._definitions

    async def close(self) -> None:
        if self._listing_task is not None and not self._listing_task.done():
            self._listing_task.cancel()
            await asyncio.gather(self._listing_task, return_exceptions=True)
        self._listing_task = None
        if self._az is not None:
            await self._az.close()
            self._az = None
            self._definitions = None
        self._takeover = None  # another connection may be another tenant

    async def signed_in_identity(self) -> SignedInIdentity:
        """Who the console acts as. Asked after the registry list: the name of an app-only identity
        comes from Graph, whose imports (~0.5 s) would otherwise compete with the first list."""
        from ..azure.directory import signed_in

        with contextlib.suppress(Exception):  # the listing reports its own failure
            await self.registries()
        return await signed_in(self.az)

    async def registries(self, *, refresh: bool = False) -> RegistryListing:
        """The registry listing, read once and shared: concurrent callers wait for the same read."""
        if self._listing_task is None or refresh or (self._listing_task.done() and self.listing is None):
            from ..azure.registries import list_registries

            self._listing_task = asyncio.ensure_future(list_registries(self.az))
        listing = await asyncio.shield(self._listing_task)
        self.listing = listing
        # Nearly every other screen reads Graph: load it while the person reads the list.
        self.az.prefetch_graph()
        return listing

    def subscription_name(self, subscription_id: str) -> str:
        if self.listing is not None:
            for sub in self.listing.subscriptions:
                if sub.id.lower() == subscription_id.lower():
                    return sub.display_name
        return subscription_id

    async def find_registry(self, ref: str) -> Registry:
        listing = await self.registries()
        wanted = ref.strip().lower()
        for reg in listing.registries:
            if wanted in (reg.name.lower(), reg.login_server.lower(), reg.id.lower()):
                return reg
        from ..azure.registry_access import find_registry

        return await find_registry(self.az, ref)

    async def registry_access(self, registry: Registry) -> RegistryAccess:
        from ..azure.registry_access import read_registry_access

        access = await read_registry_access(self.az, registry, self.definitions)
        self._remember(access)
        return access

    @property
    def takeover_cache(self) -> TakeoverCache:
        """The tenant-wide takeover reads (issue 17), kept for the session until a write."""
        if self._takeover is None:
            from ..azure.takeover_cache import TakeoverCache

            self._takeover = TakeoverCache()
        return self._takeover

    def writes_ran(self) -> None:
        """A write ran through the console: what it may have changed is read again."""
        if self._takeover is not None:
            self._takeover.invalidate()

    async def takeover(self, access: RegistryAccess, *, refresh_since: int | None = None,
                       count: ReadCount | None = None) -> tuple[RegistryAccess, DirectoryFacts]:
        """Who can take over the principals of `access`, and their federated credentials (issue 17):
        `access` with application object ids filled in, and the directory facts. `refresh_since`: the
        cache's `tenant_reads` when a "read again" began (TakeoverCache.refresh)."""
        if refresh_since is not None:
            self.takeover_cache.refresh(refresh_since)
        return await self.takeover_cache.read(self.az, access, count)

    async def owners(self, principal: Principal) -> OwnerFacts:
        """Owners and federated credentials of one service principal: one `$batch`."""
        from ..azure.takeover_reads import read_owner_facts

        return await read_owner_facts(self.az, [principal])

    async def all_access(self, progress: Callable[[int, int], None] | None = None) -> list[RegistryAccess]:
        from ..azure.principals import read_all_access

        listing = await self.registries()
        accesses = await read_all_access(self.az, self.definitions, listing.registries, progress=progress)
        for access in accesses:
            self._remember(access)
        return accesses

    async def tenant_access(self, *, refresh: bool = False,
                            progress: Callable[[int, int], None] | None = None) -> list[RegistryAccess]:
        """Every visible registry's access, for the tenant view (issue 18): the tenant-wide read
        (read_all_access → azure/tenant_access.py: role assignments once per subscription)."""
        if refresh:
            await self.registries(refresh=True)
        return await self.all_access(progress)

    async def findings(self, settings: FindingSettings, now: datetime, *, refresh: bool = False,
                       include_takeover: bool = False) -> FindingsScan:
        """The findings view's one read (issue 18): every rule over the whole tenant, as `acr-console
        findings` reads it (azure/findings_scan.py), with the session's `[findings]` settings."""
        from ..azure.findings_scan import scan_findings

        if refresh:
            await self.registries(refresh=True)
        scan = await scan_findings(self.az, self.definitions, settings, include_takeover=include_takeover, now=now)
        for access in scan.snapshot.accesses:
            self._remember(access)
        return scan

    async def principal(self, ref: str) -> PrincipalDetail:
        from ..azure.principals import read_principal_detail

        return await read_principal_detail(self.az, ref, self.definitions)

    async def expiring(self, within_days: int, now: datetime) -> list[ExpiringCredential]:
        from ..azure.principals import read_expiring

        return await read_expiring(self.az, within_days, self.definitions, now)

    async def audit_records(self) -> AuditRecords:
        from ..operations import AuditLog

        log = AuditLog()
        # A local file, read in a thread: the event loop keeps drawing while a long log is parsed.
        records = await asyncio.to_thread(log.read)
        return AuditRecords(str(log.path), list(reversed(records)))

    def _remember(self, access: RegistryAccess) -> None:
        for entry in access.entries:
            p = entry.principal
            if p.object_id and not entry.orphaned and p.type in (PrincipalType.SERVICE_PRINCIPAL,
                                                                  PrincipalType.MANAGED_IDENTITY):
                self.principals[p.object_id.lower()] = KnownPrincipal(p.object_id, p.display_name, p.app_id, p.type)
