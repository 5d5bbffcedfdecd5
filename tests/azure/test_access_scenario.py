"""`access --json` against a scenario built through the SDKs, checked exactly.

The tenant starts empty (only the sandbox admin, Owner of every subscription). The scenario adds, on
one legacy and one ABAC registry: an AcrPull-only principal, a pusher reached through two nested
groups, a Contributor inherited from the resource group, a custom role, and an ABAC Repository
Writer limited by a condition. Every expectation below is written from the role facts
(docs/reference/acr-access.md §1), not read back from the code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.graph import graph_json
from acr_console.roles import builtin_by_name
from acr_console.sandbox.server import SandboxServer

from ..support.sandbox import sandbox_fixture

RG = "rg-scenario"
LEGACY, ABAC = "scenarioacr", "scenarioabac"
CONDITION = (
    "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/write'}) AND "
    "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/write'})) OR "
    "(@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'team-a/'))"
)
LEGACY_OWNER_RIGHTS = ["delete", "pull", "push", "quarantineRead", "quarantineWrite", "sign"]


empty_sandbox = sandbox_fixture("scenario", seed="empty")


@pytest.fixture
async def az(empty_sandbox: SandboxServer) -> AsyncIterator[AzureClients]:
    assert empty_sandbox.connection is not None
    async with AzureClients(sandbox_connection(empty_sandbox.connection)) as clients:
        yield clients


async def _principal(az: AzureClients, name: str) -> dict[str, str]:
    app = await graph_json(az, "POST", "applications", body={"displayName": name})
    sp = await graph_json(az, "POST", "servicePrincipals", body={"appId": app["appId"]})
    return {"objectId": sp["id"], "appId": sp["appId"], "displayName": name}


async def _group(az: AzureClients, name: str, member_ids: list[str]) -> str:
    group = await graph_json(az, "POST", "groups", body={
        "displayName": name, "mailEnabled": False, "mailNickname": name, "securityEnabled": True})
    for mid in member_ids:
        await graph_json(az, "POST", f"groups/{group['id']}/members/$ref",
                         body={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{mid}"})
    return group["id"]


async def _assign(az: AzureClients, sub: str, scope: str, role_guid: str, principal_id: str, ptype: str,
                  condition: str | None = None) -> None:
    props: dict[str, Any] = {
        "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}",
        "principalId": principal_id, "principalType": ptype,
    }
    if condition:
        props |= {"condition": condition, "conditionVersion": "2.0"}
    await az.authorization_client(sub).role_assignments.create(scope, str(uuid.uuid4()), {"properties": props})


def _guid(role: str) -> str:
    found = builtin_by_name(role)
    assert found is not None
    return found.guid


@pytest.fixture(scope="module")
def scenario(empty_sandbox: SandboxServer) -> dict[str, Any]:
    """Built once per module, through the console's client factory (real SDK clients, real HTTPS)."""
    import asyncio

    from azure.mgmt.containerregistry.models import Registry as RegistryModel
    from azure.mgmt.containerregistry.models import Sku

    conn = empty_sandbox.connection
    assert conn is not None
    sub = conn["subscriptions"][0]

    async def build() -> dict[str, Any]:
        async with AzureClients(sandbox_connection(conn)) as az:
            await az.arm_json("PUT", f"/subscriptions/{sub}/resourcegroups/{RG}", {"api-version": "2022-09-01"},
                              {"location": "westeurope"})
            acr = az.registry_client(sub)
            for name, mode in ((LEGACY, "LegacyRegistryPermissions"), (ABAC, "AbacRepositoryPermissions")):
                poller = await acr.registries.begin_create(RG, name, RegistryModel(
                    location="westeurope", sku=Sku(name="Standard"), role_assignment_mode=mode))
                await poller.result()
            rg_scope = f"/subscriptions/{sub}/resourceGroups/{RG}"
            legacy = f"{rg_scope}/providers/Microsoft.ContainerRegistry/registries/{LEGACY}"
            abac = f"{rg_scope}/providers/Microsoft.ContainerRegistry/registries/{ABAC}"
            p = {n: await _principal(az, n) for n in
                 ("sc-puller", "sc-nested-pusher", "sc-rg-contributor", "sc-promoter", "sc-abac-writer")}
            inner = await _group(az, "sc-inner", [p["sc-nested-pusher"]["objectId"]])
            outer = await _group(az, "sc-outer", [inner])
            promoter_guid = str(uuid.uuid4())
            await az.authorization_client(sub).role_definitions.create_or_update(
                f"/subscriptions/{sub}", promoter_guid, {"properties": {
                    "roleName": "Scenario Image Promoter", "description": "pull and push, nothing else",
                    "type": "CustomRole", "assignableScopes": [f"/subscriptions/{sub}"],
                    "permissions": [{"actions": ["Microsoft.ContainerRegistry/registries/pull/read",
                                                 "Microsoft.ContainerRegistry/registries/push/write"],
                                     "notActions": [], "dataActions": [], "notDataActions": []}]}})
            sp = "ServicePrincipal"
            await _assign(az, sub, legacy, _guid("AcrPull"), p["sc-puller"]["objectId"], sp)
            await _assign(az, sub, legacy, _guid("AcrPush"), outer, "Group")
            await _assign(az, sub, rg_scope, _guid("Contributor"), p["sc-rg-contributor"]["objectId"], sp)
            await _assign(az, sub, legacy, promoter_guid, p["sc-promoter"]["objectId"], sp)
            await _assign(az, sub, abac, _guid("AcrPush"), p["sc-puller"]["objectId"], sp)
            await _assign(az, sub, abac, _guid("Container Registry Repository Writer"),
                          p["sc-abac-writer"]["objectId"], sp, CONDITION)
            return {"sub": sub, "legacy": legacy, "abac": abac, "rg": rg_scope, "principals": p}

    return asyncio.run(build())


def _access_json(server: SandboxServer, registry: str) -> dict[str, Any]:
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(server.data_dir), "access",
                             registry, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    for entry in doc["entries"]:  # issue 16: each assignment's path names it (unassign --assignment-id)
        for path in entry["paths"]:
            assignment_id = path.pop("assignmentId")
            if path["kind"] == "role-assignment":
                assert assignment_id.startswith(path["scope"] + "/providers/Microsoft.Authorization/roleAssignments/")
            else:
                assert assignment_id is None
    return doc


def _who(p: dict[str, str], ptype: str = "servicePrincipal") -> dict[str, Any]:
    return {"objectId": p["objectId"], "appId": p["appId"], "displayName": p["displayName"], "type": ptype,
            "enabled": True}


def _path(role: str, scope: str, rights: list[str], *, inherited: bool = False, via: list[str] | None = None,
          repositories: list[str] | None = None, confidence: str = "direct") -> dict[str, Any]:
    return {"kind": "role-assignment", "role": role, "scope": scope, "inherited": inherited,
            "viaGroups": via or [], "repositories": repositories, "confidence": confidence, "rights": rights,
            "possible": []}


def test_legacy_registry_access_is_exact(empty_sandbox: SandboxServer, scenario: dict[str, Any]) -> None:
    doc = _access_json(empty_sandbox, LEGACY)
    p = scenario["principals"]
    sub_scope = f"/subscriptions/{scenario['sub']}"
    admin = empty_sandbox.connection["admin"]["client_id"]  # type: ignore[index]
    assert doc["registry"] == {"id": scenario["legacy"], "name": LEGACY, "loginServer": f"{LEGACY}.azurecr.io",
                               "mode": "rbac", "adminUserEnabled": False}
    entries = {e["principal"]["displayName"]: e for e in doc["entries"]}
    assert list(entries) == sorted(entries, key=str.lower), "entries are sorted by display name"
    assert set(entries) == {"acr-console-sandbox-admin", "sc-nested-pusher", "sc-promoter", "sc-puller",
                            "sc-rg-contributor"}
    owner = entries["acr-console-sandbox-admin"]
    assert owner["principal"]["appId"] == admin
    # Owner's `*` holds every legacy data right; what it adds is the power to grant roles.
    assert (owner["pull"], owner["push"], owner["delete"]) == (True, True, True)
    assert owner["latent"] == ["can-grant-itself-push"]
    assert owner["paths"] == [_path("Owner", sub_scope, LEGACY_OWNER_RIGHTS, inherited=True)]

    puller = entries["sc-puller"]
    assert puller == {"principal": _who(p["sc-puller"]), "orphaned": False, "pull": True, "push": False,
                      "delete": False, "latent": [], "paths": [_path("AcrPull", scenario["legacy"], ["pull"])]}

    nested = entries["sc-nested-pusher"]
    assert nested == {"principal": _who(p["sc-nested-pusher"]), "orphaned": False, "pull": True, "push": True,
                      "delete": False, "latent": [],
                      "paths": [_path("AcrPush", scenario["legacy"], ["pull", "push"], via=["sc-outer", "sc-inner"])]}

    promoter = entries["sc-promoter"]
    assert promoter == {"principal": _who(p["sc-promoter"]), "orphaned": False, "pull": True, "push": True,
                        "delete": False, "latent": [],
                        "paths": [_path("Scenario Image Promoter", scenario["legacy"], ["pull", "push"])]}

    contributor = entries["sc-rg-contributor"]
    # Contributor is Owner without Microsoft.Authorization writes: every data right, no role granting;
    # its other latent powers (admin user, tokens, import, tasks) give nothing it does not already hold.
    assert contributor == {"principal": _who(p["sc-rg-contributor"]), "orphaned": False, "pull": True,
                           "push": True, "delete": True, "latent": [],
                           "paths": [_path("Contributor", scenario["rg"], LEGACY_OWNER_RIGHTS, inherited=True)]}


def test_abac_registry_access_is_exact(empty_sandbox: SandboxServer, scenario: dict[str, Any]) -> None:
    doc = _access_json(empty_sandbox, ABAC)
    p = scenario["principals"]
    assert doc["registry"]["mode"] == "abac"
    entries = {e["principal"]["displayName"]: e for e in doc["entries"]}
    # AcrPush means nothing on an ABAC registry, so sc-puller is not listed at all; Contributor and
    # Owner keep only control-plane powers.
    assert "sc-puller" not in entries
    writer = entries["sc-abac-writer"]
    assert (writer["pull"], writer["push"], writer["delete"]) == (True, True, False)
    assert writer["principal"] == _who(p["sc-abac-writer"])
    # The condition limits only writes: pull is registry-wide, push only under team-a/.
    assert writer["paths"] == [
        _path("Container Registry Repository Writer", scenario["abac"], ["pull"]),
        _path("Container Registry Repository Writer", scenario["abac"], ["push"], repositories=["team-a/*"],
              confidence="conditional"),
    ]
    owner = entries["acr-console-sandbox-admin"]
    assert (owner["pull"], owner["push"], owner["delete"]) == (False, False, False)
    # Holding no data right here, Owner's control-plane powers are all routes to push: enable the admin
    # user, mint a token, import an image, or grant itself a Repository role. Tasks count only in legacy
    # mode, and reading the admin password only when the admin user is on.
    assert owner["latent"] == ["can-create-registry-tokens", "can-enable-admin-user", "can-grant-itself-push",
                               "can-import-images"]
    contributor = entries["sc-rg-contributor"]
    assert (contributor["pull"], contributor["push"], contributor["delete"]) == (False, False, False)
    assert "can-enable-admin-user" in contributor["latent"]
    assert "can-grant-itself-push" not in contributor["latent"]


def test_requests_grow_by_batches_not_per_principal(empty_sandbox: SandboxServer, scenario: dict[str, Any]) -> None:
    """Adding 60 more principals (30 direct, 30 through a group) adds no request to `access`."""
    import asyncio

    store = empty_sandbox.sandbox.store  # type: ignore[union-attr]

    def count_access_requests() -> list[str]:
        before = store.last_request_seq()
        _access_json(empty_sandbox, LEGACY)
        # Finding the registry by name stops at the first subscription that answers with it, so
        # whether another subscription's list was already asked for is a race; the reads that
        # could grow with the principals are the rest.
        return sorted(f"{r['method']} {r['path']} {r['status']}" for r in store.request_log(before)
                      if not r["path"].endswith("/providers/Microsoft.ContainerRegistry/registries"))

    baseline = count_access_requests()
    conn = empty_sandbox.connection
    assert conn is not None

    async def grow() -> None:
        async with AzureClients(sandbox_connection(conn)) as az:
            direct = [await _principal(az, f"sc-bulk-{i}") for i in range(30)]
            grouped = [await _principal(az, f"sc-grouped-{i}") for i in range(30)]
            group = await _group(az, "sc-bulk-group", [g["objectId"] for g in grouped])
            for d in direct:
                await _assign(az, scenario["sub"], scenario["legacy"], _guid("AcrPull"), d["objectId"],
                              "ServicePrincipal")
            await _assign(az, scenario["sub"], scenario["legacy"], _guid("AcrPull"), group, "Group")

    asyncio.run(grow())
    grown = count_access_requests()
    assert grown == baseline, f"requests for 5 principals: {baseline}; for 65: {grown}"
    # And what those requests are: no per-principal Graph GETs.
    before = store.last_request_seq()
    _access_json(empty_sandbox, LEGACY)
    paths = [r["path"] for r in store.request_log(before)]
    assert not any("/servicePrincipals/" in path for path in paths), paths
    assert sum("getByIds" in path for path in paths) == 1
