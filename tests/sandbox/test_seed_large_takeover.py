"""`large:N` holds who could take over its principals (issue 17): owners, people, Entra role
assignments, Graph application permissions and federated credentials, consistent with one another and
with the shapes the sandbox's Graph modules store (graph_owners, graph_roles, graph_app_roles,
graph_federated). A small tenant, read from the store: the benchmark serves the big one."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from acr_console.access.federated import read_subject
from acr_console.sandbox.graph_app_roles import ROLE_ID_OF
from acr_console.sandbox.graph_federated import LIMIT, MAX_TEXT
from acr_console.sandbox.graph_roles import (
    APPLICATION_ADMINISTRATOR,
    CLOUD_APPLICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
    ROLE_DEFINITIONS,
    assignment_id,
)
from acr_console.sandbox.seed import apply_seed
from acr_console.sandbox.store import Store

N = 400
# graph_federated's name rule (workload-identity-federation-considerations: 3-120 characters,
# alphanumeric, dash or underscore, starting with a letter or digit).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("large") / "large.db")
    apply_seed(s, f"large:{N}", now=1_780_000_000.0)
    return s


def _types(store: Store) -> dict[str, str]:
    return {r["id"]: r["type"] for r in store.rows("SELECT id, type FROM directory_objects")}


def test_owners_point_at_existing_people_and_service_principals(store: Store) -> None:
    types = _types(store)
    rows = store.rows("SELECT object_id, owner_id FROM directory_owners")
    assert rows
    for r in rows:
        assert types.get(r["object_id"]) in ("application", "servicePrincipal"), r["object_id"]
        assert types.get(r["owner_id"]) in ("user", "servicePrincipal"), r["owner_id"]
    apps = [i for i, t in types.items() if t == "application"]
    owned = Counter(r["object_id"] for r in rows if types[r["object_id"]] == "application")
    with_owner = sum(1 for a in apps if owned[a])
    # The seed's rates: about 80 % of applications have an owner, most one or two.
    assert 0.65 * len(apps) <= with_owner <= 0.92 * len(apps)
    assert max(owned.values()) <= 2
    assert any(types[r["owner_id"]] == "servicePrincipal" for r in rows)  # automation owns some
    assert any(types[r["object_id"]] == "servicePrincipal" for r in rows)  # some enterprise-app owners
    users = [i for i, t in types.items() if t == "user"]
    assert len(users) >= len(apps) // 10  # one developer per ten applications
    for uid in users:
        doc = json.loads(store.rows("SELECT doc FROM directory_objects WHERE id = ?", (uid,))[0]["doc"])
        assert doc["userPrincipalName"].endswith(".onmicrosoft.com") and doc["userType"] == "Member"


def test_role_assignments_name_existing_principals_roles_and_scopes(store: Store) -> None:
    types = _types(store)
    known_roles = {tid for tid, *_ in ROLE_DEFINITIONS}
    rows = store.rows("SELECT * FROM directory_role_assignments")
    for r in rows:
        assert r["role_definition_id"] in known_roles
        ptype = types.get(r["principal_id"])
        assert ptype in ("user", "group", "servicePrincipal"), r["principal_id"]
        if ptype == "group":  # only role-assignable groups hold Entra roles (groups-concept)
            doc = json.loads(store.rows("SELECT doc FROM directory_objects WHERE id = ?",
                                        (r["principal_id"],))[0]["doc"])
            assert doc["isAssignableToRole"] is True
            members = store.rows("SELECT member_id FROM group_members WHERE group_id = ?", (r["principal_id"],))
            assert members and all(types.get(m["member_id"]) == "user" for m in members)
        scope = r["directory_scope_id"]
        assert scope == "/" or types.get(scope[1:]) == "application", scope
        assert r["id"] == assignment_id(r["role_definition_id"], r["principal_id"], scope)
    tenant = Counter(r["role_definition_id"] for r in rows if r["directory_scope_id"] == "/")
    assert 1 <= tenant[GLOBAL_ADMINISTRATOR] < 5  # Microsoft: fewer than five Global Administrators
    assert tenant[APPLICATION_ADMINISTRATOR] >= 2 and tenant[CLOUD_APPLICATION_ADMINISTRATOR] >= 2
    assert any(r["directory_scope_id"] != "/" for r in rows)  # some scoped to one application
    assert any(types[r["principal_id"]] == "group" for r in rows)


def test_graph_permissions_are_held_by_existing_service_principals(store: Store) -> None:
    types = _types(store)
    grants = store.rows("SELECT principal_id, permission FROM directory_grants")
    held = Counter(g["permission"] for g in grants)
    for g in grants:
        assert types.get(g["principal_id"]) == "servicePrincipal"
        assert g["permission"] in ROLE_ID_OF
    # At least one seeded holder of each beside the sandbox's admin (which holds the first three).
    for permission in ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
                       "RoleManagement.ReadWrite.Directory", "Application.ReadWrite.OwnedBy"):
        assert held[permission] >= 2, permission
    # The automation principals that own applications hold Application.ReadWrite.OwnedBy.
    owned_by = {g["principal_id"] for g in grants if g["permission"] == "Application.ReadWrite.OwnedBy"}
    sp_owners = {r["owner_id"] for r in store.rows("SELECT owner_id FROM directory_owners")
                 if types[r["owner_id"]] == "servicePrincipal"}
    assert sp_owners and sp_owners <= owned_by


def test_federated_credentials_are_valid_and_read_as_workloads(store: Store) -> None:
    types = _types(store)
    rows = store.rows("SELECT id, application_id, doc FROM federated_credentials")
    per_app: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        assert types.get(r["application_id"]) == "application"
        doc = json.loads(r["doc"])
        assert doc["id"] == r["id"]
        per_app.setdefault(r["application_id"], []).append(doc)
        assert NAME.match(doc["name"])
        assert doc["audiences"] == ["api://AzureADTokenExchange"]
        assert 0 < len(doc["issuer"]) <= MAX_TEXT and 0 < len(doc["subject"]) <= MAX_TEXT
        reading = read_subject(doc["issuer"], doc["subject"])
        assert reading.kind in ("github", "kubernetes"), doc
        if reading.kind == "github":
            assert reading.repository and reading.repository.startswith("contoso/") and not reading.customised
        else:
            assert reading.aks and reading.namespace and reading.service_account
    for docs in per_app.values():
        assert len(docs) <= LIMIT
        assert len({d["name"] for d in docs}) == len(docs)
        assert len({(d["issuer"], d["subject"]) for d in docs}) == len(docs)
    apps = sum(1 for t in types.values() if t == "application")
    assert 0.08 * apps <= len(per_app) <= 0.25 * apps  # the seed's 15 %


def test_the_same_tenant_every_time(store: Store, tmp_path: Path) -> None:
    again = Store(tmp_path / "again.db")
    apply_seed(again, f"large:{N}", now=1_780_000_000.0)
    for sql in ("SELECT object_id, owner_id FROM directory_owners",
                "SELECT id, principal_id, role_definition_id, directory_scope_id FROM directory_role_assignments",
                "SELECT principal_id, permission FROM directory_grants",
                "SELECT id, application_id, doc FROM federated_credentials"):
        assert {tuple(r) for r in store.rows(sql)} == {tuple(r) for r in again.rows(sql)}, sql


def test_role_assignment_managers_hold_the_documented_permission() -> None:
    """Global Administrator and Privileged Role Administrator manage role assignments through
    `microsoft.directory/roleAssignments/allProperties/allTasks` ("Create and delete role assignments,
    and read and update all role assignment properties"): MicrosoftDocs/entra-docs,
    docs/identity/role-based-access-control/includes/privileged-role-administrator.md and
    includes/global-administrator.md, the per-role tables of the permissions reference. The sandbox
    serves it as written there, as the console's role table (data/entra_roles.json) has it."""
    from acr_console.access.entra_roles import builtin_directory_roles
    from acr_console.sandbox.graph_roles import PRIVILEGED_ROLE_ADMINISTRATOR, definition_doc

    documented = "microsoft.directory/roleAssignments/allProperties/allTasks"
    table = builtin_directory_roles()
    for role in (GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR):
        served = definition_doc(role)["rolePermissions"][0]["allowedResourceActions"]
        assert documented in served
        assert not any(a.startswith("microsoft.directory/roleAssignments/") and a != documented for a in served)
    assert documented in table[PRIVILEGED_ROLE_ADMINISTRATOR][1]
