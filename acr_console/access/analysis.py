"""Effective access to one registry: who can do what, and every path that says so.

Decisions:

* Only assignments at or above the registry count (:func:`.scopes.is_at_or_above`).
* One assignment yields one :class:`AccessPath` per distinct repositories outcome, so a condition
  restricting only reads gives a conditional pull path and an unrestricted push path. Rights that
  are only possible beside sure ones on the same repositories (a custom role's ``*/read`` beside its
  explicit ``pull/read``) join the sure path, named in ``AccessPath.possible`` (issue 16: the
  assignment was listed twice, once per confidence); a path of possible rights alone stays POSSIBLE.
  Latent rights go on the unrestricted path.
* Conditions (:mod:`.conditions`) are evaluated per right against the action that grants it.
  Pull, push and delete narrowed to repositories become CONDITIONAL with those patterns; a right
  whose request carries no repository (catalog, quarantine, sign) narrowed to repositories is
  dropped, since the comparison fails. A condition that is not understood leaves the right with
  ``repositories == ()`` and confidence CONDITIONAL (POSSIBLE stays POSSIBLE); that is how a path
  says "condition not understood" (:func:`condition_not_understood`). Likewise a latent right is
  dropped when the condition narrows its action to repositories, and drops to POSSIBLE when the
  condition on its action is not understood (e.g. an RBAC Administrator delegation condition).
* A registry whose mode is unknown (:attr:`RoleAssignmentMode.UNKNOWN`: the registry's answer did not
  state it) is read both ways: a right or latent right that comes out the same in legacy and in ABAC
  mode keeps its answer; one that differs (AcrPush's push, a Repository role's pull, tasks) is
  reported with the wider of the two outcomes and confidence POSSIBLE. Never legacy by default.
* Latent rights: GRANT_ROLES is always reported, because whoever can assign roles can hand any right
  to anyone. Every other latent right is hidden when the principal already holds everything it
  would yield (``capabilities.LATENT_YIELDS``) registry-wide and DIRECT through some path; a path
  left with nothing is dropped. So Owner on a legacy registry shows GRANT_ROLES only.
* Entries are principals that can sign in; groups appear only as ``via_groups`` (display names,
  outermost = assigned group first). Group members that are neither known principals nor known
  groups are skipped, and so is an assigned group known as a principal but missing from
  ``groups``: neither can be expanded.
* An entry is listed when it has at least one path: a right, a latent right, or an assignment whose
  role definition is unknown (its path has no rights and the role GUID as its name, because an
  unreadable role may grant anything).
* Principals the directory did not return (id in neither ``principals`` nor ``groups``: deleted, not
  replicated yet, or of a type not read) get ``PrincipalType.UNKNOWN``, the object id as display name,
  ``orphaned=True``, and what the role would grant.
* Entries sort by display name (case-insensitive), then object id: the admin user sorts as
  "admin user" among the rest. Paths sort by kind, role name, scope level (registry first), scope,
  groups, then every other field, so the output is independent of input order.
* Anonymous pull (:mod:`.anonymous`), when the registry has it on, is the first entry (issue 13).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from functools import lru_cache

from acr_console.access.anonymous import anonymous_entry
from acr_console.access.capabilities import LATENT_YIELDS, REPOSITORY_SCOPED_RIGHTS, Grant, role_capabilities
from acr_console.access.conditions import ParsedCondition, RepositoryScope, parse_condition
from acr_console.access.groups import GroupIndex
from acr_console.access.scopes import is_at_or_above, is_inherited, normalise_scope, scope_level
from acr_console.models import (
    AccessEntry,
    AccessPath,
    Confidence,
    Group,
    Latent,
    PathKind,
    Principal,
    PrincipalType,
    Registry,
    RegistryAccess,
    Right,
    RoleAssignment,
    RoleAssignmentMode,
    RoleDefinition,
    ScopeLevel,
)
from acr_console.roles import builtin_by_guid

ADMIN_USER_NAME = "admin user"
ADMIN_USER_RIGHTS = frozenset({Right.PULL, Right.PUSH, Right.DELETE})

_KIND_ORDER = {PathKind.ADMIN_USER: 0, PathKind.ROLE_ASSIGNMENT: 1, PathKind.TOKEN: 2}
_KIND_ORDER[PathKind.ANONYMOUS_PULL] = -1  # issue 13: anonymous pull (access/anonymous.py)
_LEVEL_ORDER = {
    None: -1,
    ScopeLevel.REGISTRY: 0,
    ScopeLevel.RESOURCE_GROUP: 1,
    ScopeLevel.SUBSCRIPTION: 2,
    ScopeLevel.MANAGEMENT_GROUP: 3,
    ScopeLevel.ROOT: 4,
}
_CONFIDENCE_ORDER = {Confidence.DIRECT: 0, Confidence.CONDITIONAL: 1, Confidence.POSSIBLE: 2}

_Outcome = tuple[tuple[str, ...] | None, Confidence]
_Outcomes = tuple[tuple[frozenset[Right], frozenset[Latent], tuple[str, ...] | None, Confidence], ...]
# As _Outcomes, with the rights and latent rights that are only possible (merged, see the docstring).
_Merged = tuple[tuple[frozenset[Right], frozenset[Latent], tuple[str, ...] | None, Confidence,
                      frozenset[Right | Latent]], ...]


def condition_not_understood(path: AccessPath) -> bool:
    """Whether the path's rights hang on a condition the analysis could not read."""
    return path.repositories == ()


def _combine(scopes: list[RepositoryScope]) -> RepositoryScope:
    """The scope allowing all of several actions at once (a grant needs every one of them)."""
    if any(s.denied for s in scopes):
        return RepositoryScope(())
    if any(not s.understood for s in scopes):
        return RepositoryScope((), understood=False)
    restricted = [s for s in scopes if not s.unrestricted]
    if not restricted:
        return RepositoryScope(None)
    if len(restricted) == 1 or all(s.repositories == restricted[0].repositories for s in restricted):
        return restricted[0]
    # Only latent rights need two actions, and they only ask whether a scope is restricted, so
    # intersecting two different repository lists is not worth the code.
    return RepositoryScope((), understood=False)


def _right_outcome(right: Right, grant: Grant, condition: ParsedCondition | None) -> _Outcome | None:
    if condition is None:
        return (None, grant.confidence)
    scope = _combine([condition.scope_for(a) for a in grant.actions])
    if scope.unrestricted:
        return (None, grant.confidence)
    if scope.denied:
        return None
    if scope.understood and right not in REPOSITORY_SCOPED_RIGHTS:
        return None  # no repository in the request, so the repository comparison fails
    confidence = Confidence.POSSIBLE if grant.confidence is Confidence.POSSIBLE else Confidence.CONDITIONAL
    return (scope.repositories, confidence)


def _latent_outcome(grant: Grant, condition: ParsedCondition | None) -> Confidence | None:
    if condition is None:
        return grant.confidence
    scope = _combine([condition.scope_for(a) for a in grant.actions])
    if scope.unrestricted:
        return grant.confidence
    if scope.understood:
        return None
    return Confidence.POSSIBLE


def _outcome_rank(outcome: _Outcome) -> tuple[bool, bool, int]:
    repositories, confidence = outcome
    return (repositories is None, confidence is not Confidence.POSSIBLE, len(repositories or ()))


def _resolve_definition(assignment: RoleAssignment, definitions: Mapping[str, RoleDefinition]) -> RoleDefinition | None:
    guid = assignment.role_guid
    found = definitions.get(guid)
    if found is not None:
        return found
    builtin = builtin_by_guid(guid)
    if builtin is None:
        return None
    return RoleDefinition(
        id=assignment.role_definition_id,
        name=builtin.guid,
        role_name=builtin.name,
        description=builtin.description,
        custom=False,
        actions=builtin.actions,
        not_actions=builtin.not_actions,
        data_actions=builtin.data_actions,
        not_data_actions=builtin.not_data_actions,
    )


# Pure functions of scope strings, cached: a tenant-wide read analyses 500 registries, each with the
# same few scopes above it (root, management groups, subscription, resource group), and calls these
# once per assignment per registry (hundreds of thousands of times).
_scope_level = lru_cache(maxsize=1 << 14)(scope_level)
_is_inherited = lru_cache(maxsize=1 << 14)(is_inherited)
_is_at_or_above = lru_cache(maxsize=1 << 14)(is_at_or_above)


def assignment_paths(
    registry: Registry, assignment: RoleAssignment, definition: RoleDefinition | None
) -> tuple[AccessPath, ...]:
    """The paths one assignment gives its principal, before group expansion (``via_groups`` empty)."""
    inherited = _is_inherited(assignment.scope, registry.id)
    # Only an assignment above the registry is met again (on the registry's neighbours): one on the
    # registry itself is built without the cache, whose key (the assignment and its role definition)
    # costs a hash of every field, and without pushing the reusable ones out of it.
    build = _assignment_paths if inherited else _assignment_paths.__wrapped__
    return build(assignment, definition, registry.role_assignment_mode, registry.admin_user_enabled, inherited)


@lru_cache(maxsize=1 << 14)
def _assignment_paths(assignment: RoleAssignment, definition: RoleDefinition | None, mode: RoleAssignmentMode,
                      admin_user_enabled: bool, inherited: bool) -> tuple[AccessPath, ...]:
    """`assignment_paths` by what it depends on: an assignment above the registries (subscription,
    management group) gives the same paths on each registry of the same mode, so a tenant-wide read
    builds them once, not once per registry. The paths are frozen, so sharing them is safe."""
    role = definition.role_name if definition is not None else assignment.role_guid
    level = _scope_level(assignment.scope)
    if definition is None:
        return (AccessPath(kind=PathKind.ROLE_ASSIGNMENT, role=role, role_definition_id=assignment.role_definition_id,
                           assignment_id=assignment.id, scope=assignment.scope, scope_level=level,
                           inherited=inherited),)
    # Each path made whole (not a base path copied with dataclasses.replace, which reads every field
    # back: a tenant-wide read makes 100,000 of them), in a loop rather than a generator: most roles
    # give one path.
    paths: list[AccessPath] = []
    for rights, latent, repositories, confidence, possible in _outcomes(
            definition, mode, admin_user_enabled, assignment.condition, assignment.condition_version):
        paths.append(AccessPath(kind=PathKind.ROLE_ASSIGNMENT, rights=rights, latent=latent, role=role,
                                role_definition_id=assignment.role_definition_id, assignment_id=assignment.id,
                                scope=assignment.scope, scope_level=level, inherited=inherited,
                                repositories=repositories, confidence=confidence, possible=possible))
    return tuple(paths)


@lru_cache(maxsize=1024)
def _outcomes(definition: RoleDefinition, mode: RoleAssignmentMode, admin_user_enabled: bool,
              condition_text: str | None, condition_version: str | None,
              ) -> _Merged:
    """(rights, latent, repositories, confidence, possible) of each path one role with one condition
    gives: the same for every assignment of that role and condition (a registry has hundreds of them)."""
    return _merge_possible(_raw_outcomes(definition, mode, admin_user_enabled, condition_text, condition_version))


def _merge_possible(outcomes: _Outcomes) -> _Merged:
    """One outcome per repositories: the POSSIBLE outcome joins a sure one on the same repositories,
    its rights named as possible (module docstring)."""
    sure = {o[2]: o for o in outcomes if o[3] is not Confidence.POSSIBLE}
    merged: list[tuple[frozenset[Right], frozenset[Latent], tuple[str, ...] | None, Confidence,
                       frozenset[Right | Latent]]] = []
    joined: dict[tuple[str, ...] | None, tuple[frozenset[Right], frozenset[Latent]]] = {}
    for rights, latent, repositories, confidence in outcomes:
        if confidence is Confidence.POSSIBLE and repositories in sure:
            joined[repositories] = (rights, latent)
    for rights, latent, repositories, confidence in outcomes:
        if confidence is Confidence.POSSIBLE and repositories in sure:
            continue
        extra_rights, extra_latent = joined.get(repositories, (frozenset(), frozenset())) \
            if confidence is not Confidence.POSSIBLE else (frozenset(), frozenset())
        merged.append((rights | extra_rights, latent | extra_latent, repositories, confidence,
                       frozenset[Right | Latent]((*extra_rights, *extra_latent))))
    return tuple(merged)


@lru_cache(maxsize=1024)
def _raw_outcomes(definition: RoleDefinition, mode: RoleAssignmentMode, admin_user_enabled: bool,
                  condition_text: str | None, condition_version: str | None,
                  ) -> _Outcomes:
    """(rights, latent, repositories, confidence) of each distinct outcome, before merging."""
    if mode is RoleAssignmentMode.UNKNOWN:
        return _either_mode(
            _raw_outcomes(definition, RoleAssignmentMode.LEGACY, admin_user_enabled, condition_text,
                          condition_version),
            _raw_outcomes(definition, RoleAssignmentMode.ABAC, admin_user_enabled, condition_text,
                          condition_version))
    caps = role_capabilities(definition, mode, admin_user_enabled=admin_user_enabled)
    condition = parse_condition(condition_text, condition_version)
    rights: dict[_Outcome, set[Right]] = {}
    latent: dict[_Outcome, set[Latent]] = {}
    for right, grants in caps.rights.items():
        outcomes = [o for o in (_right_outcome(right, g, condition) for g in grants) if o is not None]
        if outcomes:
            rights.setdefault(max(outcomes, key=_outcome_rank), set()).add(right)
    for item, grants in caps.latent.items():
        confidences = [c for c in (_latent_outcome(g, condition) for g in grants) if c is not None]
        if confidences:
            best = min(confidences, key=_CONFIDENCE_ORDER.__getitem__)
            latent.setdefault((None, best), set()).add(item)
    return tuple(
        (frozenset(rights.get(outcome, ())), frozenset(latent.get(outcome, ())), outcome[0], outcome[1])
        for outcome in {**rights, **latent}
    )


def _by_item(outcomes: _Outcomes) -> tuple[dict[Right, _Outcome], dict[Latent, Confidence]]:
    rights: dict[Right, _Outcome] = {}
    latent: dict[Latent, Confidence] = {}
    for right_set, latent_set, repositories, confidence in outcomes:
        for right in right_set:
            rights[right] = (repositories, confidence)
        for item in latent_set:
            latent[item] = confidence
    return rights, latent


def _either_mode(legacy: _Outcomes, abac: _Outcomes) -> _Outcomes:
    """The outcomes on a registry that may be in either mode: what both modes agree on as it is,
    the rest at its wider outcome and only POSSIBLE."""
    legacy_rights, legacy_latent = _by_item(legacy)
    abac_rights, abac_latent = _by_item(abac)
    rights: dict[_Outcome, set[Right]] = {}
    latent: dict[_Outcome, set[Latent]] = {}
    for right in Right:  # enum order, so the result does not depend on set iteration
        one, other = legacy_rights.get(right), abac_rights.get(right)
        if one is None and other is None:
            continue
        if one == other:
            outcome: _Outcome = one  # type: ignore[assignment]  # equal and not both None
        else:
            wider = max((o for o in (one, other) if o is not None), key=_outcome_rank)
            outcome = (wider[0], Confidence.POSSIBLE)
        rights.setdefault(outcome, set()).add(right)
    for item in Latent:
        first, second = legacy_latent.get(item), abac_latent.get(item)
        if first is None and second is None:
            continue
        confidence = first if first == second else Confidence.POSSIBLE
        latent.setdefault((None, confidence), set()).add(item)  # type: ignore[arg-type]
    return tuple(
        (frozenset(rights.get(outcome, ())), frozenset(latent.get(outcome, ())), outcome[0], outcome[1])
        for outcome in {**rights, **latent}
    )


def _path_key(path: AccessPath) -> tuple[object, ...]:
    # Every field takes part, so distinct paths never tie and the order is total.
    return (
        _KIND_ORDER[path.kind],
        (path.role or "").casefold(),
        _LEVEL_ORDER[path.scope_level],
        normalise_scope(path.scope or ""),
        tuple(g.casefold() for g in path.via_groups),
        path.repositories is not None,
        path.repositories or (),
        _CONFIDENCE_ORDER[path.confidence],
        sorted(r.value for r in path.rights),
        sorted(x.value for x in path.latent),
        sorted(x.value for x in path.possible),
        path.assignment_id or "",
        path.role_definition_id or "",
        path.role or "",
        path.scope or "",
        path.via_groups,
        path.inherited,
    )


def _entry_key(entry: AccessEntry) -> tuple[object, ...]:
    p = entry.principal
    return (
        p.display_name.casefold(),
        (p.object_id or "").lower(),
        p.type,  # a StrEnum member sorts as its value, without the `.value` descriptor call
        p.display_name,
        entry.orphaned,
    )


def _suppress_held_latent(paths: Iterable[AccessPath]) -> list[AccessPath]:
    paths = list(paths)
    if not any(p.latent for p in paths):
        return paths
    held = frozenset(r for p in paths if p.repositories is None and p.confidence is Confidence.DIRECT
                     for r in p.rights - p.possible)
    out: list[AccessPath] = []
    for path in paths:
        keep = frozenset(x for x in path.latent if (y := LATENT_YIELDS[x]) is None or not y <= held)
        if keep == path.latent:
            out.append(path)
        elif keep or path.rights:
            dropped = path.latent - keep
            out.append(dataclasses.replace(path, latent=keep, possible=path.possible - dropped))
    return out


class _Draft:
    __slots__ = ("latent", "orphaned", "paths", "principal")

    def __init__(self, principal: Principal, orphaned: bool) -> None:
        self.principal = principal
        self.orphaned = orphaned
        self.paths: dict[AccessPath, None] = {}
        # Whether some path has a latent right: most entries have none, and for them the suppression
        # below has nothing to do (py-spy put a tenth of a tenant-wide analysis on asking each time).
        self.latent = False


def analyse(
    registry: Registry,
    assignments: Iterable[RoleAssignment],
    definitions: Mapping[str, RoleDefinition],
    principals: Mapping[str, Principal],
    groups: Mapping[str, Group],
) -> RegistryAccess:
    """Who can do what on ``registry``.

    ``definitions`` is keyed by lower-case role GUID (unknown ones fall back to the built-in table);
    ``principals`` by object id (an assigned id missing from both it and ``groups`` is orphaned);
    ``groups`` by object id, with direct members.
    """
    lookup: dict[str, RoleDefinition] = {}
    for key, definition in definitions.items():
        lookup[key.lower()] = definition
    for definition in definitions.values():
        lookup.setdefault(definition.guid, definition)
    people: dict[str, Principal] = {}
    for key, principal in principals.items():
        people[key.lower()] = principal
    index = GroupIndex(groups)
    drafts: dict[str, _Draft] = {}
    via_names: dict[int, tuple[str, ...]] = {}  # by id: members of one group share its chain objects

    def add(key: str, principal: Principal, paths: tuple[AccessPath, ...], orphaned: bool = False) -> None:
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = _Draft(principal, orphaned)
        held = draft.paths
        for path in paths:
            held[path] = None
            if path.latent:
                draft.latent = True

    for assignment in assignments:
        if not _is_at_or_above(assignment.scope, registry.id):
            continue
        paths = assignment_paths(registry, assignment, _resolve_definition(assignment, lookup))
        if not paths:
            continue
        pid = assignment.principal_id.lower()
        if pid in index:
            # Members of one group share its chain objects, so each chain's paths are built once
            # per assignment, not once per member (2,000 members: 2,000 dataclass copies saved).
            chain_paths: dict[int, tuple[AccessPath, ...]] = {}
            for member_id, chains in index.members(pid).items():
                member = people.get(member_id)
                if member is None or not member.can_sign_in:
                    continue
                for chain in chains:
                    shared = chain_paths.get(id(chain))
                    if shared is None:
                        via = via_names.get(id(chain))
                        if via is None:
                            via = via_names[id(chain)] = tuple(index.display_name(g) for g in chain)
                        shared = chain_paths[id(chain)] = tuple(dataclasses.replace(p, via_groups=via) for p in paths)
                    add(member_id, member, shared)
            continue
        assignee = people.get(pid)
        if assignee is None:
            orphan = Principal(
                object_id=assignment.principal_id,
                display_name=assignment.principal_id,
                type=PrincipalType.UNKNOWN,
            )
            add(pid, orphan, paths, orphaned=True)
        elif assignee.can_sign_in:
            add(pid, assignee, paths)

    entries: list[AccessEntry] = []
    if registry.admin_user_enabled:
        admin = AccessPath(
            kind=PathKind.ADMIN_USER,
            rights=ADMIN_USER_RIGHTS,
            scope=registry.id,
            scope_level=ScopeLevel.REGISTRY,
        )
        entries.append(
            AccessEntry(
                principal=Principal(object_id=None, display_name=ADMIN_USER_NAME, type=PrincipalType.ADMIN_USER),
                paths=(admin,),
            )
        )
    for draft in drafts.values():
        kept = _suppress_held_latent(draft.paths) if draft.latent else list(draft.paths)
        if kept:
            entries.append(
                AccessEntry(
                    principal=draft.principal,
                    paths=tuple(sorted(kept, key=_path_key)) if len(kept) > 1 else tuple(kept),
                    orphaned=draft.orphaned,
                )
            )
    entries.sort(key=_entry_key)
    anonymous = anonymous_entry(registry)  # issue 13: first, before every named principal
    if anonymous is not None:
        entries.insert(0, anonymous)
    return RegistryAccess(registry=registry, entries=tuple(entries))


def filter_entries(access: RegistryAccess, right: Right | Latent) -> tuple[AccessEntry, ...]:
    """Entries holding ``right`` through any path (e.g. "who can push"), in the analysis order.

    Conditional and possible paths count: the paths say how sure the answer is.
    """
    if isinstance(right, Right):
        return tuple(e for e in access.entries if right in e.rights)
    return tuple(e for e in access.entries if right in e.latent)


def reach(entry: AccessEntry, right: Right) -> tuple[str, ...] | None:
    """Where ``entry`` holds ``right`` (issue 16: a repository-limited push must not read as full push).

    None: on every repository (some path grants it unrestricted, or it is not a repository right);
    otherwise the repository patterns of every path granting it, in order and without repeats, ``()``
    when the only paths granting it hang on a condition not understood. Only meaningful when
    ``entry.can(right)``."""
    patterns: dict[str, None] = {}
    for path in entry.paths:
        if right not in path.rights:
            continue
        if path.repositories is None:
            return None
        patterns.update(dict.fromkeys(path.repositories))
    return tuple(patterns)


def groups_of(entry: AccessEntry) -> tuple[str, ...]:
    """Every group an entry's paths pass through, at any depth (outer before inner, no repeats): a
    filter for an inner group finds the principals it brings in (issue 16)."""
    return tuple(dict.fromkeys(g for path in entry.paths for g in path.via_groups))


def condition_limits(condition: str | None, condition_version: str | None = "2.0") -> str | None:
    """What an assignment's condition does to pull, push and delete, for a person ("pull, push only on
    team/*; delete only on none"); None when it limits none of them
    (issue 16: the principal view shows ABAC repository limits). Which rights the role grants at all
    is not this function's business: a Reader's condition on push reads as a limit on push."""
    from acr_console.access.capabilities import REPOSITORY_RIGHT_DATA_ACTIONS

    parsed = parse_condition(condition, condition_version)
    if parsed is None:
        return None
    limits: dict[Right, str] = {}
    for right in (Right.PULL, Right.PUSH, Right.DELETE):
        scope = parsed.scope_for(REPOSITORY_RIGHT_DATA_ACTIONS[right])
        if scope.unrestricted:
            continue
        limits[right] = (", ".join(scope.repositories or ()) or "none") if scope.understood \
            else "condition not understood"
    if not limits:
        return None
    grouped: dict[str, list[str]] = {}
    for right, where in limits.items():
        grouped.setdefault(where, []).append(right.value)
    return "; ".join(f"{', '.join(rights)} only on {where}" for where, rights in grouped.items())
