"""Gathering what the findings rules look at (issue 18), and evaluating them.

One tenant-wide access read (``read_all_access``, through ``tenant_access``: role assignments once per
subscription, one directory pass), then the credentials of every service principal with a right
(``credential_reads``, two batched rounds), then, only when asked, the takeover facts of those
principals (``takeover_reads``, one batched round).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..access.findings import evaluate
from ..access.takeover import TakeoverIndex, takeover_paths
from ..models import (
    AccessEntry,
    FindingSettings,
    FindingsResult,
    FindingsSnapshot,
    PrincipalType,
    RegistryAccess,
    TakeoverPath,
)
from .authorization import RoleDefinitions
from .clients import AzureClients
from .credential_reads import read_credentials
from .principals import read_all_access
from .takeover_reads import read_takeover_facts


@dataclass(frozen=True)
class FindingsScan:
    snapshot: FindingsSnapshot
    result: FindingsResult


async def read_findings_snapshot(az: AzureClients, definitions: RoleDefinitions, settings: FindingSettings, *,
                                 include_takeover: bool = False, now: datetime | None = None) -> FindingsSnapshot:
    now = now or datetime.now(UTC)
    accesses = await read_all_access(az, definitions)
    # Managed identities' credentials are Azure's to rotate, and users sign in otherwise: only the
    # service principals' are read (the rules on credentials are about secrets someone holds).
    with_rights = _service_principals(accesses)
    credentials = await read_credentials(az, list(with_rights))
    takeover = await _takeover(az, accesses, with_rights) if include_takeover else None
    return FindingsSnapshot(tuple(accesses), now, settings,
                            {oid: pc.credentials for oid, pc in credentials.items()}, takeover)


async def scan_findings(az: AzureClients, definitions: RoleDefinitions, settings: FindingSettings, *,
                        include_takeover: bool = False, now: datetime | None = None) -> FindingsScan:
    snapshot = await read_findings_snapshot(az, definitions, settings, include_takeover=include_takeover, now=now)
    return FindingsScan(snapshot, evaluate(snapshot))


def _service_principals(accesses: list[RegistryAccess]) -> dict[str, AccessEntry]:
    """Each service principal holding a right on some registry, once, by object id in lower case."""
    out: dict[str, AccessEntry] = {}
    for access in accesses:
        for entry in access.entries:
            p = entry.principal
            if p.type is PrincipalType.SERVICE_PRINCIPAL and p.object_id and entry.rights and not entry.orphaned:
                out.setdefault(p.object_id.lower(), entry)
    return out


async def _takeover(az: AzureClients, accesses: list[RegistryAccess],
                    with_rights: dict[str, AccessEntry]) -> dict[str, tuple[TakeoverPath, ...]]:
    """Takeover paths of each service principal with a right, read once for all registries."""
    if not accesses:
        return {}
    merged = RegistryAccess(accesses[0].registry, tuple(with_rights.values()))
    filled, facts = await read_takeover_facts(az, merged)
    index = TakeoverIndex(facts)
    return {(e.principal.object_id or "").lower(): takeover_paths(e, index) for e in filled.entries}
