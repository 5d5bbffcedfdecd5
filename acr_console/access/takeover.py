"""Who can take over a principal that holds rights on a registry: add a credential to it, or give
themselves the right to (issue 17).

A new password or certificate on the service principal's application, or on the service principal
itself, lets its holder sign in as the principal and so use every right it has on the registry. Who can
add one (sources in :mod:`acr_console.access.entra_roles`):

- an **owner** of the application or of the service principal. A user owner can (Graph's
  ``addPassword`` is allowed to owners); a service principal owner signs in app-only and so needs
  ``Application.ReadWrite.OwnedBy`` as well, and is then reported under that permission;
- a holder of a **directory role** whose permissions include
  ``microsoft.directory/applications/credentials/update`` (or ``servicePrincipals/credentials/update``)
  at the tenant (``/``) or at that application or service principal (``/{objectId}``). A role at an
  administrative unit's scope (``/administrativeUnits/{id}``) never reaches one: administrative units
  hold users, groups and devices only, and the roles assignable at that scope manage those ("Add users,
  groups, or devices to an administrative unit", "Assign Microsoft Entra roles with administrative unit
  scope": https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-assign-roles);
- a service principal with the Microsoft Graph **application permission** ``Application.ReadWrite.All``,
  or ``Application.ReadWrite.OwnedBy`` for what it owns.

One step further (``steps`` 2): a role that can update owners (make itself an owner: Hybrid Identity
Administrator), a role that can assign roles (Privileged Role Administrator), and the permissions
``AppRoleAssignment.ReadWrite.All`` (grant itself ``Application.ReadWrite.All``) and
``RoleManagement.ReadWrite.Directory`` (assign itself Application Administrator).

Not modelled: managed identities (Entra refuses credentials on them; whoever controls the Azure
resource runs as it), users taken over by password reset, PIM-eligible (not active) role assignments,
custom-role conditions, Conditional Access, and Graph permissions held through a group (application
permissions reach only an application's own token). A holder reached through a group is expanded with
:class:`~acr_console.access.groups.GroupIndex` and shows its chain.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from acr_console.access.entra_roles import (
    APPLICATION_CREDENTIALS,
    APPLICATION_OWNERS,
    APPLICATION_READWRITE_ALL,
    APPLICATION_READWRITE_OWNEDBY,
    APPROLEASSIGNMENT_READWRITE_ALL,
    ROLE_ASSIGNMENTS,
    ROLEMANAGEMENT_READWRITE_DIRECTORY,
    SERVICE_PRINCIPAL_CREDENTIALS,
    SERVICE_PRINCIPAL_OWNERS,
    builtin_directory_roles,
    graph_app_roles,
)
from acr_console.access.groups import GroupIndex
from acr_console.models import (
    AccessEntry,
    CredentialTarget,
    DirectoryFacts,
    DirectoryRoleAssignment,
    FederatedIdentityCredential,
    Principal,
    PrincipalType,
    TakeoverHow,
    TakeoverPath,
)

_HOW_ORDER = {h: i for i, h in enumerate(TakeoverHow)}
# What one directory role assignment gives: (its holders with their group chains, the role's name,
# (where the credential goes, steps)).
_Reach = tuple[tuple[tuple[Principal, tuple[str, ...]], ...], str, tuple[CredentialTarget, int]]
_AU_PREFIX = "/administrativeunits/"
# Graph's principalType spellings (appRoleAssignment) -> the console's.
_GRAPH_TYPES = {
    "serviceprincipal": PrincipalType.SERVICE_PRINCIPAL,
    "user": PrincipalType.USER,
    "group": PrincipalType.GROUP,
}


def holds(actions: Iterable[str], wanted: str) -> bool:
    """Whether Entra role permissions ``actions`` include ``wanted`` (``namespace/entity/property/action``).

    ``…/entity/allProperties/allTasks`` covers every property and task of the entity, and
    ``…/allProperties/update`` every update (Entra's permission format: "Custom role permissions",
    https://learn.microsoft.com/entra/identity/role-based-access-control/custom-overview). The
    ``applications.myOrganization`` subtype (single-tenant applications only) is taken as covering too:
    it may or may not include a given application, so a path from it may be wider than the truth.
    """
    namespace, entity, _prop, task = wanted.lower().split("/", 3)
    covering = {
        wanted.lower(),
        f"{namespace}/{entity}/allproperties/alltasks",
        f"{namespace}/{entity}/allproperties/{task}",
    }
    subtype = f"{namespace}/{entity}.myorganization/"
    for action in actions:
        a = action.lower()
        if a in covering or (a.startswith(subtype) and a.replace(".myorganization/", "/", 1) in covering):
            return True
    return False


class TakeoverIndex:
    """The directory facts arranged for lookups, built once per :class:`DirectoryFacts`."""

    def __init__(self, facts: DirectoryFacts) -> None:
        self.facts = facts
        self.principals = {p.object_id.lower(): p for p in facts.principals if p.object_id}
        self.groups = GroupIndex(facts.groups)
        self._builtin = builtin_directory_roles()
        self._definitions: dict[str, tuple[str, tuple[str, ...]]] = {}
        for d in facts.role_definitions:
            # A custom role's templateId is whatever its author set: only a built-in role uses the table.
            builtin = self._builtin.get((d.template_id or d.id).lower()) if d.is_built_in else None
            actions = d.allowed_resource_actions or (builtin[1] if builtin else ())
            for key in {d.id.lower(), (d.template_id or d.id).lower()}:
                self._definitions[key] = (d.display_name, actions)
        self.app_owners = _by_lower(facts.application_owners)
        self.sp_owners = _by_lower(facts.service_principal_owners)
        self.federated = _by_lower(facts.federated_credentials)
        self.permissions: dict[str, set[str]] = {}
        for a in facts.app_role_assignments:
            permission = a.permission or graph_app_roles().get(a.app_role_id.lower())
            if permission:
                self.permissions.setdefault(a.principal_id.lower(), set()).add(permission)
        self._permission_holder_hints = {a.principal_id.lower(): a for a in facts.app_role_assignments}
        self._by_scope: dict[str, list[DirectoryRoleAssignment]] = {}
        for assignment in facts.role_assignments:
            scope_key = self._scope_key(assignment.directory_scope_id)
            if scope_key is not None:
                self._by_scope.setdefault(scope_key, []).append(assignment)
        self._reach: dict[tuple[str, str, str, bool], _Reach | None] = {}
        self._common: dict[bool, tuple[list[TakeoverPath], list[tuple[object, ...]], dict[str, list[int]]]] = {}
        self.owned_by_holders = sorted(
            h for h, held in self.permissions.items() if APPLICATION_READWRITE_OWNEDBY in held and h not in self.groups
        )

    def definition(self, role_definition_id: str) -> tuple[str, tuple[str, ...]]:
        """(display name, allowed resource actions) of a role; a built-in role not read is taken from the
        table (a built-in role's id is its template id)."""
        key = role_definition_id.lower()
        if key in self._definitions:
            return self._definitions[key]
        return self._builtin.get(key, (role_definition_id, ()))

    def principal(self, object_id: str) -> Principal:
        known = self.principals.get(object_id.lower())
        if known is not None:
            return known
        oid = object_id.lower()
        if object_id in self.groups:
            return Principal(object_id=oid, display_name=self.groups.display_name(object_id), type=PrincipalType.GROUP)
        hint = self._permission_holder_hints.get(oid)
        if hint is not None:
            kind = _GRAPH_TYPES.get((hint.principal_type or "").lower(), PrincipalType.UNKNOWN)
            return Principal(object_id=oid, display_name=hint.principal_display_name or object_id, type=kind)
        # Not returned by the directory: named by its id, of unknown type.
        return Principal(object_id=oid, display_name=object_id, type=PrincipalType.UNKNOWN)

    def _scope_key(self, scope: str) -> str | None:
        s = scope.strip()
        if s == "/":
            return "/"
        if s.lower().startswith(_AU_PREFIX):
            return None
        return s.strip("/").lower()

    def holders(self, object_id: str) -> list[tuple[Principal, tuple[str, ...]]]:
        """Who acts through ``object_id``: itself, or a group's transitive members with their chains
        (group display names, outermost first; every chain, shortest first)."""
        if object_id not in self.groups:
            return [(self.principal(object_id), ())]
        out: list[tuple[Principal, tuple[str, ...]]] = []
        for member, chains in self.groups.members(object_id).items():
            for chain in chains:
                out.append((self.principal(member), tuple(self.groups.display_name(g) for g in chain)))
        return out

    @property
    def tenant_role_assignments(self) -> list[DirectoryRoleAssignment]:
        """Role assignments at the tenant's scope (``/``)."""
        return self._by_scope.get("/", [])

    def object_role_assignments(self, object_ids: Iterable[str]) -> list[DirectoryRoleAssignment]:
        """Role assignments scoped to one of ``object_ids`` (``/{objectId}``). An administrative unit's
        scope never covers an application or a service principal (see above)."""
        out: list[DirectoryRoleAssignment] = []
        for oid in sorted(set(object_ids)):
            out.extend(self._by_scope.get(oid, ()))
        return out

    def common(self, has_app: bool) -> tuple[list[TakeoverPath], list[tuple[object, ...]], dict[str, list[int]]]:
        """The paths every service principal shares (sorted), their sort keys, and the positions of each
        holder's, by object id."""
        if has_app not in self._common:
            paths = _common_paths(self, has_app)
            positions: dict[str, list[int]] = {}
            for i, path in enumerate(paths):
                positions.setdefault((path.by.object_id or "").lower(), []).append(i)
            self._common[has_app] = (paths, [_path_key(p) for p in paths], positions)
        return self._common[has_app]

    def role_reach(self, assignment: DirectoryRoleAssignment, has_app: bool) -> _Reach | None:
        """(holders, role name, (target, steps)) of one assignment, worked out once: a tenant-wide role
        reaches every principal the same way."""
        key = (assignment.id, assignment.principal_id.lower(), assignment.role_definition_id.lower(), has_app)
        if key not in self._reach:
            name, actions = self.definition(assignment.role_definition_id)
            reach = _role_reach(actions, has_app)
            self._reach[key] = None if reach is None else (tuple(self.holders(assignment.principal_id)), name, reach)
        return self._reach[key]


def _by_lower(mapping: Mapping[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for key, values in mapping.items():
        out[key.lower()] = out.get(key.lower(), ()) + tuple(values)
    return out


def _targets(principal: Principal) -> tuple[str | None, str | None]:
    """(service principal id, application object id) of a principal that can be taken over, lower case."""
    if principal.type is not PrincipalType.SERVICE_PRINCIPAL or not principal.object_id:
        return None, None
    app = principal.application_object_id.lower() if principal.application_object_id else None
    return principal.object_id.lower(), app


def _role_reach(actions: tuple[str, ...], has_app: bool) -> tuple[CredentialTarget, int] | None:
    """What a role's actions let its holder do to a principal: (where the credential goes, steps)."""
    app, sp = CredentialTarget.APPLICATION, CredentialTarget.SERVICE_PRINCIPAL
    if has_app and holds(actions, APPLICATION_CREDENTIALS):
        return app, 1
    if holds(actions, SERVICE_PRINCIPAL_CREDENTIALS):
        return sp, 1
    if has_app and holds(actions, APPLICATION_OWNERS):  # make itself an owner, then add a credential
        return app, 2
    if holds(actions, SERVICE_PRINCIPAL_OWNERS):
        return sp, 2
    if holds(actions, ROLE_ASSIGNMENTS):  # assign itself Application Administrator, then add a credential
        return (app if has_app else sp), 2
    return None


def _owns(index: TakeoverIndex, holder_id: str, sp_id: str, app_id: str | None) -> CredentialTarget | None:
    def owned_by(owners: tuple[Principal, ...]) -> bool:
        return any((o.object_id or "").lower() == holder_id for o in owners)

    if app_id and owned_by(index.app_owners.get(app_id, ())):
        return CredentialTarget.APPLICATION
    if owned_by(index.sp_owners.get(sp_id, ())):
        return CredentialTarget.SERVICE_PRINCIPAL
    return None


class _Paths:
    """Paths keyed by what makes them distinct, so that one route found twice is listed once."""

    def __init__(self, own_ids: set[str]) -> None:
        self.own_ids = own_ids
        self.found: dict[tuple[object, ...], TakeoverPath] = {}

    def add(self, by: Principal, how: TakeoverHow, detail: str, target: CredentialTarget, steps: int,
            scope: str | None = None, via: tuple[str, ...] = ()) -> None:
        oid = (by.object_id or "").lower()
        path = TakeoverPath(by=by, how=how, detail=detail, target=target, steps=steps, scope=scope,
                            via_groups=via, itself=oid in self.own_ids)
        self.found.setdefault((oid, how, detail, target, steps, scope, via), path)

    def sorted(self) -> list[TakeoverPath]:
        return sorted(self.found.values(), key=_path_key)


def _common_paths(index: TakeoverIndex, has_app: bool) -> list[TakeoverPath]:
    """The paths that are the same for every service principal (with or without a known application):
    tenant-wide directory roles and the Graph permissions that reach every application. Worked out once
    per index, so a tenant's Global Administrators are expanded once, not once per principal."""
    paths = _Paths(set())
    for assignment in index.tenant_role_assignments:
        reached = index.role_reach(assignment, has_app)
        if reached is None:
            continue
        holders, name, (target, steps) = reached
        for by, via in holders:
            paths.add(by, TakeoverHow.DIRECTORY_ROLE, name, target, steps, assignment.directory_scope_id, via)
    target = CredentialTarget.APPLICATION if has_app else CredentialTarget.SERVICE_PRINCIPAL
    for holder_id, permissions in index.permissions.items():
        if holder_id in index.groups:  # application permissions reach only an application's own token
            continue
        by = index.principal(holder_id)
        if APPLICATION_READWRITE_ALL in permissions:
            paths.add(by, TakeoverHow.GRAPH_PERMISSION, APPLICATION_READWRITE_ALL, target, 1)
        for two_step in (APPROLEASSIGNMENT_READWRITE_ALL, ROLEMANAGEMENT_READWRITE_DIRECTORY):
            if two_step in permissions:
                paths.add(by, TakeoverHow.GRAPH_PERMISSION, two_step, target, 2)
    return paths.sorted()


def takeover_paths(entry: AccessEntry, facts: DirectoryFacts | TakeoverIndex) -> tuple[TakeoverPath, ...]:
    """Every way someone can sign in as ``entry``'s principal by adding a credential to it (``steps`` 1)
    or by first giving themselves the right to (``steps`` 2); empty for anything but a service principal.

    Sorted by steps, then how, then who. A principal that can add credentials to itself is kept, with
    ``itself`` set: anyone who holds one of its credentials can then mint more.
    """
    index = facts if isinstance(facts, TakeoverIndex) else TakeoverIndex(facts)
    sp_id, app_id = _targets(entry.principal)
    if sp_id is None:
        return ()
    own_ids = {sp_id} | ({app_id} if app_id else set())
    own = _Paths(own_ids)

    # Owners. Graph lists users and service principals as owners; a service principal acts app-only,
    # so it needs Application.ReadWrite.OwnedBy (reported below under the permission).
    app_owners = index.app_owners.get(app_id, ()) if app_id else ()
    for owners, how, target in (
        (app_owners, TakeoverHow.APPLICATION_OWNER, CredentialTarget.APPLICATION),
        (index.sp_owners.get(sp_id, ()), TakeoverHow.SERVICE_PRINCIPAL_OWNER, CredentialTarget.SERVICE_PRINCIPAL),
    ):
        for owner in owners:
            if owner.type is PrincipalType.USER and owner.object_id:
                own.add(index.principals.get(owner.object_id.lower(), owner), how, "owner", target, 1)

    # Roles scoped to this application or service principal.
    for assignment in index.object_role_assignments(own_ids):
        reached = index.role_reach(assignment, app_id is not None)
        if reached is None:
            continue
        holders, name, (target, steps) = reached
        for by, via in holders:
            own.add(by, TakeoverHow.DIRECTORY_ROLE, name, target, steps, assignment.directory_scope_id, via)

    for holder_id in index.owned_by_holders:
        owned = _owns(index, holder_id, sp_id, app_id)
        if owned is not None:
            own.add(index.principal(holder_id), TakeoverHow.GRAPH_PERMISSION, APPLICATION_READWRITE_OWNEDBY, owned, 1)

    # The common paths are already sorted and never coincide with these (their scope, how or detail
    # differ), so each of these is placed by bisection; only the principal's own common paths change.
    common, keys, positions = index.common(app_id is not None)
    out = list(common)
    for oid in own_ids:
        for i in positions.get(oid, ()):
            out[i] = dataclasses.replace(out[i], itself=True)
    for path in reversed(own.sorted()):
        out.insert(bisect.bisect_right(keys, _path_key(path)), path)
    return tuple(out)


def holder_counts(paths: Iterable[TakeoverPath]) -> tuple[int, int]:
    """(how many can take the principal over, how many of them only in two steps): counted by who, not
    by path (one holder with two routes is one); the principal itself is not counted."""
    who: set[str] = set()
    one_step: set[str] = set()
    for p in paths:
        if p.itself:
            continue
        key = (p.by.object_id or p.by.display_name).lower()
        who.add(key)
        if p.steps == 1:
            one_step.add(key)
    return len(who), len(who - one_step)


def _path_key(path: TakeoverPath) -> tuple[object, ...]:
    return (
        path.steps,
        _HOW_ORDER[path.how],
        path.by.display_name.lower(),
        (path.by.object_id or "").lower(),
        path.detail,
        path.scope or "",
        path.target.value,
        path.via_groups,
    )


def federated_credentials(
    entry: AccessEntry, facts: DirectoryFacts | TakeoverIndex
) -> tuple[FederatedIdentityCredential, ...]:
    """The federated identity credentials through which a workload signs in as ``entry``'s principal:
    those of its application (Graph), and any the facts list under the principal's own object id (a
    user-assigned managed identity's, which live in ARM). Sorted by name."""
    index = facts if isinstance(facts, TakeoverIndex) else TakeoverIndex(facts)
    principal = entry.principal
    keys = [k.lower() for k in (principal.application_object_id, principal.object_id) if k]
    seen: dict[str, FederatedIdentityCredential] = {}
    for key in keys:
        for credential in index.federated.get(key, ()):
            seen.setdefault(credential.id.lower() or credential.name, credential)
    return tuple(sorted(seen.values(), key=lambda c: (c.name.lower(), c.id)))


def path_json(path: TakeoverPath) -> dict[str, Any]:
    """One element of an entry's ``"takeover"`` list."""
    by = path.by
    return {
        "by": {"objectId": by.object_id, "displayName": by.display_name, "type": by.type.value, "enabled": by.enabled},
        "how": path.how.value,
        "detail": path.detail,
        "scope": path.scope,
        "target": path.target.value,
        "viaGroups": list(path.via_groups),
        "steps": path.steps,
        "self": path.itself,
    }
