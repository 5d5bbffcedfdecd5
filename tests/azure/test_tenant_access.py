"""The tenant-wide read (azure/tenant_access.py, issue 18) gives, for every registry, exactly what
`read_registry_access` gives for it alone, from role assignments read once per subscription.

Real HTTPS to a demo sandbox with the console's own clients. Beside the demo's stories the tenant
gets the cases a subscription-wide list must sort out: an assignment at the tenant root management
group (listed at a subscription because it sits above it), one on a resource group that holds no
registry (listed, not relevant to any registry), and a group assigned without `principalType`.

What the real API returns: Role Assignments - List For Scope without `$filter` lists the assignments
at, above and below the scope; `atScope()` narrows it to at and above (azure-rest-api-specs
`specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
authorization-RoleAssignmentsCalls.json`, the `$filter` parameter; learn.microsoft.com/azure/
role-based-access-control/role-assignments-list-rest). The sandbox serves both
(tests/sandbox/test_authorization.py checks its filters).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from acr_console.access import to_json
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.directory import merge_trees
from acr_console.azure.errors import AzureCallError
from acr_console.azure.registries import list_registries
from acr_console.azure.registry_access import read_registry_access
from acr_console.azure.tenant_access import iter_tenant_access, read_tenant_access
from acr_console.models import Group, Principal, PrincipalType
from acr_console.roles import builtin_by_name
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

tenant_sandbox = sandbox_fixture("tenant-access")
ACR_PULL = builtin_by_name("AcrPull").guid  # type: ignore[union-attr]
READER = builtin_by_name("Reader").guid  # type: ignore[union-attr]
ASSIGNMENTS_END = "/providers/Microsoft.Authorization/roleAssignments"


def _named(server: SandboxServer, otype: str, name: str) -> dict[str, Any]:
    assert server.sandbox is not None
    row = server.sandbox.store.row("SELECT doc FROM directory_objects WHERE type = ? AND display_name = ?",
                                   (otype, name))
    assert row is not None, name
    import json

    return dict(json.loads(row["doc"]))


@pytest.fixture(scope="module")
def tenant(tenant_sandbox: SandboxServer) -> SandboxServer:
    assert tenant_sandbox.sandbox is not None and tenant_sandbox.connection is not None
    store = tenant_sandbox.sandbox.store
    conn = tenant_sandbox.connection
    root_group = f"/providers/Microsoft.Management/managementGroups/{conn['tenant_id']}"
    sub = conn["subscriptions"][0]
    # Above every subscription: every registry's entries gain it.
    assign(store, root_group, ACR_PULL, _named(tenant_sandbox, "servicePrincipal", "helm-chart-publisher")["id"],
           "ServicePrincipal")
    # Below a subscription, on a resource group without a registry: no registry's entries gain it.
    assign(store, f"/subscriptions/{sub}/resourceGroups/rg-no-registries", ACR_PULL,
           _named(tenant_sandbox, "servicePrincipal", "nightly-cleanup-job")["id"], "ServicePrincipal")
    # A group assigned without principalType (ARM accepts it): its tree is expanded after getByIds.
    assign(store, f"/subscriptions/{sub}", READER, _named(tenant_sandbox, "group", "acr-pushers")["id"], "")
    # A nested group (acr-pushers ⊃ team-payments-ci) assigned on a registry of its own: its tree is
    # expanded from it as well as from acr-pushers, and every chain through it names it, as `access`
    # does, not by its id.
    payments = (f"/subscriptions/{stable_id('contoso', 'sub', 'prod')}/resourceGroups/rg-payments-prod/providers/"
                "Microsoft.ContainerRegistry/registries/contosopayments")
    assign(store, payments, ACR_PULL, _named(tenant_sandbox, "group", "team-payments-ci")["id"], "Group")
    return tenant_sandbox


@pytest.fixture
async def az(tenant: SandboxServer) -> AsyncIterator[AzureClients]:
    assert tenant.connection is not None
    async with AzureClients(sandbox_connection(tenant.connection)) as clients:
        yield clients


async def test_each_registry_is_what_access_reads_for_it(az: AzureClients) -> None:
    registries = (await list_registries(az)).registries
    assert len(registries) == 8
    seen: list[tuple[int, int]] = []
    tenant = [a async for a in iter_tenant_access(az, RoleDefinitions(az), progress=lambda d, k: seen.append((d, k)))]
    assert sorted(a.registry.name for a in tenant) == sorted(r.name for r in registries)
    assert seen[-1] == (8, 8)
    for access in tenant:
        alone = await read_registry_access(az, access.registry, RoleDefinitions(az))
        assert to_json(access) == to_json(alone), access.registry.name
    names = {e.principal.display_name for a in tenant for e in a.entries}
    assert "nightly-cleanup-job" in names  # it has rights of its own elsewhere…
    # …the management group's AcrPull reaches every registry in legacy mode (in ABAC mode it grants no
    # repository right); the empty resource group's reaches none.
    legacy = [a for a in tenant if a.registry.role_assignment_mode.short == "rbac"]
    assert legacy
    for access in legacy:
        by_name = {e.principal.display_name: e for e in access.entries}
        assert any(p.scope.lower().startswith("/providers/microsoft.management/")
                   for p in by_name["helm-chart-publisher"].paths), access.registry.name
    for access in tenant:
        assert not any("rg-no-registries" in p.scope for e in access.entries for p in e.paths)


async def test_role_assignments_are_read_once_per_subscription(tenant: SandboxServer, az: AzureClients) -> None:
    assert tenant.sandbox is not None and tenant.connection is not None
    store = tenant.sandbox.store
    since = store.last_request_seq()
    accesses = await read_tenant_access(az, RoleDefinitions(az))
    log = store.request_log(since)
    listed = [r["path"] for r in log if r["method"] == "GET" and r["path"].endswith(ASSIGNMENTS_END)]
    subscriptions = {f"/subscriptions/{s}{ASSIGNMENTS_END}".lower() for s in tenant.connection["subscriptions"]}
    with_registries = {f"/subscriptions/{a.registry.subscription_id}{ASSIGNMENTS_END}".lower() for a in accesses}
    # One list per subscription holding registries (the demo's pages are one each), none per registry.
    assert sorted(p.lower() for p in listed) == sorted(with_registries)
    assert with_registries <= subscriptions
    by_ids = [r for r in log if r["path"].endswith("/directoryObjects/getByIds")]
    assert 1 <= len(by_ids) <= len(with_registries)  # each subscription's new ids at most once
    # A role's id differs per subscription, its definition does not: each role is read once, though
    # the subscriptions' lists arrive side by side and each names it by its own id.
    roles = [r["path"].rsplit("/", 1)[-1].lower() for r in log if "/roleDefinitions/" in r["path"]]
    assert roles and len(roles) == len(set(roles))


async def test_a_failed_read_ends_the_iteration_with_its_error(tenant: SandboxServer, az: AzureClients) -> None:
    assert tenant.sandbox is not None
    tenant.sandbox.settings.faults = "graph.POST:500:n=99"
    try:
        with pytest.raises(AzureCallError) as info:
            await read_tenant_access(az, RoleDefinitions(az))
    finally:
        tenant.sandbox.settings.faults = []
    assert info.value.status == 500


async def test_given_registries_come_back_in_their_order(tenant: SandboxServer, az: AzureClients) -> None:
    """The console's principal view passes the registries it listed (tui/backend.py)."""
    from acr_console.azure.principals import read_all_access

    assert tenant.sandbox is not None
    registries = (await list_registries(az)).registries
    chosen = [registries[-1], registries[0]]  # two subscriptions, in an order of our own
    assert chosen[0].subscription_id != chosen[1].subscription_id
    since = tenant.sandbox.store.last_request_seq()
    accesses = await read_all_access(az, RoleDefinitions(az), chosen)
    assert [a.registry.id for a in accesses] == [r.id for r in chosen]
    listed = {r["path"].lower() for r in tenant.sandbox.store.request_log(since) if r["path"].endswith(ASSIGNMENTS_END)}
    assert listed == {f"/subscriptions/{r.subscription_id}{ASSIGNMENTS_END}".lower() for r in chosen}


async def test_progress_counts_every_registry_read(az: AzureClients) -> None:
    """What the console's tenant view shows while it reads ("3 of 8 registries read"): `progress(done,
    known)` through read_all_access, never going back, ending with every registry done."""
    from acr_console.azure.principals import read_all_access

    calls: list[tuple[int, int]] = []
    accesses = await read_all_access(az, RoleDefinitions(az), progress=lambda done, known: calls.append((done, known)))
    assert calls and calls[-1] == (len(accesses), len(accesses))
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(calls))
    assert all(done <= known for done, known in calls)


def test_merged_trees_keep_a_groups_name_whichever_answer_came_first() -> None:
    # group_tree names a group it was asked for by its id when no listing in that call named it
    # (team-payments-ci asked for on its own); another call that lists it nested (under acr-pushers)
    # has its name. Which call answers first is a matter of timing, so the merge must not depend on it.
    sp = Principal("sp-1", "payments-ci", PrincipalType.SERVICE_PRINCIPAL)
    on_its_own = ({"g-ci": Group("g-ci", "g-ci", ("sp-1",))}, {"sp-1": sp})
    nested = ({"g-push": Group("g-push", "acr-pushers", ("g-ci",)),
               "g-ci": Group("g-ci", "team-payments-ci", ("sp-1",))}, {"sp-1": sp})
    for answers in itertools.permutations([on_its_own, nested]):
        groups, members = merge_trees(answers)
        assert {gid: g.display_name for gid, g in groups.items()} == {
            "g-ci": "team-payments-ci", "g-push": "acr-pushers"}
        assert groups["g-ci"].member_ids == ("sp-1",) and members == {"sp-1": sp}
