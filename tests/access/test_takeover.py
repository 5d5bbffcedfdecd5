"""Who can take over a principal with rights on a registry (issue 17): pure analysis over plain facts.

Rules and their sources: acr_console/access/entra_roles.py, acr_console/data/entra_roles.json
(Microsoft Entra built-in roles,
https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference; Microsoft
Graph permissions reference, https://learn.microsoft.com/graph/permissions-reference).
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_console.access import analyse, takeover_paths, to_json, to_json_with_takeover
from acr_console.access.entra_roles import (
    APPLICATION_ADMINISTRATOR,
    CLOUD_APPLICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
    HYBRID_IDENTITY_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR,
    graph_app_roles,
)
from acr_console.access.takeover import TakeoverIndex, federated_credentials, holds
from acr_console.models import (
    AccessEntry,
    AppRoleAssignment,
    CredentialTarget,
    DirectoryFacts,
    DirectoryRoleAssignment,
    DirectoryRoleDefinition,
    FederatedIdentityCredential,
    Group,
    Principal,
    PrincipalType,
    Right,
    TakeoverHow,
    TakeoverPath,
)

from .factories import assignment, group, registry, sp, user

GRAPH_SP = "graph-sp"
APP_RW_ALL = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"
APP_RW_OWNEDBY = "18a4783c-866b-4cc7-a460-3d5e5662c884"
APPROLE_RW_ALL = "06b708a9-e830-4db3-a914-8e69da51d44f"
ROLEMGMT_RW_DIR = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"  # resets passwords; no application rights

P_SP = "p-sp"
P_APP = "p-app"


def p_principal() -> Principal:
    return dataclasses.replace(sp(P_SP, "github-actions-payments", app_id="p-appid"), application_object_id=P_APP)


def p_entry() -> AccessEntry:
    return AccessEntry(principal=p_principal())


def graph(principal_id: str, app_role_id: str, *, permission: str | None = None, n: int = 0) -> AppRoleAssignment:
    return AppRoleAssignment(
        id=f"ara-{principal_id}-{n}-{app_role_id[:4]}", principal_id=principal_id, app_role_id=app_role_id,
        resource_id=GRAPH_SP, permission=permission)


def role(principal_id: str, template: str, scope: str = "/", n: int = 0) -> DirectoryRoleAssignment:
    return DirectoryRoleAssignment(id=f"ra-{principal_id}-{n}", principal_id=principal_id,
                                   role_definition_id=template, directory_scope_id=scope)


def summary(paths: tuple[TakeoverPath, ...]) -> list[tuple[str, str, str, int, tuple[str, ...], str | None]]:
    return [(p.by.display_name, p.how.value, p.detail, p.steps, p.via_groups, p.scope) for p in paths]


def acceptance_facts() -> DirectoryFacts:
    """The acceptance's cast: U owns P's application; G (Application Administrator scoped to P's
    application) has member V; S has Application.ReadWrite.All; T has AppRoleAssignment.ReadWrite.All;
    W has nothing. P has a federated credential for contoso/payments' main branch."""
    return DirectoryFacts(
        principals=(user("u", "U"), user("v", "V"), user("w", "W"), sp("s", "S"), sp("t", "T"), p_principal()),
        groups=(group("g", "G", "v"),),
        application_owners={P_APP: (user("u", "U"),)},
        role_definitions=(
            DirectoryRoleDefinition(id=APPLICATION_ADMINISTRATOR, display_name="Application Administrator",
                                    template_id=APPLICATION_ADMINISTRATOR),
        ),
        role_assignments=(role("g", APPLICATION_ADMINISTRATOR, f"/{P_APP}"),),
        app_role_assignments=(
            graph("s", APP_RW_ALL, permission="Application.ReadWrite.All"),
            graph("t", APPROLE_RW_ALL, permission="AppRoleAssignment.ReadWrite.All"),
        ),
        federated_credentials={P_APP: (FederatedIdentityCredential(
            id="fic-1", name="payments-main", issuer="https://token.actions.githubusercontent.com",
            subject="repo:contoso/payments:ref:refs/heads/main"),)},
    )


def test_acceptance_cast() -> None:
    paths = takeover_paths(p_entry(), acceptance_facts())
    assert summary(paths) == [
        ("U", "application-owner", "owner", 1, (), None),
        ("V", "directory-role", "Application Administrator", 1, ("G",), f"/{P_APP}"),
        ("S", "graph-permission", "Application.ReadWrite.All", 1, (), None),
        ("T", "graph-permission", "AppRoleAssignment.ReadWrite.All", 2, (), None),
    ]
    assert all(p.target is CredentialTarget.APPLICATION for p in paths)
    assert not any(p.itself for p in paths)
    assert "W" not in {p.by.display_name for p in paths}


def test_acceptance_json_adds_takeover_and_federated_and_keeps_every_other_key() -> None:
    access = analyse(registry(), [assignment("AcrPush", P_SP)], {}, {P_SP: p_principal()}, {})
    plain = to_json(access)
    doc = to_json_with_takeover(access, acceptance_facts())
    (entry,) = doc["entries"]
    assert entry["push"] is True
    assert {k: v for k, v in entry.items() if k not in {"takeover", "federated"}} == plain["entries"][0]
    assert {k: v for k, v in doc.items() if k != "entries"} == {k: v for k, v in plain.items() if k != "entries"}
    assert entry["takeover"][0] == {
        "by": {"objectId": "u", "displayName": "U", "type": "user", "enabled": True},
        "how": "application-owner",
        "detail": "owner",
        "scope": None,
        "target": "application",
        "viaGroups": [],
        "steps": 1,
        "self": False,
    }
    assert [(t["by"]["displayName"], t["how"], t["detail"], t["steps"], t["viaGroups"]) for t in entry["takeover"]] == [
        ("U", "application-owner", "owner", 1, []),
        ("V", "directory-role", "Application Administrator", 1, ["G"]),
        ("S", "graph-permission", "Application.ReadWrite.All", 1, []),
        ("T", "graph-permission", "AppRoleAssignment.ReadWrite.All", 2, []),
    ]
    (fic,) = entry["federated"]
    assert (fic["name"], fic["subject"], fic["audiences"]) == (
        "payments-main", "repo:contoso/payments:ref:refs/heads/main", ["api://AzureADTokenExchange"])
    assert (fic["reading"]["kind"], fic["reading"]["repository"], fic["reading"]["refKind"],
            fic["reading"]["refName"]) == ("github", "contoso/payments", "branch", "main")
    assert json.loads(json.dumps(doc)) == doc


@pytest.mark.parametrize(
    ("template", "name", "steps"),
    [
        (APPLICATION_ADMINISTRATOR, "Application Administrator", 1),
        (CLOUD_APPLICATION_ADMINISTRATOR, "Cloud Application Administrator", 1),
        (GLOBAL_ADMINISTRATOR, "Global Administrator", 1),
        # no credentials/update, but owners/update: make itself an owner first
        (HYBRID_IDENTITY_ADMINISTRATOR, "Hybrid Identity Administrator", 2),
        # roleAssignments: assign itself Application Administrator first
        (PRIVILEGED_ROLE_ADMINISTRATOR, "Privileged Role Administrator", 2),
    ],
)
def test_builtin_roles_at_tenant_scope_from_the_table(template: str, name: str, steps: int) -> None:
    # the role definition was not read: the built-in table (by template id) names and judges it
    facts = DirectoryFacts(principals=(user("a", "Ada"),), role_assignments=(role("a", template),))
    assert summary(takeover_paths(p_entry(), facts)) == [("Ada", "directory-role", name, steps, (), "/")]


def test_roles_without_application_rights_give_nothing() -> None:
    facts = DirectoryFacts(principals=(user("a", "Ada"),), role_assignments=(
        role("a", HELPDESK_ADMINISTRATOR), role("a", "00000000-0000-0000-0000-00000000dead", n=1)))
    assert takeover_paths(p_entry(), facts) == ()


@pytest.mark.parametrize(
    ("scope", "applies"),
    [("/", True), (f"/{P_APP}", True), (f"/{P_SP}", True), (f"/{P_APP.upper()}", True),
     ("/other-app", False),
     # administrative units hold users, groups and devices only (admin-units-assign-roles.md), so a role
     # at an administrative unit's scope never reaches an application, whatever the unit's id
     (f"/administrativeUnits/{P_APP}", False), (f"/administrativeUnits/{P_SP}", False)],
)
def test_role_scope(scope: str, applies: bool) -> None:
    facts = DirectoryFacts(principals=(user("a", "Ada"),),
                           role_assignments=(role("a", APPLICATION_ADMINISTRATOR, scope),))
    paths = takeover_paths(p_entry(), facts)
    assert [p.scope for p in paths] == ([scope] if applies else [])


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (("microsoft.directory/applications/credentials/update",), (CredentialTarget.APPLICATION, 1)),
        (("microsoft.directory/applications/allProperties/allTasks",), (CredentialTarget.APPLICATION, 1)),
        (("Microsoft.Directory/Applications/AllProperties/Update",), (CredentialTarget.APPLICATION, 1)),
        (("microsoft.directory/applications.myOrganization/credentials/update",), (CredentialTarget.APPLICATION, 1)),
        (("microsoft.directory/servicePrincipals/credentials/update",), (CredentialTarget.SERVICE_PRINCIPAL, 1)),
        (("microsoft.directory/servicePrincipals/owners/update",), (CredentialTarget.SERVICE_PRINCIPAL, 2)),
        (("microsoft.directory/applications/basic/update", "microsoft.directory/applications/allProperties/read"),
         None),
        (("microsoft.directory/applications.myOrganization/basic/update",), None),
        ((), None),
    ],
)
def test_custom_role_judged_by_its_actions(
    actions: tuple[str, ...], expected: tuple[CredentialTarget, int] | None
) -> None:
    definition = DirectoryRoleDefinition(id="custom-1", display_name="App credential rotators", is_built_in=False,
                                         template_id="custom-1", allowed_resource_actions=actions)
    facts = DirectoryFacts(principals=(user("a", "Ada"),), role_definitions=(definition,),
                           role_assignments=(role("a", "custom-1"),))
    paths = takeover_paths(p_entry(), facts)
    assert [(p.target, p.steps, p.detail) for p in paths] == (
        [] if expected is None else [(*expected, "App credential rotators")])


def test_custom_role_reusing_a_builtin_template_id_is_not_judged_by_the_table() -> None:
    definition = DirectoryRoleDefinition(id="c-9", display_name="Look-alike", is_built_in=False,
                                         template_id=APPLICATION_ADMINISTRATOR)
    facts = DirectoryFacts(principals=(user("a"),), role_definitions=(definition,),
                           role_assignments=(role("a", "c-9"),))
    assert takeover_paths(p_entry(), facts) == ()


def test_read_definition_overrides_the_table() -> None:
    # a built-in role read with its permissions is judged by them, not by the table
    definition = DirectoryRoleDefinition(id=APPLICATION_ADMINISTRATOR, display_name="Application Administrator",
                                         template_id=APPLICATION_ADMINISTRATOR,
                                         allowed_resource_actions=("microsoft.directory/applications/basic/update",))
    facts = DirectoryFacts(principals=(user("a"),), role_definitions=(definition,),
                           role_assignments=(role("a", APPLICATION_ADMINISTRATOR),))
    assert takeover_paths(p_entry(), facts) == ()


def test_graph_permissions() -> None:
    facts = DirectoryFacts(
        principals=(sp("own", "Owner bot"), sp("other", "Stranger bot"), sp("rm", "Role bot"), sp("id", "Id only")),
        application_owners={P_APP: (sp("own", "Owner bot"),)},
        app_role_assignments=(
            graph("own", APP_RW_OWNEDBY, permission="Application.ReadWrite.OwnedBy"),
            graph("other", APP_RW_OWNEDBY, permission="Application.ReadWrite.OwnedBy"),  # owns nothing of P
            graph("rm", ROLEMGMT_RW_DIR, permission="RoleManagement.ReadWrite.Directory"),
            graph("id", APP_RW_ALL),  # value not resolved by the reader: the well-known id names it
            graph("id", "00000000-0000-0000-0000-0000000000ff", n=1),  # an unrelated permission
        ),
    )
    assert summary(takeover_paths(p_entry(), facts)) == [
        ("Id only", "graph-permission", "Application.ReadWrite.All", 1, (), None),
        ("Owner bot", "graph-permission", "Application.ReadWrite.OwnedBy", 1, (), None),
        ("Role bot", "graph-permission", "RoleManagement.ReadWrite.Directory", 2, (), None),
    ]


def test_service_principal_owner_needs_ownedby_and_user_owner_of_sp_counts() -> None:
    facts = DirectoryFacts(
        principals=(sp("bot", "Bot"), user("ann", "Ann")),
        application_owners={P_APP: (sp("bot", "Bot"),)},  # an app-only caller with no Graph permission
        service_principal_owners={P_SP: (user("ann", "Ann"), sp("bot", "Bot"))},
        app_role_assignments=(graph("bot", APP_RW_OWNEDBY, permission="Application.ReadWrite.OwnedBy"),),
    )
    paths = takeover_paths(p_entry(), facts)
    assert [(p.by.display_name, p.how, p.target) for p in paths] == [
        ("Ann", TakeoverHow.SERVICE_PRINCIPAL_OWNER, CredentialTarget.SERVICE_PRINCIPAL),
        ("Bot", TakeoverHow.GRAPH_PERMISSION, CredentialTarget.APPLICATION),
    ]
    no_permission = dataclasses.replace(facts, app_role_assignments=())
    assert [p.by.display_name for p in takeover_paths(p_entry(), no_permission)] == ["Ann"]


def test_ownedby_on_an_owned_service_principal_targets_it() -> None:
    facts = DirectoryFacts(
        principals=(sp("bot", "Bot"),),
        service_principal_owners={P_SP: (sp("bot", "Bot"),)},
        app_role_assignments=(graph("bot", APP_RW_OWNEDBY, permission="Application.ReadWrite.OwnedBy"),),
    )
    (path,) = takeover_paths(p_entry(), facts)
    assert (path.target, path.steps) == (CredentialTarget.SERVICE_PRINCIPAL, 1)


def test_principal_that_can_add_credentials_to_itself_is_kept_and_marked() -> None:
    facts = DirectoryFacts(
        principals=(p_principal(),),
        application_owners={P_APP: (user("u", "U"),)},
        app_role_assignments=(graph(P_SP, APP_RW_ALL, permission="Application.ReadWrite.All"),),
    )
    paths = takeover_paths(p_entry(), facts)
    assert [(p.by.display_name, p.itself) for p in paths] == [("U", False), ("github-actions-payments", True)]
    assert to_json_with_takeover(
        analyse(registry(), [assignment("AcrPush", P_SP)], {}, {P_SP: p_principal()}, {}), facts
    )["entries"][0]["takeover"][1]["self"] is True


def test_nested_groups_show_the_chain_and_every_route() -> None:
    facts = DirectoryFacts(
        principals=(user("v", "V"),),
        groups=(group("g1", "App admins", "g2", "v"), group("g2", "Platform team", "v")),
        role_assignments=(role("g1", CLOUD_APPLICATION_ADMINISTRATOR),),
    )
    assert [(p.by.display_name, p.via_groups) for p in takeover_paths(p_entry(), facts)] == [
        ("V", ("App admins",)),
        ("V", ("App admins", "Platform team")),
    ]


def test_group_holding_a_graph_permission_gives_its_members_nothing() -> None:
    # application permissions are in an application's own token only
    facts = DirectoryFacts(principals=(user("v"),), groups=(group("g", "G", "v"),),
                           app_role_assignments=(graph("g", APP_RW_ALL, permission="Application.ReadWrite.All"),))
    assert takeover_paths(p_entry(), facts) == ()


def test_unknown_holder_is_named_by_graph_hint_or_id() -> None:
    a = dataclasses.replace(graph("x1", APP_RW_ALL), principal_display_name="ci-bot", principal_type="ServicePrincipal")
    facts = DirectoryFacts(app_role_assignments=(a,), role_assignments=(role("ghost", GLOBAL_ADMINISTRATOR),))
    by = {p.by.object_id: p.by for p in takeover_paths(p_entry(), facts)}
    assert (by["x1"].display_name, by["x1"].type) == ("ci-bot", PrincipalType.SERVICE_PRINCIPAL)
    assert (by["ghost"].display_name, by["ghost"].type) == ("ghost", PrincipalType.UNKNOWN)


@pytest.mark.parametrize(
    "principal",
    [
        Principal(object_id="mi", display_name="mi", type=PrincipalType.MANAGED_IDENTITY, application_object_id=P_APP),
        user("someone"),
        Principal(object_id=None, display_name="contosoprod", type=PrincipalType.ADMIN_USER),
        Principal(object_id=None, display_name="anyone", type=PrincipalType.ANONYMOUS),
    ],
)
def test_only_service_principals_are_taken_over_here(principal: Principal) -> None:
    assert takeover_paths(AccessEntry(principal=principal), acceptance_facts()) == ()


def test_service_principal_without_known_application_gets_sp_paths_only() -> None:
    entry = AccessEntry(principal=sp(P_SP, "p"))  # application object id not known
    facts = dataclasses.replace(acceptance_facts(), role_assignments=(role("a", APPLICATION_ADMINISTRATOR),),
                                principals=(user("a", "Ada"), user("u", "U"), sp("s", "S"), sp("t", "T")))
    paths = takeover_paths(entry, facts)
    assert [(p.by.display_name, p.target.value) for p in paths] == [
        ("Ada", "servicePrincipal"), ("S", "servicePrincipal"), ("T", "servicePrincipal")]
    assert federated_credentials(entry, facts) == ()


def test_ids_compare_case_insensitively() -> None:
    facts = acceptance_facts()
    upper = DirectoryFacts(
        principals=facts.principals,
        groups=(Group(object_id="G", display_name="G", member_ids=("V",)),),
        application_owners={P_APP.upper(): facts.application_owners[P_APP]},
        role_definitions=facts.role_definitions,
        role_assignments=(role("G", APPLICATION_ADMINISTRATOR.upper(), f"/{P_APP.upper()}"),),
        app_role_assignments=(graph("S", APP_RW_ALL.upper()), graph("T", APPROLE_RW_ALL.upper())),
        federated_credentials={P_APP.upper(): facts.federated_credentials[P_APP]},
    )
    # the scope is shown as the directory spelled it; everything else matches
    lowered = [(*row[:5], (row[5] or "").lower() or None) for row in summary(takeover_paths(p_entry(), upper))]
    assert lowered == summary(takeover_paths(p_entry(), facts))
    assert len(federated_credentials(p_entry(), upper)) == 1


def test_federated_credentials_of_application_and_own_object() -> None:
    fic = FederatedIdentityCredential(id="1", name="b", issuer="https://i", subject="s")
    other = FederatedIdentityCredential(id="2", name="a", issuer="https://i", subject="t")
    facts = DirectoryFacts(federated_credentials={P_APP: (fic,), P_SP: (other, fic)})
    assert [c.name for c in federated_credentials(p_entry(), facts)] == ["a", "b"]


MD = "microsoft.directory"


@pytest.mark.parametrize(
    ("actions", "wanted", "expected"),
    [
        ([f"{MD}/applications/credentials/update"], f"{MD}/applications/credentials/update", True),
        ([f"{MD}/applications/allProperties/allTasks"], f"{MD}/applications/owners/update", True),
        ([f"{MD}/servicePrincipals/allProperties/allTasks"], f"{MD}/applications/credentials/update", False),
        ([f"{MD}/applications/credentials/update"], f"{MD}/servicePrincipals/credentials/update", False),
        ([f"{MD}/applications/allProperties/read"], f"{MD}/applications/credentials/update", False),
        ([f"{MD}/roleAssignments/allProperties/allTasks"], f"{MD}/roleAssignments/allProperties/allTasks", True),
    ],
)
def test_holds(actions: list[str], wanted: str, expected: bool) -> None:
    assert holds(actions, wanted) is expected


def test_graph_app_role_table_names_the_four_permissions() -> None:
    assert sorted(graph_app_roles().values()) == [
        "AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy",
        "RoleManagement.ReadWrite.Directory"]


# -- properties ---------------------------------------------------------------------------------------

PEOPLE = ["u1", "u2", "u3", "s1", "s2", P_SP]  # the principal itself may hold rights over itself
GROUPS = ["g1", "g2"]
TEMPLATES = [APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR,
             HYBRID_IDENTITY_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, HELPDESK_ADMINISTRATOR]
SCOPES = ["/", f"/{P_APP}", f"/{P_SP}", "/other", "/administrativeUnits/au"]
PERMS = [APP_RW_ALL, APP_RW_OWNEDBY, APPROLE_RW_ALL, ROLEMGMT_RW_DIR, "00000000-0000-0000-0000-000000000001"]


def _principal(oid: str) -> Principal:
    return user(oid, oid.upper()) if oid.startswith("u") else sp(oid, oid.upper())


@st.composite
def directory_facts(draw: st.DrawFn) -> DirectoryFacts:
    holders = st.sampled_from(PEOPLE + GROUPS)
    roles = draw(st.lists(st.tuples(holders, st.sampled_from(TEMPLATES), st.sampled_from(SCOPES)), max_size=6))
    perms = draw(st.lists(st.tuples(st.sampled_from(PEOPLE + GROUPS), st.sampled_from(PERMS)), max_size=6))
    app_owners = draw(st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True))
    sp_owners = draw(st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True))
    g1 = draw(st.lists(st.sampled_from([*PEOPLE, "g2"]), max_size=3, unique=True))
    g2 = draw(st.lists(st.sampled_from([*PEOPLE, "g1"]), max_size=3, unique=True))
    return DirectoryFacts(
        principals=tuple(_principal(p) for p in PEOPLE),
        groups=(group("g1", "G1", *g1), group("g2", "G2", *g2)),
        application_owners={P_APP: tuple(_principal(p) for p in app_owners)},
        service_principal_owners={P_SP: tuple(_principal(p) for p in sp_owners)},
        role_assignments=tuple(role(h, t, s, n=i) for i, (h, t, s) in enumerate(roles)),
        app_role_assignments=tuple(graph(h, p, n=i) for i, (h, p) in enumerate(perms)),
    )


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(facts=directory_facts())
def test_every_path_is_grounded_in_the_facts(facts: DirectoryFacts) -> None:
    index = TakeoverIndex(facts)
    for path in takeover_paths(p_entry(), facts):
        who = path.by.object_id
        assert who is not None
        assert path.steps in (1, 2)
        assert path.by.type is not PrincipalType.GROUP  # groups are expanded, never the "who"
        if path.how is TakeoverHow.APPLICATION_OWNER:
            assert who in {o.object_id for o in facts.application_owners[P_APP]} and path.by.type is PrincipalType.USER
        elif path.how is TakeoverHow.SERVICE_PRINCIPAL_OWNER:
            assert who in {o.object_id for o in facts.service_principal_owners[P_SP]}
        elif path.how is TakeoverHow.DIRECTORY_ROLE:
            holders = {
                a.principal_id for a in facts.role_assignments
                if a.directory_scope_id == path.scope and index.definition(a.role_definition_id)[0] == path.detail
            }
            direct = who in holders and not path.via_groups
            via = bool(path.via_groups) and any(
                who in index.groups.members(h) for h in holders if h in index.groups)
            assert direct or via
        else:
            assert who in index.permissions and path.detail in index.permissions[who]
            assert who not in GROUPS


@PROPERTY
@given(facts=directory_facts(), seed=st.integers(0, 2**16))
def test_order_of_facts_does_not_change_the_answer(facts: DirectoryFacts, seed: int) -> None:
    rng = random.Random(seed)

    def shuffled(items: tuple[object, ...]) -> tuple[object, ...]:
        out = list(items)
        rng.shuffle(out)
        return tuple(out)

    mixed = dataclasses.replace(
        facts,
        principals=shuffled(facts.principals),
        groups=shuffled(facts.groups),
        role_assignments=shuffled(facts.role_assignments),
        app_role_assignments=shuffled(facts.app_role_assignments),
    )
    assert takeover_paths(p_entry(), mixed) == takeover_paths(p_entry(), facts)


@PROPERTY
@given(facts=directory_facts(), extra=st.tuples(st.sampled_from(PEOPLE + GROUPS), st.sampled_from(TEMPLATES),
                                                 st.sampled_from(SCOPES)))
def test_adding_a_role_assignment_never_removes_a_path(
    facts: DirectoryFacts, extra: tuple[str, str, str]
) -> None:
    before = set(takeover_paths(p_entry(), facts))
    more = dataclasses.replace(facts, role_assignments=(*facts.role_assignments, role(*extra, n=99)))
    assert before <= set(takeover_paths(p_entry(), more))


@PROPERTY
@given(facts=directory_facts())
def test_someone_named_nowhere_never_appears_and_json_is_plain(facts: DirectoryFacts) -> None:
    paths = takeover_paths(p_entry(), facts)
    assert "w" not in {p.by.object_id for p in paths}
    # one-step paths sort before two-step ones; the whole list is in its documented order, each route once
    assert [p.steps for p in paths] == sorted(p.steps for p in paths)
    how_order = list(TakeoverHow)
    assert list(paths) == sorted(paths, key=lambda p: (
        p.steps, how_order.index(p.how), p.by.display_name.lower(), p.by.object_id, p.detail, p.scope or "",
        p.target.value, p.via_groups))
    assert len(set(paths)) == len(paths)
    # a principal is marked as itself exactly when it is the one taken over
    assert all(p.itself == (p.by.object_id in {P_SP, P_APP}) for p in paths)
    access = analyse(registry(), [assignment("AcrPush", P_SP)], {}, {P_SP: p_principal()}, {})
    doc = to_json_with_takeover(access, facts)
    assert json.loads(json.dumps(doc)) == doc
    assert len(doc["entries"][0]["takeover"]) == len(paths)
    assert Right.PUSH in access.entries[0].rights


def test_json_of_many_entries_keeps_each_its_own_paths() -> None:
    # tenant-wide paths are shared between entries and rendered once; each entry's own paths stay its own
    principals = {f"sp{i}": dataclasses.replace(sp(f"sp{i}", f"bot {i}"), application_object_id=f"app{i}")
                  for i in range(30)}
    facts = DirectoryFacts(
        principals=(user("ga", "Gina"), *(user(f"o{i}", f"owner {i}") for i in range(30))),
        application_owners={f"app{i}": (user(f"o{i}", f"owner {i}"),) for i in range(30)},
        role_assignments=(role("ga", GLOBAL_ADMINISTRATOR),),
    )
    access = analyse(registry(), [assignment("AcrPush", f"sp{i}") for i in range(30)], {}, principals, {})
    doc = to_json_with_takeover(access, facts)
    for entry in doc["entries"]:
        i = entry["principal"]["objectId"].removeprefix("sp")
        assert [(t["by"]["displayName"], t["how"]) for t in entry["takeover"]] == [
            (f"owner {i}", "application-owner"), ("Gina", "directory-role")]
