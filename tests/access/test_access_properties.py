"""Property tests: soundness and determinism of the analysis under generated inputs."""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_console.access import analyse, parse_condition, to_json
from acr_console.access.capabilities import role_capabilities
from acr_console.access.groups import GroupIndex
from acr_console.access.permissions import action_matches
from acr_console.access.scopes import is_at_or_above, normalise_scope
from acr_console.models import (
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
)
from acr_console.roles import builtin_by_guid, builtin_roles

from .factories import (
    MG_SCOPE,
    OTHER_SUB,
    REGISTRY_ID,
    REPO_ATTR,
    REPO_DELETE,
    REPO_READ,
    REPO_WRITE,
    RG_SCOPE,
    SUB,
    SUB_SCOPE,
    condition,
    custom_role,
    equals,
    registry,
    role_definition_id,
    starts_with,
)

T = TypeVar("T")

PROPERTY_SETTINGS = settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = [
    "Microsoft.ContainerRegistry/registries/pull/read",
    "Microsoft.ContainerRegistry/registries/push/write",
    "Microsoft.ContainerRegistry/registries/artifacts/delete",
    "Microsoft.ContainerRegistry/registries/sign/write",
    "Microsoft.ContainerRegistry/registries/quarantine/read",
    "Microsoft.ContainerRegistry/registries/quarantine/write",
    "Microsoft.ContainerRegistry/registries/listCredentials/action",
    "Microsoft.ContainerRegistry/registries/write",
    "Microsoft.ContainerRegistry/registries/tokens/write",
    "Microsoft.ContainerRegistry/registries/generateCredentials/action",
    "Microsoft.ContainerRegistry/registries/importImage/action",
    "Microsoft.ContainerRegistry/registries/tasks/write",
    "Microsoft.ContainerRegistry/registries/scheduleRun/action",
    "Microsoft.Authorization/roleAssignments/write",
]
DATA_ACTIONS = [
    REPO_READ,
    REPO_WRITE,
    REPO_DELETE,
    "Microsoft.ContainerRegistry/registries/repositories/metadata/read",
    "Microsoft.ContainerRegistry/registries/catalog/read",
    "Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read",
    "Microsoft.ContainerRegistry/registries/quarantinedArtifacts/write",
]
WILDCARDS = [
    "*",
    "*/read",
    "*/write",
    "Microsoft.ContainerRegistry/*",
    "Microsoft.ContainerRegistry/registries/*/read",
    "Microsoft.ContainerRegistry/registries/repositories/*",
    "Microsoft.ContainerRegistry/registries/repositories/content/*",
    "Microsoft.Authorization/*",
    "Microsoft.Authorization/*/Write",
]


def recase(text: str, style: int, seed: int) -> str:
    """One of four casings; a seeded per-character mix is cheaper to generate than a flag per character."""
    if style == 0:
        return text
    if style == 1:
        return text.lower()
    if style == 2:
        return text.upper()
    rnd = random.Random(seed)
    return "".join(c.swapcase() if rnd.random() < 0.5 else c for c in text)


def recased(text: str) -> st.SearchStrategy[str]:
    return st.builds(recase, st.just(text), st.integers(0, 3), st.integers(0, 2**16))


def pattern_lists(vocabulary: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    pattern = st.builds(recase, st.sampled_from(vocabulary + WILDCARDS), st.integers(0, 3), st.integers(0, 2**16))
    return st.lists(pattern, max_size=3).map(tuple)


ACTION_PATTERNS = pattern_lists(ACTIONS)
DATA_ACTION_PATTERNS = pattern_lists(DATA_ACTIONS)


CUSTOM_GUIDS = [f"c0000000-0000-0000-0000-00000000000{i}" for i in range(3)]
UNKNOWN_GUID = "99999999-9999-9999-9999-999999999999"


@st.composite
def custom_definitions(draw: st.DrawFn, guid: str) -> RoleDefinition:
    return custom_role(
        guid,
        f"custom {guid[-1]}",
        actions=draw(ACTION_PATTERNS),
        not_actions=draw(ACTION_PATTERNS),
        data_actions=draw(DATA_ACTION_PATTERNS),
        not_data_actions=draw(DATA_ACTION_PATTERNS),
        custom=draw(st.booleans()),
    )


GROUP_IDS = [f"g{i}" for i in range(5)]
PRINCIPAL_IDS = [f"p{i}" for i in range(6)]
ORPHAN_IDS = ["orphan-1", "orphan-2"]
SCOPES = [
    REGISTRY_ID,
    REGISTRY_ID.upper(),
    RG_SCOPE,
    SUB_SCOPE,
    MG_SCOPE,
    "/",
    REGISTRY_ID + "2",
    f"/subscriptions/{SUB}/resourceGroups/rg-app2",
    f"/subscriptions/{OTHER_SUB}",
]
CONDITIONS = [
    None,
    condition(((REPO_READ,), equals("a"))),
    condition(((REPO_READ, REPO_WRITE), starts_with("team/"))),
    condition(((REPO_WRITE,), f"{equals('x')} OR {equals('y')}")),
    "garbage (",
    f"!(ActionMatches{{'{REPO_READ}'}})",
]
ROLE_GUIDS = [r.guid for r in builtin_roles()] + CUSTOM_GUIDS + [UNKNOWN_GUID]
PRINCIPAL_TYPES = [PrincipalType.SERVICE_PRINCIPAL, PrincipalType.USER, PrincipalType.MANAGED_IDENTITY]


@dataclass
class World:
    registry: Registry
    assignments: list[RoleAssignment]
    definitions: dict[str, RoleDefinition]
    principals: dict[str, Principal]
    groups: dict[str, Group]

    def run(self) -> RegistryAccess:
        return analyse(self.registry, self.assignments, self.definitions, self.principals, self.groups)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    mode = draw(st.sampled_from(list(RoleAssignmentMode)))
    reg = registry(mode, admin=draw(st.booleans()))
    definitions = {g: draw(custom_definitions(g)) for g in CUSTOM_GUIDS}
    principals = {
        pid: Principal(pid, draw(st.sampled_from(["Ann", "ann", "Bob", pid])), draw(st.sampled_from(PRINCIPAL_TYPES)))
        for pid in PRINCIPAL_IDS
    }
    members = st.lists(st.sampled_from(PRINCIPAL_IDS + GROUP_IDS + ["stranger"]), max_size=5, unique=True)
    groups = {gid: Group(gid, f"Group {gid}", tuple(draw(members))) for gid in GROUP_IDS}
    assignments = []
    for n in range(draw(st.integers(0, 8))):
        guid = draw(st.sampled_from(ROLE_GUIDS))
        cond = draw(st.sampled_from(CONDITIONS))
        scope = draw(st.sampled_from(SCOPES))
        assignments.append(
            RoleAssignment(
                id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/a{n}",
                name=f"a{n}",
                scope=scope,
                role_definition_id=role_definition_id(guid),
                principal_id=draw(st.sampled_from(PRINCIPAL_IDS + GROUP_IDS + ORPHAN_IDS)),
                condition=cond,
                condition_version="2.0" if cond else None,
            )
        )
    return World(reg, assignments, definitions, principals, groups)


def definition_for(world: World, guid: str) -> RoleDefinition | None:
    if guid in world.definitions:
        return world.definitions[guid]
    builtin = builtin_by_guid(guid)
    if builtin is None:
        return None
    return RoleDefinition(
        id=role_definition_id(guid),
        name=guid,
        role_name=builtin.name,
        actions=builtin.actions,
        not_actions=builtin.not_actions,
        data_actions=builtin.data_actions,
        not_data_actions=builtin.not_data_actions,
    )


@PROPERTY_SETTINGS
@given(worlds())
def test_every_right_comes_from_an_applicable_assignment(world: World) -> None:
    access = world.run()
    by_id = {a.id: a for a in world.assignments}
    mode, admin = world.registry.role_assignment_mode, world.registry.admin_user_enabled
    seen: set[str | None] = set()
    for entry in access.entries:
        assert entry.principal.type is not PrincipalType.GROUP
        assert entry.principal.object_id not in seen
        seen.add(entry.principal.object_id)
        assert entry.paths
        for path in entry.paths:
            if path.kind is PathKind.ADMIN_USER:
                assert entry.principal.type is PrincipalType.ADMIN_USER and admin
                continue
            source = by_id[path.assignment_id or ""]
            assert is_at_or_above(source.scope, world.registry.id)
            definition = definition_for(world, source.role_guid)
            if definition is None:
                assert not path.rights and not path.latent
                continue
            caps = role_capabilities(definition, mode, admin_user_enabled=admin)
            assert path.rights <= caps.right_set
            assert path.latent <= caps.latent_set
            if source.principal_id in world.groups:
                assert path.via_groups and path.via_groups[0] == world.groups[source.principal_id].display_name
            else:
                assert path.via_groups == ()
    assert (None in seen) is admin


@PROPERTY_SETTINGS
@given(worlds(), st.randoms(use_true_random=False))
def test_result_is_independent_of_input_order(world: World, rnd: random.Random) -> None:
    expected = world.run()
    assignments = list(world.assignments)
    rnd.shuffle(assignments)

    def shuffled(d: dict[str, T]) -> dict[str, T]:
        keys = list(d)
        rnd.shuffle(keys)
        return {k: d[k] for k in keys}

    groups: dict[str, Group] = {}
    for gid, g in shuffled(world.groups).items():
        members = list(g.member_ids)
        rnd.shuffle(members)
        groups[gid] = Group(g.object_id, g.display_name, tuple(members))
    again = analyse(world.registry, assignments, shuffled(world.definitions), shuffled(world.principals), groups)
    assert again == expected
    assert to_json(again) == to_json(expected)


@PROPERTY_SETTINGS
@given(worlds(), worlds())
def test_more_assignments_never_remove_rights(world: World, extra: World) -> None:
    before = {e.principal.object_id: e.rights for e in world.run().entries}
    world.assignments = world.assignments + [dataclasses.replace(a, id=a.id + "-x") for a in extra.assignments]
    after = {e.principal.object_id: e.rights for e in world.run().entries}
    for object_id, rights in before.items():
        assert rights <= after[object_id]


@PROPERTY_SETTINGS
@given(
    custom_definitions(CUSTOM_GUIDS[0]),
    ACTION_PATTERNS,
    DATA_ACTION_PATTERNS,
    st.sampled_from(list(RoleAssignmentMode)),
    st.booleans(),
)
def test_not_actions_never_add_rights(
    definition: RoleDefinition,
    more_not_actions: tuple[str, ...],
    more_not_data_actions: tuple[str, ...],
    mode: RoleAssignmentMode,
    admin: bool,
) -> None:
    narrowed = custom_role(
        definition.name,
        definition.role_name,
        actions=definition.actions,
        not_actions=definition.not_actions + more_not_actions,
        data_actions=definition.data_actions,
        not_data_actions=definition.not_data_actions + more_not_data_actions,
        custom=definition.custom,
    )
    wide = role_capabilities(definition, mode, admin_user_enabled=admin)
    narrow = role_capabilities(narrowed, mode, admin_user_enabled=admin)
    assert narrow.right_set <= wide.right_set
    assert narrow.latent_set <= wide.latent_set
    items: list[Right | Latent] = [*narrow.rights, *narrow.latent]
    # Narrowing can leave a right reachable only through a wildcard (DIRECT becomes POSSIBLE),
    # never the other way round.
    rank = {Confidence.POSSIBLE: 0, Confidence.CONDITIONAL: 1, Confidence.DIRECT: 2}
    for item in items:
        narrowed_confidence, wide_confidence = narrow.confidence(item), wide.confidence(item)
        assert narrowed_confidence is not None and wide_confidence is not None
        assert rank[narrowed_confidence] <= rank[wide_confidence]


@settings(max_examples=200, deadline=2000)
@given(
    st.dictionaries(
        st.sampled_from([f"g{i}" for i in range(8)]),
        st.lists(st.sampled_from([f"g{i}" for i in range(8)] + ["u1", "u2", "u3"]), max_size=6),
        min_size=1,
    )
)
def test_group_graphs_terminate_with_valid_chains(edges: dict[str, list[str]]) -> None:
    groups = {gid: Group(gid, gid.upper(), tuple(m)) for gid, m in edges.items()}
    index = GroupIndex(groups, max_steps=500)
    for root in groups:
        for member, chains in index.members(root).items():
            assert member not in groups
            assert chains
            for chain in chains:
                assert chain[0] == root
                assert len(set(chain)) == len(chain)
                for outer, inner in itertools.pairwise(chain):
                    assert inner in groups[outer].member_ids
                assert member in groups[chain[-1]].member_ids


# ---- conditions: soundness against a brute-force reference ----------------------------------------

NAMES = ["a", "a/b", "ab", "b", "team/api", "team/web", "tools", "x", "y"]
VALUES = ["a", "a/", "team/", "team/api", "t", "", "A", "Team/", "x"]
OPERATORS = ["StringEqualsIgnoreCase", "StringStartsWithIgnoreCase", "StringEquals", "StringStartsWith"]
CONDITION_ACTIONS = [REPO_READ, REPO_WRITE, REPO_DELETE]


@dataclass(frozen=True)
class Expr:
    kind: str  # and | or | not | action | repo | opaque
    items: tuple[Expr, ...] = ()
    text: str = ""
    op: str = ""

    def render(self) -> str:
        if self.kind in ("and", "or"):
            return "(" + f" {self.kind.upper()} ".join(i.render() for i in self.items) + ")"
        if self.kind == "not":
            return f"!({self.items[0].render()})"
        if self.kind == "action":
            return f"ActionMatches{{'{self.text}'}}"
        if self.kind == "repo":
            return f"{REPO_ATTR} {self.op} '{self.text}'"
        return "@Resource[Microsoft.ContainerRegistry/registries:tags] StringEquals 'x'"

    def holds(self, action: str, name: str, opaque: bool) -> bool:
        if self.kind == "and":
            return all(i.holds(action, name, opaque) for i in self.items)
        if self.kind == "or":
            return any(i.holds(action, name, opaque) for i in self.items)
        if self.kind == "not":
            return not self.items[0].holds(action, name, opaque)
        if self.kind == "action":
            return action_matches(self.text, action)
        if self.kind == "repo":
            # Names are lower case; IgnoreCase folds the value, the plain operators compare as is.
            value = self.text.lower() if self.op.endswith("IgnoreCase") else self.text
            if self.op.startswith("StringEquals"):
                return name == value
            return name.startswith(value)
        return opaque


leaves = st.one_of(
    st.builds(lambda a: Expr("action", text=a), st.sampled_from([*CONDITION_ACTIONS, "*/write", "*content*"])),
    st.builds(lambda op, v: Expr("repo", op=op, text=v), st.sampled_from(OPERATORS), st.sampled_from(VALUES)),
    st.just(Expr("opaque")),
)
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda xs: Expr("and", tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: Expr("or", tuple(xs)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda x: Expr("not", (x,)), inner),
    ),
    max_leaves=8,
)


def allowed_names(repositories: tuple[str, ...] | None) -> set[str]:
    if repositories is None:
        return set(NAMES)
    return {n for n in NAMES for p in repositories if (n.startswith(p[:-1]) if p.endswith("*") else n == p)}


@settings(max_examples=400, deadline=2000)
@given(expressions)
def test_condition_never_allows_more_than_it_says(expr: Expr) -> None:
    parsed = parse_condition(expr.render())
    assert parsed is not None
    for action in CONDITION_ACTIONS:
        scope = parsed.scope_for(action)
        reported = allowed_names(scope.repositories)
        for opaque in (False, True):
            truth = {n for n in NAMES if expr.holds(action, n, opaque)}
            assert reported <= truth, (action, scope, opaque)
        if parsed.understood:
            assert scope.understood
            assert reported == {n for n in NAMES if expr.holds(action, n, False)}


@settings(max_examples=300, deadline=2000)
@given(st.text(max_size=200))
def test_condition_parser_never_raises(text: str) -> None:
    parsed = parse_condition(text)
    if parsed is not None:
        for action in CONDITION_ACTIONS:
            scope = parsed.scope_for(action)
            if not scope.understood:
                assert scope.repositories == ()


# ---- scopes and actions ---------------------------------------------------------------------------

segments = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)


@settings(max_examples=200, deadline=2000)
@given(segments, segments, segments, st.data())
def test_every_ancestor_scope_is_above(sub: str, rg: str, name: str, data: st.DataObject) -> None:
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}"
    ancestors = ["/", f"/subscriptions/{sub}", f"/subscriptions/{sub}/resourceGroups/{rg}", rid]
    for scope in ancestors:
        assert is_at_or_above(data.draw(recased(scope)) + data.draw(st.sampled_from(["", "/"])), rid)
        assert normalise_scope(normalise_scope(scope)) == normalise_scope(scope)
    assert not is_at_or_above(rid + "x", rid)
    assert not is_at_or_above(f"/subscriptions/{sub}/resourceGroups/{rg}x", rid)


@settings(max_examples=500, deadline=2000)
@given(st.text(alphabet=st.sampled_from("/ \t\u00a0aBİ-_.ß") | st.characters(), max_size=24))
def test_normalise_scope_is_its_definition(scope: str) -> None:
    """Lower case, one leading slash, no trailing slash, no empty segments, surrounding white space
    gone (its docstring), for any text: the fast path for ids already in that form changes nothing."""
    assert normalise_scope(scope) == "/" + "/".join(p for p in scope.strip().lower().split("/") if p)


@settings(max_examples=200, deadline=2000)
@given(st.sampled_from(ACTIONS + DATA_ACTIONS).flatmap(lambda a: st.tuples(st.just(a), recased(a))), st.data())
def test_action_matches_itself_and_its_wildcards(pair: tuple[str, str], data: st.DataObject) -> None:
    action, recased_action = pair
    assert action_matches(recased_action, action)
    assert action_matches("*", action)
    parts = action.split("/")
    i = data.draw(st.integers(0, len(parts) - 1))
    assert action_matches("/".join([*parts[:i], "*", *parts[i + 1 :]]), action)
