"""One principal in full (identity, credentials on application and service principal, assignments
on every visible registry, groups), and the tenant's expiring-credentials radar."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ..access import token_credentials
from ..models import (
    Credential,
    CredentialOwner,
    Principal,
    PrincipalDetail,
    PrincipalType,
    Registry,
    RegistryAccess,
)
from .authorization import RoleDefinitions, assignments_of
from .clients import AzureClients
from .credential_reads import PrincipalCredentials, read_credentials
from .directory import (
    GET_BY_IDS_LIMIT,
    application_for,
    credentials_of,
    find_service_principal,
    member_of,
    principal_from_json,
)
from .registries import list_subscriptions
from .tenant_access import Progress, iter_tenant_access, read_tenant_access


async def read_principal_detail(az: AzureClients, ref: str, definitions: RoleDefinitions) -> PrincipalDetail:
    sp = await find_service_principal(az, ref)
    principal = principal_from_json({"@odata.type": "#microsoft.graph.servicePrincipal", **sp})
    subscriptions = await list_subscriptions(az)
    app, groups, *per_sub = await asyncio.gather(
        application_for(az, sp["appId"]),
        member_of(az, sp["id"]),
        *(assignments_of(az, s.id, sp["id"]) for s in subscriptions),
    )
    assignments = [a for chunk in per_sub for a in chunk]
    defs = await definitions.resolve(assignments)  # each assignment says where its role can be read
    credentials = credentials_of(sp, CredentialOwner.SERVICE_PRINCIPAL)
    if app is not None:
        credentials = credentials_of(app, CredentialOwner.APPLICATION) + credentials
        principal = Principal(principal.object_id, principal.display_name, principal.type, principal.app_id,
                              principal.enabled, application_object_id=app["id"])
    return PrincipalDetail(
        principal=principal,
        application_display_name=app.get("displayName") if app else None,
        credentials=tuple(credentials),
        assignments=tuple(assignments),
        groups=tuple(groups),
        role_names={guid: d.role_name for guid, d in defs.items()},
    )


@dataclass(frozen=True)
class ExpiringCredential:
    principal: Principal
    credential: Credential
    registries: tuple[str, ...]  # names of the registries the principal has access to

    def days_left(self, now: datetime) -> float | None:
        if self.credential.end is None:
            return None
        return (self.credential.end - now).total_seconds() / 86400


async def read_all_access(az: AzureClients, definitions: RoleDefinitions,
                          registries: list[Registry] | None = None, *,
                          progress: Progress | None = None) -> list[RegistryAccess]:
    """Every visible registry's access (or each of `registries`, in their order), through the
    tenant-wide read (tenant_access.py): role assignments once per subscription, one directory pass.
    `progress(done, known)` as registries are found and finished."""
    accesses = await read_tenant_access(az, definitions, registries=registries, progress=progress)
    if registries is not None:
        order = {r.id.lower(): i for i, r in enumerate(registries)}
        accesses.sort(key=lambda a: order.get(a.registry.id.lower(), len(order)))
    return accesses


async def read_expiring(az: AzureClients, within_days: int, definitions: RoleDefinitions,
                        now: datetime | None = None) -> list[ExpiringCredential]:
    """Credentials that expired or expire within `within_days`, of principals with access to any
    visible registry, soonest first.

    The registries come from the tenant-wide read, one at a time as each is complete: only who
    reaches which registry, and the registry tokens' expiring passwords, are kept of each. The
    credentials of the service principals they name (credential_reads.read_credentials) are read
    a thousand principals at a time as the registries come, beside the rest of the tenant read."""
    now = now or datetime.now(UTC)
    reach: dict[str, set[str]] = {}
    token_passwords: list[ExpiringCredential] = []
    reads: list[asyncio.Future[dict[str, PrincipalCredentials]]] = []
    waiting: list[str] = []
    try:
        async with contextlib.aclosing(iter_tenant_access(az, definitions)) as accesses:
            async for access in accesses:
                for entry in access.entries:
                    oid = entry.principal.object_id
                    if oid and entry.principal.type in (PrincipalType.SERVICE_PRINCIPAL,
                                                        PrincipalType.MANAGED_IDENTITY):
                        key = oid.lower()
                        names = reach.get(key)
                        if names is None:
                            names = reach[key] = set()
                            waiting.append(key)
                        names.add(access.registry.name)
                if len(waiting) >= GET_BY_IDS_LIMIT:  # a full getByIds: read them now
                    reads.append(asyncio.ensure_future(read_credentials(az, waiting)))
                    waiting = []
                token_passwords += _expiring_token_passwords([access], within_days, now)
        if waiting:
            reads.append(asyncio.ensure_future(read_credentials(az, waiting)))
        found: dict[str, PrincipalCredentials] = {}
        for part in await asyncio.gather(*reads):
            found.update(part)
    finally:
        for read in reads:
            if not read.done():
                read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
    out: list[ExpiringCredential] = []
    for oid, held in found.items():
        # The service principal's own credentials before its application's (the order ties keep).
        for cred in sorted(held.credentials, key=lambda c: c.owner is CredentialOwner.APPLICATION):
            if cred.expires_within(now, within_days):
                out.append(ExpiringCredential(held.principal, cred, tuple(sorted(reach[oid]))))
    out += token_passwords
    out.sort(key=lambda x: (x.credential.end or now, x.principal.display_name.lower()))
    return out


def _expiring_token_passwords(accesses: list[RegistryAccess], within_days: int,
                              now: datetime) -> list[ExpiringCredential]:
    """Passwords of enabled registry tokens (read with each registry's access; no request of their own)."""
    out: list[ExpiringCredential] = []
    for access in accesses:
        for entry in access.entries:
            if entry.token is not None and entry.token.enabled:
                out += [ExpiringCredential(entry.principal, cred, (access.registry.name,))
                        for cred in token_credentials(entry.token) if cred.expires_within(now, within_days)]
    return out
