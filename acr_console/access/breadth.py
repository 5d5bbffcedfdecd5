"""Each identity's reach across registries (issue 18, the console's tenant view): the registries it
can push to, pull from and delete on, widest first. Pure: the tenant-wide read's accesses in, one
item per identity out.

A directory principal is one item across every registry (by object id). A registry token, the admin
user and "anyone (anonymous pull)" exist only in their registry: each is an item of its own, with its
registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..models import AccessEntry, Principal, PrincipalType, Registry, RegistryAccess, Right

# Identities that live in one registry only: an item per registry (the console opens that registry).
PER_REGISTRY = (PrincipalType.REGISTRY_TOKEN, PrincipalType.ADMIN_USER, PrincipalType.ANONYMOUS)


@dataclass
class TenantIdentity:
    """One identity's rights across the registries read."""

    key: str
    principal: Principal
    orphaned: bool = False
    registry: Registry | None = None  # for a token, the admin user, anonymous pull: the one it lives in
    push: list[str] = field(default_factory=list)  # registry names
    pull: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    via_groups: bool = False  # some right comes through group membership

    @property
    def name(self) -> str:
        name = self.principal.display_name or self.principal.object_id or "?"
        return f"{name} · {self.registry.name}" if self.registry is not None else name

    def breadth(self) -> tuple[int, int, int]:
        return len(self.push), len(self.pull), len(self.delete)


def _key(entry: AccessEntry, registry: Registry) -> str:
    p = entry.principal
    if p.type in PER_REGISTRY or not p.object_id:
        return f"{registry.id.lower()}|{p.type.value}|{p.display_name}"
    return p.object_id.lower()


def tenant_identities(accesses: Sequence[RegistryAccess]) -> list[TenantIdentity]:
    """Every identity of `accesses`, widest first: registries it can push to, then pull from, then
    delete on (more first), then by name. A right counts as `access --json`'s booleans do: any path
    granting it, conditional and possible ones included."""
    found: dict[str, TenantIdentity] = {}
    for access in accesses:
        registry = access.registry
        for entry in access.entries:
            p = entry.principal
            key = _key(entry, registry)
            item = found.get(key)
            if item is None:
                per_registry = p.type in PER_REGISTRY or not p.object_id
                item = found[key] = TenantIdentity(key, p, entry.orphaned, registry if per_registry else None)
            for right, names in ((Right.PUSH, item.push), (Right.PULL, item.pull), (Right.DELETE, item.delete)):
                if entry.can(right) and registry.name not in names:
                    names.append(registry.name)
            item.via_groups = item.via_groups or any(path.via_groups for path in entry.paths if path.rights)
    return sorted(found.values(), key=lambda i: (*(-n for n in i.breadth()), i.name.lower(), i.key))
