from __future__ import annotations

import pytest

from acr_console.access import analyse, condition_not_understood, filter_entries
from acr_console.models import (
    AccessEntry,
    AccessPath,
    Confidence,
    Group,
    Latent,
    PathKind,
    Principal,
    PrincipalType,
    RegistryAccess,
    Right,
    RoleAssignment,
    RoleAssignmentMode,
    RoleDefinition,
    ScopeLevel,
)

from .builtin_tables import (
    CAT,
    DELETE,
    EFFECTIVE_LATENT,
    ENABLE,
    GRANT,
    IMPORT,
    MINT,
    PULL,
    PUSH,
    RIGHTS,
    latent_column,
)
from .factories import (
    ABAC,
    CATALOG_READ,
    LEGACY,
    META_READ,
    META_WRITE,
    MG_SCOPE,
    OTHER_SUB,
    REGISTRY_ID,
    REPO_READ,
    REPO_WRITE,
    RG_SCOPE,
    SUB,
    SUB_SCOPE,
    assignment,
    condition,
    custom_role,
    equals,
    group,
    group_principal,
    guid_of,
    registry,
    role_definition_id,
    sp,
    starts_with,
    user,
)

READS = (REPO_READ, META_READ)
WRITES = (REPO_WRITE, META_WRITE)
SP1 = sp("sp-1", "build-agent", app_id="app-1")


def run(
    assignments: list[RoleAssignment],
    *,
    mode: RoleAssignmentMode = LEGACY,
    admin: bool = False,
    principals: list[Principal] | None = None,
    groups: list[Group] | None = None,
    definitions: list[RoleDefinition] | None = None,
) -> RegistryAccess:
    people = principals if principals is not None else [SP1]
    return analyse(
        registry(mode, admin=admin),
        assignments,
        {d.guid: d for d in definitions or []},
        {p.object_id: p for p in people if p.object_id},
        {g.object_id: g for g in groups or []},
    )


def entry(access: RegistryAccess, object_id: str | None) -> AccessEntry:
    found = [e for e in access.entries if e.principal.object_id == object_id]
    assert len(found) == 1, [e.principal for e in access.entries]
    return found[0]


def ids(access: RegistryAccess) -> list[str | None]:
    return [e.principal.object_id for e in access.entries]


# ---- built-in roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [LEGACY, ABAC], ids=["legacy", "abac"])
@pytest.mark.parametrize("admin", [False, True], ids=["admin-off", "admin-on"])
@pytest.mark.parametrize("role", sorted(RIGHTS))
def test_builtin_role_effective_access(role: str, mode: RoleAssignmentMode, admin: bool) -> None:
    access = run([assignment(role, "sp-1")], mode=mode, admin=admin)
    rights = RIGHTS[role][0 if mode is LEGACY else 1]
    latent = latent_column(EFFECTIVE_LATENT, role, mode is LEGACY, admin)
    found = [e for e in access.entries if e.principal.object_id == "sp-1"]
    if not rights and not latent:
        assert not found
    else:
        (e,) = found
        assert e.rights == rights
        assert e.latent == latent
        (path,) = e.paths
        assert path.role == role
        assert path.confidence is Confidence.DIRECT and path.repositories is None
    assert (None in ids(access)) is admin


def test_direct_path_fields() -> None:
    a = assignment("AcrPush", "sp-1")
    (e,) = run([a]).entries
    assert e.principal == SP1 and not e.orphaned
    assert e.paths == (
        AccessPath(
            kind=PathKind.ROLE_ASSIGNMENT,
            rights=frozenset({PULL, PUSH}),
            role="AcrPush",
            role_definition_id=a.role_definition_id,
            assignment_id=a.id,
            scope=REGISTRY_ID,
            scope_level=ScopeLevel.REGISTRY,
            inherited=False,
        ),
    )


# ---- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "level", "inherited"),
    [
        (REGISTRY_ID, ScopeLevel.REGISTRY, False),
        (REGISTRY_ID.upper() + "/", ScopeLevel.REGISTRY, False),
        (RG_SCOPE, ScopeLevel.RESOURCE_GROUP, True),
        (RG_SCOPE.lower(), ScopeLevel.RESOURCE_GROUP, True),
        (SUB_SCOPE, ScopeLevel.SUBSCRIPTION, True),
        (MG_SCOPE, ScopeLevel.MANAGEMENT_GROUP, True),
        ("/", ScopeLevel.ROOT, True),
    ],
)
def test_inherited_assignments(scope: str, level: ScopeLevel, inherited: bool) -> None:
    (e,) = run([assignment("AcrPull", "sp-1", scope=scope)]).entries
    (path,) = e.paths
    assert (path.scope, path.scope_level, path.inherited) == (scope, level, inherited)
    assert e.rights == {PULL}


@pytest.mark.parametrize(
    "scope",
    [
        REGISTRY_ID + "2",
        REGISTRY_ID.replace("myreg", "other"),
        f"/subscriptions/{SUB}/resourceGroups/rg-app2",
        f"/subscriptions/{SUB}/resourceGroups/rg-other",
        f"/subscriptions/{OTHER_SUB}",
        f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-app/providers/Microsoft.ContainerRegistry/registries/myreg",
    ],
)
def test_assignments_elsewhere_are_ignored(scope: str) -> None:
    assert run([assignment("Owner", "sp-1", scope=scope)]).entries == ()


def test_same_role_at_two_scopes_gives_two_paths() -> None:
    (e,) = run([assignment("AcrPull", "sp-1"), assignment("AcrPull", "sp-1", scope=SUB_SCOPE)]).entries
    assert [(p.scope_level, p.inherited) for p in e.paths] == [
        (ScopeLevel.REGISTRY, False),
        (ScopeLevel.SUBSCRIPTION, True),
    ]


def test_duplicate_assignments_are_merged() -> None:
    a = assignment("AcrPull", "sp-1")
    (e,) = run([a, a]).entries
    assert len(e.paths) == 1


# ---- groups --------------------------------------------------------------------------------------

OUTER = group("g-outer", "Platform", "g-middle", "u-outer")
MIDDLE = group("g-middle", "Build", "g-inner")
INNER = group("g-inner", "Agents", "sp-1", "u-deep")
NESTED = [OUTER, MIDDLE, INNER]
PEOPLE = [SP1, user("u-outer", "Olga"), user("u-deep", "Dmitri")]


def test_nested_groups_three_deep() -> None:
    access = run([assignment("AcrPush", "g-outer", principal_type="Group")], principals=PEOPLE, groups=NESTED)
    assert ids(access) == ["sp-1", "u-deep", "u-outer"]  # sorted by display name
    assert entry(access, "sp-1").paths[0].via_groups == ("Platform", "Build", "Agents")
    assert entry(access, "u-deep").paths[0].via_groups == ("Platform", "Build", "Agents")
    assert entry(access, "u-outer").paths[0].via_groups == ("Platform",)
    assert all(e.rights == {PULL, PUSH} for e in access.entries)


def test_groups_are_never_entries() -> None:
    principals = [*PEOPLE, *(group_principal(g) for g in NESTED)]
    access = run([assignment("AcrPull", "g-middle")], principals=principals, groups=NESTED)
    assert all(e.principal.type is not PrincipalType.GROUP for e in access.entries)
    assert ids(access) == ["sp-1", "u-deep"]
    assert entry(access, "u-deep").paths[0].via_groups == ("Build", "Agents")


def test_direct_and_group_paths_merge_into_one_entry() -> None:
    access = run(
        [assignment("AcrPull", "sp-1"), assignment("AcrDelete", "g-inner")],
        principals=PEOPLE,
        groups=NESTED,
    )
    e = entry(access, "sp-1")
    assert e.rights == {PULL, DELETE}
    assert [(p.role, p.via_groups) for p in e.paths] == [("AcrDelete", ("Agents",)), ("AcrPull", ())]


def test_member_of_assigned_group_by_two_routes() -> None:
    groups = [
        group("top", "Top", "left", "right"),
        group("left", "Left", "sp-1"),
        group("right", "Right", "sp-1"),
    ]
    (e,) = run([assignment("AcrPull", "top")], groups=groups).entries
    assert [p.via_groups for p in e.paths] == [("Top", "Left"), ("Top", "Right")]


def test_group_cycle_terminates() -> None:
    groups = [group("a", "A", "b", "sp-1"), group("b", "B", "a", "u-deep")]
    access = run([assignment("AcrPull", "a"), assignment("AcrPush", "b")], principals=PEOPLE, groups=groups)
    assert [p.via_groups for p in entry(access, "sp-1").paths] == [("A",), ("B", "A")]
    assert [p.via_groups for p in entry(access, "u-deep").paths] == [("A", "B"), ("B",)]


def test_group_members_that_cannot_be_resolved_are_skipped() -> None:
    groups = [group("g", "G", "sp-1", "ghost", "nested-unknown-group")]
    principals = [SP1, Principal("nested-unknown-group", "Other", PrincipalType.GROUP)]
    access = run([assignment("AcrPull", "g")], principals=principals, groups=groups)
    assert ids(access) == ["sp-1"]


def test_known_group_without_members_list_gives_nothing() -> None:
    principals = [SP1, Principal("g-unlisted", "Unlisted", PrincipalType.GROUP)]
    assert run([assignment("AcrPull", "g-unlisted")], principals=principals).entries == ()


def test_ids_compare_case_insensitively() -> None:
    groups = [group("G-ONE", "One", "SP-1")]
    access = run([assignment("AcrPull", "g-one"), assignment("AcrDelete", "SP-1")], groups=groups)
    (e,) = access.entries
    assert e.principal == SP1
    assert e.rights == {PULL, DELETE}


# ---- orphans, unknown roles, definitions -----------------------------------------------------------


def test_orphaned_principal() -> None:
    access = run([assignment("AcrPush", "deleted-sp-guid")])
    (e,) = access.entries
    assert e.orphaned
    assert e.principal == Principal("deleted-sp-guid", "deleted-sp-guid", PrincipalType.UNKNOWN)
    assert e.rights == {PULL, PUSH}


def test_orphaned_group_assignment_is_an_unknown_entry() -> None:
    (e,) = run([assignment("AcrPull", "deleted-group", principal_type="Group")]).entries
    assert e.orphaned and e.principal.type is PrincipalType.UNKNOWN


def test_orphan_whose_role_grants_nothing_is_not_listed() -> None:
    assert run([assignment("Reader", "deleted")], mode=ABAC).entries == ()


def test_unknown_role_definition_does_not_crash() -> None:
    guid = "99999999-0000-0000-0000-000000000000"
    (e,) = run([assignment(guid, "sp-1")]).entries
    (path,) = e.paths
    assert path.role == guid
    assert path.rights == frozenset() and path.latent == frozenset()
    assert path.role_definition_id == role_definition_id(guid)


def test_missing_definition_falls_back_to_builtin() -> None:
    (e,) = run([assignment("AcrPush", "sp-1")], definitions=[]).entries
    assert e.paths[0].role == "AcrPush"


def test_live_definition_wins_over_builtin() -> None:
    guid = guid_of("AcrPull")
    changed = custom_role(guid, "AcrPull", actions=("Microsoft.ContainerRegistry/registries/push/write",), custom=False)
    (e,) = run([assignment("AcrPull", "sp-1")], definitions=[changed]).entries
    assert e.rights == {PUSH}


def test_definitions_keyed_by_full_id_or_any_case() -> None:
    role = custom_role("ABCDEF00-0000-0000-0000-000000000001", "Pusher", actions=("*/push/write",), custom=False)
    a = assignment("abcdef00-0000-0000-0000-000000000001", "sp-1")
    for key in (role.id, role.guid.upper()):
        access = analyse(registry(), [a], {key: role}, {"sp-1": SP1}, {})
        assert entry(access, "sp-1").rights == {PUSH}


def test_disabled_principal_is_still_listed() -> None:
    disabled = Principal("sp-2", "old", PrincipalType.SERVICE_PRINCIPAL, enabled=False)
    access = run([assignment("AcrPull", "sp-2")], principals=[disabled])
    assert entry(access, "sp-2").principal.enabled is False


# ---- custom roles --------------------------------------------------------------------------------

WILD = "c0000000-0000-0000-0000-00000000000a"


def test_custom_wildcard_role_is_possible() -> None:
    role = custom_role(WILD, "Registry ops", actions=("Microsoft.ContainerRegistry/registries/*/write",))
    (e,) = run([assignment(WILD, "sp-1")], definitions=[role]).entries
    (path,) = e.paths
    assert path.rights == {PUSH, Right.SIGN, Right.QUARANTINE_WRITE}
    assert path.confidence is Confidence.POSSIBLE


def test_custom_role_literal_and_wildcard_one_path() -> None:
    # Issue 16: one assignment is one path; the wildcard's push is named as only possible on it.
    role = custom_role(
        WILD,
        "Mixed",
        actions=("Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/*"),
    )
    (e,) = run([assignment(WILD, "sp-1")], definitions=[role]).entries
    assert [(p.rights, p.confidence, p.possible) for p in e.paths] == [
        (frozenset({PULL, PUSH}), Confidence.DIRECT, frozenset({PUSH})),
    ]


def test_custom_role_not_actions() -> None:
    role = custom_role(WILD, "Almost owner", actions=("*",), not_actions=("*/push/write", "Microsoft.Authorization/*"))
    (e,) = run([assignment(WILD, "sp-1")], definitions=[role]).entries
    assert PUSH not in e.rights and GRANT not in e.latent
    assert PULL in e.rights


def test_custom_role_not_data_actions() -> None:
    role = custom_role(
        WILD,
        "Repo all but delete",
        data_actions=("Microsoft.ContainerRegistry/registries/repositories/content/*",),
        not_data_actions=("Microsoft.ContainerRegistry/registries/repositories/content/delete",),
    )
    (e,) = run([assignment(WILD, "sp-1")], mode=ABAC, definitions=[role]).entries
    assert e.rights == {PULL, PUSH}


def test_action_strings_are_case_insensitive() -> None:
    role = custom_role(WILD, "Shouting", actions=("MICROSOFT.CONTAINERREGISTRY/REGISTRIES/PUSH/WRITE",))
    (e,) = run([assignment(WILD, "sp-1")], definitions=[role]).entries
    assert e.rights == {PUSH} and e.paths[0].confidence is Confidence.DIRECT


# ---- ABAC conditions -------------------------------------------------------------------------------


def writer(cond: str | None) -> AccessEntry:
    access = run([assignment("Container Registry Repository Writer", "sp-1", condition=cond)], mode=ABAC)
    return entry(access, "sp-1")


def test_condition_equals() -> None:
    e = writer(condition((READS + WRITES, equals("hello-world"))))
    (path,) = e.paths
    assert path.rights == {PULL, PUSH}
    assert path.repositories == ("hello-world",)
    assert path.confidence is Confidence.CONDITIONAL


def test_condition_starts_with_and_or() -> None:
    e = writer(condition((READS + WRITES, f"{starts_with('backend/')} OR {equals('tools')}")))
    assert e.paths[0].repositories == ("backend/*", "tools")


def test_condition_restricting_reads_leaves_writes_unrestricted() -> None:
    e = writer(condition((READS, equals("hello-world"))))
    assert [(p.rights, p.repositories, p.confidence) for p in e.paths] == [
        (frozenset({PUSH}), None, Confidence.DIRECT),
        (frozenset({PULL}), ("hello-world",), Confidence.CONDITIONAL),
    ]


def test_condition_blocks_per_action() -> None:
    e = writer(condition((READS, starts_with("app")), (WRITES, equals("app-dev"))))
    assert [(p.rights, p.repositories) for p in e.paths] == [
        (frozenset({PULL}), ("app*",)),
        (frozenset({PUSH}), ("app-dev",)),
    ]


def test_garbage_condition() -> None:
    e = writer("definitely not ABAC")
    (path,) = e.paths
    assert path.rights == {PULL, PUSH}
    assert path.repositories == ()
    assert path.confidence is Confidence.CONDITIONAL
    assert condition_not_understood(path)
    assert not condition_not_understood(writer(None).paths[0])


def test_condition_denying_reads_removes_pull() -> None:
    e = writer(f"!(ActionMatches{{'{REPO_READ}'}})")
    assert e.rights == {PUSH}


def test_catalog_lister_ignores_repository_condition() -> None:
    cond = condition((READS, equals("x")))
    access = run(
        [
            assignment("Container Registry Repository Catalog Lister", "sp-1", condition=cond),
            assignment("Container Registry Data Importer and Data Reader", "sp-1", condition=cond),
        ],
        mode=ABAC,
    )
    e = entry(access, "sp-1")
    assert e.rights == {PULL, CAT}
    catalog_paths = [p for p in e.paths if CAT in p.rights]
    assert all(p.repositories is None for p in catalog_paths)
    importer = [p for p in e.paths if p.role == "Container Registry Data Importer and Data Reader"]
    assert [(p.rights, p.latent, p.repositories) for p in importer] == [
        (frozenset({CAT}), frozenset({IMPORT}), None),
        (frozenset({PULL}), frozenset(), ("x",)),
    ]


def test_condition_naming_catalog_with_repository_filter_denies_catalog() -> None:
    cond = condition(((CATALOG_READ,), equals("x")))
    access = run([assignment("Container Registry Repository Catalog Lister", "sp-1", condition=cond)], mode=ABAC)
    assert access.entries == ()


def test_condition_on_legacy_roles_does_not_restrict_actions() -> None:
    (e,) = run([assignment("AcrPush", "sp-1", condition=condition((READS, equals("x"))))]).entries
    assert e.paths[0].repositories is None and e.rights == {PULL, PUSH}


def test_custom_wildcard_with_condition_stays_possible() -> None:
    role = custom_role(WILD, "Repo wild", data_actions=("Microsoft.ContainerRegistry/registries/repositories/*",))
    cond = condition((READS + WRITES, equals("x")))
    (e,) = run([assignment(WILD, "sp-1", condition=cond)], mode=ABAC, definitions=[role]).entries
    assert [(p.rights, p.repositories, p.confidence) for p in e.paths] == [
        (frozenset({DELETE}), None, Confidence.POSSIBLE),
        (frozenset({PULL, PUSH}), ("x",), Confidence.POSSIBLE),
    ]


DELEGATION = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
    "{7f951dda4ed34680a7ca43fe172d538d}))"
)


def test_delegation_condition_makes_grant_roles_possible() -> None:
    access = run([assignment("Role Based Access Control Administrator", "sp-1", condition=DELEGATION)])
    e = entry(access, "sp-1")
    # Issue 16: one path for the one assignment; the latent right it only possibly gives is named.
    assert [(p.rights, p.latent, p.confidence, p.possible) for p in e.paths] == [
        (frozenset({PULL, Right.QUARANTINE_READ}), frozenset({GRANT}), Confidence.DIRECT, frozenset({GRANT})),
    ]


# ---- admin user ----------------------------------------------------------------------------------


def test_admin_user_enabled() -> None:
    access = run([], admin=True)
    (e,) = access.entries
    assert e.principal == Principal(None, "admin user", PrincipalType.ADMIN_USER)
    (path,) = e.paths
    assert path.kind is PathKind.ADMIN_USER
    assert path.rights == {PULL, PUSH, DELETE}
    assert path.scope == REGISTRY_ID and not path.inherited


def test_admin_user_disabled() -> None:
    assert run([], admin=False).entries == ()


def test_admin_user_sorts_by_name() -> None:
    principals = [sp("a", "aardvark"), sp("z", "zebra")]
    access = run([assignment("AcrPull", "a"), assignment("AcrPull", "z")], admin=True, principals=principals)
    assert ids(access) == ["a", None, "z"]


# ---- latent rights -------------------------------------------------------------------------------

CDAC = "Container Registry Contributor and Data Access Configuration Administrator"


def test_latent_kept_when_rights_not_held_in_full() -> None:
    (e,) = run([assignment("AcrPush", "sp-1"), assignment(CDAC, "sp-1")]).entries
    assert e.latent == {ENABLE, MINT}  # no delete yet, so tokens or the admin user still add some


def test_latent_hidden_and_empty_path_dropped_when_held_in_full() -> None:
    (e,) = run([assignment("AcrPush", "sp-1"), assignment("AcrDelete", "sp-1"), assignment(CDAC, "sp-1")]).entries
    assert e.latent == frozenset()
    assert [p.role for p in e.paths] == ["AcrDelete", "AcrPush"]


def test_conditional_rights_do_not_hide_latent() -> None:
    cond = condition((READS + WRITES, equals("x")))
    access = run(
        [assignment("Container Registry Repository Contributor", "sp-1", condition=cond), assignment(CDAC, "sp-1")],
        mode=ABAC,
    )
    assert entry(access, "sp-1").latent == {ENABLE, MINT}


def test_import_hidden_once_push_is_held() -> None:
    role = "Container Registry Data Importer and Data Reader"
    (e,) = run([assignment(role, "sp-1"), assignment("AcrPush", "sp-1")]).entries
    assert e.latent == frozenset()
    assert [p.role for p in e.paths] == ["AcrPush", role]  # the importer path still grants pull


def test_grant_roles_always_reported() -> None:
    (e,) = run([assignment("Owner", "sp-1"), assignment("Contributor", "sp-1")]).entries
    assert e.latent == {GRANT}


def test_filter_entries() -> None:
    principals = [sp("p1", "puller"), sp("p2", "pusher"), sp("p3", "owner")]
    access = run(
        [assignment("AcrPull", "p1"), assignment("AcrPush", "p2"), assignment("Owner", "p3")],
        admin=True,
        principals=principals,
    )
    assert [e.principal.display_name for e in filter_entries(access, PUSH)] == ["admin user", "owner", "pusher"]
    assert [e.principal.display_name for e in filter_entries(access, Latent.GRANT_ROLES)] == ["owner"]
    assert filter_entries(access, CAT) == ()


def test_sorting_is_case_insensitive_then_object_id() -> None:
    principals = [sp("3", "beta"), sp("2", "Alpha"), sp("1", "alpha"), user("0", "Beta")]
    access = run([assignment("AcrPull", p.object_id or "") for p in principals], principals=principals)
    assert ids(access) == ["1", "2", "0", "3"]


# ---- scale ---------------------------------------------------------------------------------------


def test_two_thousand_principals_two_hundred_nested_groups() -> None:
    # How long the analysis takes at scale is measured by the benchmarks (benchmarks/who_can_push.py,
    # 2,300 principals and 200 nested groups), not asserted here.
    principals = [sp(f"sp-{i:04d}", f"principal {i:04d}") for i in range(2000)]
    groups = [
        group(f"g-{g:03d}", f"group {g}", *(f"sp-{i:04d}" for i in range(g * 10, g * 10 + 10)), f"g-{g + 1:03d}")
        for g in range(200)
    ]
    roles = ["AcrPull", "AcrPush", "Reader", "Container Registry Repository Writer"]
    assignments = [
        assignment(roles[i % 4], p.object_id or "", scope=(REGISTRY_ID, RG_SCOPE)[i % 2])
        for i, p in enumerate(principals)
    ]
    assignments += [assignment("AcrDelete", f"g-{g:03d}") for g in range(0, 200, 20)]
    access = run(assignments, principals=principals, groups=groups)
    assert len(access.entries) == 2000
    # Everyone is a member of g-000 through the chain of nested groups, and so may delete; the
    # deepest through all 200 of them.
    assert all(e.can(Right.DELETE) for e in access.entries)
    deepest = next(e for e in access.entries if e.principal.object_id == "sp-1999")
    assert max(len(p.via_groups) for p in deepest.paths) == 200
