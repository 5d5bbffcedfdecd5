"""The Graph reads of issue 17 (acr_console/azure/takeover_reads.py) through the real msgraph-sdk request
adapter over HTTPS to the sandbox, on the demo seed's takeover stories (acr_console/sandbox/seed.py:
DEMO_PEOPLE, DEMO_OWNERS, DEMO_GRAPH_APPS, DEMO_FEDERATED), with pages of two items where the reads send
no `$top`, so that a role's assignments beyond two follow `@odata.nextLink` (learn.microsoft.com/graph/paging).

What is checked is what the directory holds, as the seed put it, and how many requests and dependent
rounds the reads took (the figures the README quotes for contosoprod are measured by the first test)."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from acr_console.access import filter_entries
from acr_console.access.entra_roles import APPLICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR
from acr_console.azure.authorization import RoleDefinitions
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.registry_access import find_registry, read_registry_access
from acr_console.azure.takeover_reads import ReadCount, read_takeover_facts
from acr_console.models import DirectoryFacts, PrincipalType, RegistryAccess, Right
from acr_console.sandbox.context import Settings
from acr_console.sandbox.faults import parse_faults
from acr_console.sandbox.server import SandboxServer
from tests.sandbox.test_takeover_graph import ENTRA_ROLE_IDS, admin, new_user
from tests.support.sandbox import running_sandbox


@pytest.fixture(scope="module")
def paged_sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(Path(tempfile.mkdtemp(prefix="takeover-reads-")), settings=Settings(page_size=2)) as s:
        yield s


@pytest.fixture
async def az(paged_sandbox: SandboxServer) -> AsyncIterator[AzureClients]:
    assert paged_sandbox.connection is not None
    async with AzureClients(sandbox_connection(paged_sandbox.connection)) as clients:
        yield clients


async def _read(az: AzureClients, right: Right | None = None) -> tuple[RegistryAccess, DirectoryFacts, ReadCount]:
    registry = await find_registry(az, "contosoprod")
    access = await read_registry_access(az, registry, RoleDefinitions(az))
    if right is not None:
        access = dataclasses.replace(access, entries=filter_entries(access, right))
    count = ReadCount()
    access, facts = await read_takeover_facts(az, access, count)
    return access, facts, count


def _names(principals: Any) -> set[str]:
    return {p.display_name for p in principals}


async def test_the_demo_directory_facts_are_read_in_one_wave(az: AzureClients) -> None:
    access, facts, count = await _read(az)
    by_name = {e.principal.display_name: e for e in access.entries}
    payments = by_name["github-actions-payments"].principal
    web = by_name["github-actions-web"].principal
    # Each service principal with a right now names its application, which keys its owners and credentials.
    assert payments.application_object_id is not None and web.application_object_id is not None
    assert _names(facts.application_owners[payments.application_object_id]) == {"Dana Whitfield"}
    assert _names(facts.service_principal_owners[web.object_id or ""]) == {"Dana Whitfield"}
    assert _names(facts.application_owners[web.application_object_id]) == {"terraform-platform-prod"}
    assert {c.name for c in facts.federated_credentials[payments.application_object_id]} == {
        "payments-main", "payments-release"}
    # Managed identities take no credential: nothing is read for them.
    kubelet = by_name["aks-prod-weu-kubelet"].principal
    assert kubelet.type is PrincipalType.MANAGED_IDENTITY and kubelet.object_id not in facts.service_principal_owners
    # Role assignments with their holders (expanded inline: no getByIds), and the Graph permissions held.
    names = {(p.object_id or "").lower(): p.display_name for p in facts.principals}
    holders = {(a.role_definition_id, names[a.principal_id], a.directory_scope_id) for a in facts.role_assignments}
    assert (APPLICATION_ADMINISTRATOR, "Erin Oduya", "/") in holders
    assert (PRIVILEGED_ROLE_ADMINISTRATOR, "Priya Raman", "/") in holders
    search_app = by_name["github-actions-search"].principal.application_object_id
    assert any(name == "Marco Bianchi" and scope == f"/{search_app}" for _r, name, scope in holders)
    permissions = {(a.principal_display_name, a.permission) for a in facts.app_role_assignments}
    assert ("app-inventory-monitor", "Application.ReadWrite.All") in permissions
    assert ("entitlement-sync", "AppRoleAssignment.ReadWrite.All") in permissions
    assert ("terraform-platform-prod", "Application.ReadWrite.OwnedBy") in permissions
    # No role is held through a group in the demo: one wave of batches, plus the pages after the first
    # (pages of two here). Printed for the README's figures (`pytest -s`).
    assert count.waves == 1
    assert count.http_calls < count.requests
    print(f"\ncontosoprod (pages of 2): {count.requests} requests, {count.http_calls} HTTP calls, "
          f"{count.waves} wave(s)")


async def test_group_holders_are_expanded_and_can_push_narrows_the_reads(az: AzureClients,
                                                                          paged_sandbox: SandboxServer) -> None:
    """A role-assignable group holding Application Administrator at the tenant: its member is in the
    facts (group_tree, one more wave); and reading for `--can push` only reads for the pushers."""
    conn = paged_sandbox.connection
    assert conn is not None
    g = admin(conn)
    member = new_user(g, "tenant-app-admin")
    group = g.ok(g.post("groups", {"displayName": "tenant-app-admins", "mailEnabled": False,
                                   "mailNickname": "tenant-app-admins", "securityEnabled": True,
                                   "isAssignableToRole": True}), 201)
    assert g.post(f"groups/{group['id']}/members/$ref", g.ref(member["id"])).status_code == 204
    direct = new_user(g, "direct-app-admin")
    for holder in (group["id"], direct["id"]):  # with Erin Oduya, three: more than a page of two
        g.ok(g.post("roleManagement/directory/roleAssignments", {
            "roleDefinitionId": ENTRA_ROLE_IDS["Application Administrator"], "principalId": holder,
            "directoryScopeId": "/"}), 201)
    g.http.close()

    _, facts, count = await _read(az)
    [expanded] = [x for x in facts.groups if x.object_id == group["id"].lower()]
    assert expanded.member_ids == (member["id"].lower(),)
    assert member["id"].lower() in {(p.object_id or "").lower() for p in facts.principals}
    assert count.waves == 2
    app_admins = {a.principal_id for a in facts.role_assignments if a.role_definition_id == APPLICATION_ADMINISTRATOR}
    assert {group["id"].lower(), direct["id"].lower()} < app_admins and len(app_admins) == 3

    pushers, narrow, narrow_count = await _read(az, Right.PUSH)
    read_for = set(narrow.service_principal_owners)
    assert read_for == {(e.principal.object_id or "").lower() for e in pushers.entries
                        if e.principal.type is PrincipalType.SERVICE_PRINCIPAL}
    assert read_for < set(facts.service_principal_owners)
    assert narrow_count.requests < count.requests


async def test_throttled_batches_are_sent_again(tmp_path: Path) -> None:
    """Graph answers 429 with Retry-After when throttled (learn.microsoft.com/graph/throttling); the
    reads' `$batch` calls go through the retry that honours it, and the facts come out whole. The fault
    is armed after the access reads, so that it hits the takeover reads' first two batches."""
    with running_sandbox(tmp_path) as server:
        assert server.connection is not None and server.sandbox is not None
        async with AzureClients(sandbox_connection(server.connection)) as clients:
            registry = await find_registry(clients, "contosoprod")
            access = await read_registry_access(clients, registry, RoleDefinitions(clients))
            server.sandbox.settings.faults = parse_faults("graph.POST:429:n=2:retry_after=1")
            access, facts = await read_takeover_facts(clients, access)
            assert server.sandbox.settings.faults[0].remaining == 0  # both were spent on these reads
    payments = next(e.principal for e in access.entries if e.principal.display_name == "github-actions-payments")
    assert payments.application_object_id is not None
    assert _names(facts.application_owners[payments.application_object_id]) == {"Dana Whitfield"}
    assert {a.principal_display_name for a in facts.app_role_assignments} >= {"app-inventory-monitor",
                                                                              "entitlement-sync"}
